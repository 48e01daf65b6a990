"""Database.read_raw() and write_raw(): commit, roll back, nest, and report storage errors the
way every other transaction does (both engines)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
import sqlalchemy.exc

from opengroup.store import Database
from opengroup.store.statements import Statement

from .helpers import make_room, open_database

_NAME = Statement("SELECT name FROM rooms WHERE pk = :pk")
_RENAME = Statement("UPDATE rooms SET name = :name WHERE pk = :pk")


def _name(db: Database, pk: int) -> str:
    with db.read_raw() as tx:
        row = tx.one(_NAME, (pk,))
    assert row is not None
    return str(row[0])


def _rename(db: Database, pk: int, name: str) -> None:
    with db.write_raw() as tx:
        tx.run(_RENAME, (name, pk))


def test_a_write_commits_and_a_failed_one_rolls_back(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    _rename(db, room.pk, "committed")
    with pytest.raises(ValueError, match="handler bug"), db.write_raw() as tx:
        tx.run(_RENAME, ("rolled back", room.pk))
        raise ValueError("handler bug")
    assert _name(db, room.pk) == "committed"
    db.dispose()


def test_sql_errors_are_bugs_not_storage_failures_and_release_the_writers(
    tmp_path: Path,
) -> None:
    # SQLite reports a missing table as an OperationalError, as it does a full disk: only
    # the second is the storage's fault (a 507); the first is a bug (a 500 with traceback).
    db = open_database(f"sqlite:///{tmp_path / 'raw.db'}")
    room = make_room(db)
    with pytest.raises(sqlite3.OperationalError, match="no such table"), db.write_raw() as tx:
        tx.run(Statement("UPDATE no_such_table SET x = 1"))
    with pytest.raises(sqlite3.OperationalError, match="no such table"), db.read_raw() as tx:
        tx.one(Statement("SELECT x FROM no_such_table"))
    with pytest.raises(sqlalchemy.exc.OperationalError), db.write() as sa_tx:
        sa_tx.exec_driver_sql("UPDATE no_such_table SET x = 1")
    # The writers' lock was given back: another thread writes at once.
    other = threading.Thread(target=_rename, args=(db, room.pk, "after the failure"))
    other.start()
    other.join(5)
    assert not other.is_alive()
    assert _name(db, room.pk) == "after the failure"
    db.dispose()


def test_a_read_nested_in_a_write_sees_the_last_commit(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    _rename(db, room.pk, "before")
    with db.write_raw() as tx:
        tx.run(_RENAME, ("inside", room.pk))
        assert _name(db, room.pk) == "before"  # another connection, another snapshot
    assert _name(db, room.pk) == "inside"
    db.dispose()
