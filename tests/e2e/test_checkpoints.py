"""The server copies its SQLite WAL into the database file by itself, within a second or so
of a write (jobs.checkpoints), not only when 1,000 pages have piled up."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from .conftest import Member, start_server


def _messages_in_database_file(data_dir: Path, copy_dir: Path) -> int:
    """Messages in opengroup.db alone: a copy without its -wal file sees only what was
    checkpointed."""
    copy = copy_dir / "without-wal.db"
    shutil.copyfile(data_dir / "opengroup.db", copy)
    with sqlite3.connect(copy) as conn:
        (count,) = conn.execute("SELECT count(*) FROM messages").fetchone()
    copy.unlink()
    return int(count)


def test_posted_messages_reach_the_database_file_soon(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        room = server.new_room()
        with server.client() as og:
            member = Member.join(og, room)
            for _ in range(3):
                member.post_message()
        deadline = time.monotonic() + 10
        while _messages_in_database_file(server.running.data_dir, tmp_path) < 3:
            assert time.monotonic() < deadline, "the WAL was not checkpointed"
            time.sleep(0.2)
    finally:
        server.running.stop()
