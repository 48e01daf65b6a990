"""`opengroup db copy`: every row of every table, both ways, into an empty database only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from opengroup.cli.main import main
from opengroup.store import Database, message_rows
from opengroup.store import auth as token_store
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.copy import TABLES, CopyError, copy_database
from opengroup.store.schema import files
from tests.support.databases import DatabaseFactory

from .helpers import NOW, USER, open_database

OTHER = "05" + "cd" * 32
PAIRS = [
    pytest.param("sqlite", "postgres", marks=pytest.mark.postgres, id="sqlite-to-postgres"),
    pytest.param("postgres", "sqlite", marks=pytest.mark.postgres, id="postgres-to-sqlite"),
    pytest.param("sqlite", "sqlite", id="sqlite-to-sqlite"),
]


def populate(db: Database) -> None:
    """A little of everything: rooms (one deleted, so pks have a hole), messages, deletions,
    moderators, bans, tokens, activity, files and server facts."""
    with db.write() as tx:
        room_store.create_first_room(tx, "main", "Main", NOW)
        doomed = room_store.create_room(tx, "doomed", "Doomed", NOW)
        room_store.delete_room(tx, doomed)
        room = room_store.create_room(tx, "lounge", "Lounge ☕", NOW + 0.25)
        for n in range(30):
            message_store.insert_message(tx, room, USER, 1_000 + n, f"ZGF0YQ{n}==", "c2ln")
        message_store.delete_messages(tx, room, [3, 5, 8], NOW + 3)
        message_rows.edit_message(tx, room, 9, b"edited", b"s" * 64, NOW + 4)
        user_store.upsert_user_seen(tx, "15" + "ab" * 32, USER, NOW)
        user_store.record_nonce(tx, "15" + "ab" * 32, b"\x07" * 16, NOW + 86_460)
        moderation_store.add_moderator(tx, room, OTHER)
        moderation_store.add_global_moderator(tx, USER)
        moderation_store.ban(tx, room, "05" + "ef" * 32)
        token_store.add_claimed_token(tx, room, USER, b"\x01" * 32, NOW + 1)
        token_store.add_claimed_token(tx, room, OTHER, b"\xfe" * 32, NOW)
        token_store.touch_tokens(tx, [(b"\x01" * 32, room.pk, USER)], NOW + 2.5)
        tx.execute(
            files.insert(),
            [
                {"id": 2**31 + 7, "room_pk": room.pk, "size": 3, "uploader": USER,
                 "created_at": NOW, "expires_at": NOW + 86_400.5},
                {"id": 2**52, "room_pk": room.pk, "size": 5, "uploader": None,
                 "created_at": NOW, "expires_at": None},
            ],
        )  # fmt: skip
        room_store.set_room_image(tx, room, 2**52)


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as tx:
        return {
            table.name: [
                tuple(row) for row in tx.execute(select(table).order_by(*table.primary_key))
            ]
            for table in TABLES
        }


@pytest.mark.parametrize(("source_kind", "target_kind"), PAIRS)
def test_copy_moves_every_row_and_new_rows_continue_after_them(
    database_factory: DatabaseFactory, source_kind: str, target_kind: str
) -> None:
    source = open_database(source_url := database_factory(source_kind))
    populate(source)
    target_url = database_factory(target_kind)
    totals: list[int] = []
    progressed: list[int] = []

    counts = copy_database(
        source_url, target_url, on_total=totals.append, progress=progressed.append
    )

    before = dump(source)
    target = Database(target_url)
    assert dump(target) == before
    assert {c.table: c.target for c in counts} == {name: len(rows) for name, rows in before.items()}
    assert totals == [sum(progressed)] == [sum(len(rows) for rows in before.values())]
    with target.write() as tx:  # the pk sequence moved past the copied rooms
        room = room_store.create_room(tx, "after", "After", NOW)
        assert room.pk == max(row[0] for row in before["rooms"]) + 1
        assert message_store.insert_message(tx, room, USER, 1, "", "").server_id == 1
        lounge = room_store.get_room(tx, "lounge")
        assert lounge is not None
        assert message_store.insert_message(tx, lounge, USER, 1, "", "").server_id == 31
        # A deletion's id is the seqno it takes (SOGS-API.md 1.2): 30 posts, 3 deletions,
        # an edit and the post above took 1..35.
        assert [d.id for d in message_store.delete_messages(tx, lounge, [1])] == [36]
    source.dispose()
    target.dispose()


def test_copy_refuses_a_target_with_rows_and_leaves_it_alone(
    database_factory: DatabaseFactory, db_url: str
) -> None:
    source_url = database_factory("sqlite")
    populate(open_database(source_url))
    target = open_database(db_url)
    with target.write() as tx:
        room_store.create_room(tx, "mine", "Mine", NOW)
    with pytest.raises(CopyError, match=r"not empty \(rooms has 1 rows\)"):
        copy_database(source_url, db_url)
    assert dump(target)["rooms"] == [
        (1, "mine", "Mine", None, 0, 0, NOW, 0, 1, None, True, True, True, True)
    ]
    target.dispose()


def test_copy_refuses_a_target_with_other_tables(
    database_factory: DatabaseFactory, db_url: str
) -> None:
    source_url = database_factory("sqlite")
    populate(open_database(source_url))
    other = Database(db_url)
    with other.write() as tx:
        tx.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(CopyError, match=r"other tables \(invoices\)"):
        copy_database(source_url, db_url)
    other.dispose()


def test_copy_refuses_a_missing_sqlite_source(tmp_path: Path, db_url: str) -> None:
    with pytest.raises(CopyError, match="source database file not found"):
        copy_database(f"sqlite:///{tmp_path}/nothing.db", db_url)
    assert not (tmp_path / "nothing.db").exists()


def test_cli_reports_counts_and_fails_in_one_line(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    source_url = database_factory("sqlite")
    populate(open_database(source_url))
    source_path = source_url.removeprefix("sqlite:///")
    runner = CliRunner()

    copied = runner.invoke(
        main, ["db", "copy", "--from", source_path, "--to", str(tmp_path / "t.db")]
    )
    assert copied.exit_code == 0, copied.output
    assert "messages                     30         30" in copied.output
    assert "every row count matches" in copied.output
    assert "files are not in the database" in copied.output

    again = runner.invoke(
        main, ["db", "copy", "--from", source_path, "--to", str(tmp_path / "t.db")]
    )
    assert again.exit_code == 2
    assert again.output.strip().splitlines()[-1].startswith("error: the target is not empty")

    unreachable = runner.invoke(
        main, ["db", "copy", "--from", source_path, "--to", "postgresql://nobody@127.0.0.1:1/x"]
    )
    assert unreachable.exit_code == 2
    last = unreachable.output.strip().splitlines()[-1]
    assert last.startswith("error: ") and "Traceback" not in unreachable.output
