"""RawTx statements (store/statements.py): written once with named parameters, translated for
each driver by SQLAlchemy. A `?` or `%` in a string literal or a comment, a `::` cast and
PostgreSQL's jsonb `?` operator run as written on both engines, where the text replacement
of `?` by `%s` it replaced broke each of them."""

from __future__ import annotations

import pytest

from opengroup.store.statements import Statement

from .helpers import make_room, open_database

_RENAME = Statement("UPDATE rooms SET name = :name WHERE pk = :pk")
# A literal percent sign and question marks, in literals and in a comment, around parameters
# (one of them used twice).
_LITERALS = Statement("""
SELECT name LIKE '50%', name LIKE :pattern, '?' || name, name = :name, :name || '%?'
FROM rooms -- why: a ? or a % here is no placeholder either
WHERE pk = :pk""")
# The same answer, in each engine's own SQL: a `::` cast and the jsonb `?` operator on
# PostgreSQL.
_PER_ENGINE = Statement(
    "SELECT CAST(:n AS integer) + 1, json_extract('{\"a\": 1}', '$.a') IS NOT NULL",
    postgres="SELECT CAST(:n AS integer) + 1, '{\"a\": 1}'::jsonb ? 'a'",
)
_NO_PARAMETERS = Statement("SELECT '100%' || '?'")


def test_literal_percent_and_question_marks_run_as_written(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.write_raw() as tx:
        tx.run(_RENAME, ("50% off?", room.pk))
    with db.read_raw() as tx:
        row = tx.one(_LITERALS, ("50%", "50% off?", room.pk))
        per_engine = tx.one(_PER_ENGINE, (41,))
        bare = tx.one(_NO_PARAMETERS)
    assert row is not None
    assert [bool(row[0]), bool(row[1]), row[2], bool(row[3]), row[4]] == [
        True,
        True,
        "?50% off?",
        True,
        "50% off?%?",
    ]
    assert per_engine is not None and (per_engine[0], bool(per_engine[1])) == (42, True)
    assert bare == ("100%?",)
    db.dispose()


def test_run_many_lays_out_a_name_used_twice(db_url: str) -> None:
    db = open_database(db_url)
    rooms = [make_room(db, "one"), make_room(db, "two")]
    twice = Statement("UPDATE rooms SET name = :name || '/' || :name WHERE pk = :pk")
    with db.write_raw() as tx:
        tx.run_many(twice, [("a%", rooms[0].pk), ("b?", rooms[1].pk)])
    with db.read_raw() as tx:
        names = tx.all(Statement("SELECT name FROM rooms ORDER BY pk"))
    assert [name for (name,) in names] == ["a%/a%", "b?/b?"]
    db.dispose()


def test_each_driver_gets_its_own_placeholders() -> None:
    assert _LITERALS.names == ("pattern", "name", "pk")
    assert "'50%%'" in _LITERALS.postgres and "'?' ||" in _LITERALS.postgres
    assert "'50%'" in _LITERALS.sqlite and "%s" not in _LITERALS.sqlite
    assert _LITERALS.sqlite.count("?") == 4 + 3  # four placeholders, three literal marks
    assert _RENAME.sqlite_spread is None and _RENAME.postgres_spread is None


def test_the_values_of_a_name_used_twice_are_counted() -> None:
    spread = _LITERALS.sqlite_spread
    assert spread is not None
    assert spread(("p", "n", 1)) == ("p", "n", "n", 1)
    with pytest.raises(TypeError, match="3 values expected"):
        spread(("p", "n", 1, "one too many"))


def test_what_text_would_not_see_as_a_parameter_is_refused() -> None:
    with pytest.raises(ValueError, match="CAST"):
        Statement("SELECT :n::integer")
    with pytest.raises(ValueError, match="other parameters"):
        Statement("SELECT :a, :b", postgres="SELECT :b, :a")
