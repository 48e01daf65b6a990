"""SQLite checkpoints: a server's commits leave the WAL alone and a job copies it into the
database file (Database(background_checkpoints=True), jobs.checkpoints)."""

from __future__ import annotations

from pathlib import Path

from opengroup.store import Database
from opengroup.store.migrate import migrate

from .helpers import make_room

COMMITS = 1200  # more WAL pages than SQLite's automatic checkpoint lets through (1,000)


def _commit_many(db: Database) -> None:
    room = make_room(db)
    for n in range(COMMITS):
        with db.write_raw() as tx:
            tx.run("UPDATE rooms SET name = ? WHERE pk = ?", (f"name {n}", room.pk))


def _sqlite_database(path: Path, *, background_checkpoints: bool) -> Database:
    db = Database(f"sqlite:///{path}", background_checkpoints=background_checkpoints)
    migrate(db)
    return db


def test_background_checkpoints_leave_every_commit_in_the_wal_until_asked(tmp_path: Path) -> None:
    db = _sqlite_database(tmp_path / "background.db", background_checkpoints=True)
    _commit_many(db)
    result = db.checkpoint()
    assert result is not None
    frames, copied = result
    assert frames >= COMMITS
    assert copied == frames  # nobody was reading: all of it reached the database file
    db.dispose()


def test_by_default_commits_checkpoint_as_they_go(tmp_path: Path) -> None:
    db = _sqlite_database(tmp_path / "default.db", background_checkpoints=False)
    _commit_many(db)
    result = db.checkpoint()
    assert result is not None
    frames, _ = result
    assert frames < 1000  # the WAL was copied and restarted along the way
    db.dispose()


def test_checkpoint_is_a_no_op_on_postgresql(db_url: str) -> None:
    db = Database(db_url)
    result = db.checkpoint()
    if db.is_sqlite:
        assert result is not None
    else:
        assert result is None
    db.dispose()
