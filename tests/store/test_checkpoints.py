"""SQLite checkpoints: a server's commits leave the WAL alone and a job copies it into the
database file (Database(background_checkpoints=True), jobs.checkpoints)."""

from __future__ import annotations

from pathlib import Path

from opengroup.store import Database
from opengroup.store.migrate import migrate
from opengroup.store.statements import Statement

from .helpers import make_room

COMMITS = 1200  # more WAL pages than SQLite's automatic checkpoint lets through (1,000)
_RENAME = Statement("UPDATE rooms SET name = :name WHERE pk = :pk")


def _wal_after_many_commits(path: Path, *, background_checkpoints: bool) -> tuple[int, int]:
    """(frames in the WAL, frames a checkpoint then copied) after COMMITS small commits."""
    db = Database(f"sqlite:///{path}", background_checkpoints=background_checkpoints)
    migrate(db)
    room = make_room(db)
    for n in range(COMMITS):
        with db.write_raw() as tx:
            tx.run(_RENAME, (f"name {n}", room.pk))
    result = db.checkpoint()
    db.dispose()
    assert result is not None
    return result


def test_background_checkpoints_leave_every_commit_in_the_wal_until_asked(tmp_path: Path) -> None:
    frames, copied = _wal_after_many_commits(tmp_path / "bg.db", background_checkpoints=True)
    assert frames >= COMMITS
    assert copied == frames  # nobody was reading: all of it reached the database file


def test_by_default_commits_checkpoint_as_they_go(tmp_path: Path) -> None:
    frames, _ = _wal_after_many_commits(tmp_path / "default.db", background_checkpoints=False)
    assert frames < 1000  # the WAL was copied and restarted along the way


def test_checkpoint_is_a_no_op_on_postgresql(db_url: str) -> None:
    db = Database(db_url)
    result = db.checkpoint()
    if db.is_sqlite:
        assert result is not None
    else:
        assert result is None
    db.dispose()
