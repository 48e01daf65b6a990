"""`Statement`: one SQL statement of the hot path (database.RawTx), written once with named
parameters and compiled once, when it is defined, into the text each driver takes.

    _COUNT_POSTS = Statement(
        "SELECT count(*) FROM messages WHERE room_pk = :room_pk AND timestamp > :since"
    )
    rtx.one(_COUNT_POSTS, (room.pk, since_ms))

SQLAlchemy does the translation (`text(...)` compiled for each dialect): `?` for sqlite3,
`%s` for psycopg with every literal `%` doubled. A `?` or `%` in a string literal or a
comment, and a `::` cast, reach the database as written (the text replacement of `?` by `%s`
that this replaced broke each of those, silently).

Values are passed as a tuple in the order the names first appear in the statement; a name
used twice is given once. Positional binding is the drivers' cheapest (sqlite3 binds a dict
~0.2 µs slower per statement, and an IN list of n values would need n keys); the names keep
the SQL readable and let one value fill several places.

Where `text()` reads a colon otherwise than the SQL does: `:n::integer` is no parameter to it
(refused here: write `CAST(:n AS integer)`), and a colon before a word is one even inside a
string literal or a comment (escape it there: `'12\\:30'`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import psycopg
from sqlalchemy.engine import Dialect

Params = Sequence[Any]
Spread = Callable[[Params], Params]

_SQLITE = sqlite.dialect()  # qmark: `?`
# `%s`, and a literal `%` as `%%` (the constructor's **kwargs are untyped in SQLAlchemy).
_POSTGRES = psycopg.dialect(paramstyle="format")  # type: ignore[no-untyped-call]
# `:name::type`: text() takes `:name` for a literal because of the colon after it.
_NAME_BEFORE_CAST = re.compile(r"(?<![:\w\\]):\w+::")


class Statement:
    """A statement for RawTx: `sqlite` and `postgres` are its text for each driver, and
    `names` its parameters in the order the caller gives their values. `postgres` given:
    PostgreSQL runs that instead (the same names, in the same first order)."""

    __slots__ = ("names", "postgres", "postgres_spread", "source", "sqlite", "sqlite_spread")

    def __init__(self, source: str, *, postgres: str | None = None) -> None:
        self.source = source
        self.sqlite, sqlite_order = _compile(source, _SQLITE)
        self.postgres, postgres_order = _compile(postgres or source, _POSTGRES)
        self.names = tuple(dict.fromkeys(sqlite_order))
        if tuple(dict.fromkeys(postgres_order)) != self.names:
            raise ValueError(f"the PostgreSQL form binds other parameters: {postgres!r}")
        # None where the driver takes the caller's tuple as it is (no name used twice).
        self.sqlite_spread = _spreader(self.names, sqlite_order)
        self.postgres_spread = _spreader(self.names, postgres_order)

    def __repr__(self) -> str:
        return f"Statement({self.source!r})"


def _compile(source: str, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
    """The driver's text, and the parameter names in the order of its placeholders."""
    if _NAME_BEFORE_CAST.search(source):
        raise ValueError(f"a parameter followed by '::' is not one: use CAST(): {source!r}")
    compiled = text(source).compile(dialect=dialect)
    return compiled.string, tuple(compiled.positiontup or ())


def _spreader(names: tuple[str, ...], order: tuple[str, ...]) -> Spread | None:
    """The caller's values (one per name) laid out one per placeholder, or None when they
    already are."""
    if order == names:
        return None
    pick = itemgetter(*(names.index(name) for name in order))
    count = len(names)

    def spread(params: Params) -> Params:
        if len(params) != count:
            raise TypeError(f"{count} values expected for {names}, got {len(params)}")
        picked: Params = pick(params)
        return picked

    return spread


# The statements of IN lists kept per function, one per count of values: enough for every
# count a modern poll's 256 messages can make, which then never compile again (~10 µs a value).
IN_LISTS_KEPT = 256


def in_list(name: str, count: int) -> str:
    """The parameters of an IN list of `count` values, `:name_0, :name_1, …`, for a statement
    built once per count (by a function under `lru_cache(maxsize=IN_LISTS_KEPT)`)."""
    return ", ".join([f":{name}_{n}" for n in range(count)])
