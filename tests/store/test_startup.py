"""What several server processes starting at once do to one database: migrate once, make
room `main` once, and end with the schema the code declares."""

from __future__ import annotations

import time

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from opengroup.store import Database
from opengroup.store import rooms as room_store
from opengroup.store.database import _pool_options
from opengroup.store.migrate import current_revision, head_revision, migrate
from opengroup.store.schema import metadata

from .helpers import NOW, open_database, race


def test_migrations_create_exactly_the_declared_schema(db_url: str) -> None:
    db = open_database(db_url)
    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        assert current_revision(conn) == head_revision()
    db.dispose()


def test_processes_starting_together_migrate_once(db_url: str) -> None:
    databases = [Database(db_url) for _ in range(4)]
    race(4, lambda i: migrate(databases[i]))
    with databases[0].engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    for db in databases:
        db.dispose()


def test_first_room_is_created_once_when_processes_start_together(db_url: str) -> None:
    db = open_database(db_url)
    created: list[bool] = []

    def start(_: int) -> None:
        with db.write() as tx:
            made = room_store.create_first_room(tx, "main", "Main", NOW)
            time.sleep(0.02)
        created.append(made)

    race(5, start)
    assert sorted(created) == [False] * 4 + [True]
    with db.read() as tx:
        assert [room.id for room in room_store.list_rooms(tx)] == ["main"]
    db.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql+psycopg://h/db", ("postgresql+psycopg://h/db", 10, 20, 30)),
        (
            "postgresql+psycopg://u:p@h/db?pool_size=3&max_overflow=0&application_name=x",
            ("postgresql+psycopg://u:p@h/db?application_name=x", 3, 0, 30),
        ),
    ],
)
def test_pool_sizes_can_be_set_in_the_url(url: str, expected: tuple[object, ...]) -> None:
    cleaned, pool = _pool_options(url)
    assert (cleaned, pool["pool_size"], pool["max_overflow"], pool["pool_timeout"]) == expected
