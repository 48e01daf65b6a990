"""Schema migrations with Alembic, applied at start under a lock so that several server
processes starting at once migrate exactly once."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from .database import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_PG_MIGRATION_LOCK = 0x6F67_6D69  # arbitrary advisory-lock key, "ogmi"


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer opengroup; refuse rather than corrupt it."""


def _alembic_config(connection: Connection) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _sqlite_lock(db: Database) -> Iterator[None]:
    database = db.engine.url.database
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(db: Database, *, to: str = "head") -> None:
    """Bring the schema to the newest revision this code knows (or to revision `to`: tests
    make databases as older releases left them)."""
    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()}
    if db.is_sqlite:
        with _sqlite_lock(db), db.engine.connect() as connection:
            _upgrade(connection, known, to)
    else:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            connection.commit()
            try:
                _upgrade(connection, known, to)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()


def _upgrade(connection: Connection, known: set[str], to: str) -> None:
    current = current_revision(connection)
    connection.commit()
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"database schema revision {current} is newer than this opengroup; upgrade opengroup"
        )
    if current == (head_revision() if to == "head" else to):
        return
    command.upgrade(_alembic_config(connection), to)
    connection.commit()
