"""A poll's cost does not grow with history or with the number of rooms (issue 4's scale rows,
as ratios, not timings): every hot query is an index search, and the SQLite virtual machine
runs about as many instructions for a cursor poll of a 10^5-message room as of a 10^3 one."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from opengroup.store import access as access_store
from opengroup.store import message_rows
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store.database import Database, RawTx
from opengroup.store.migrate import migrate
from opengroup.store.statements import Statement

USER = "05" + "ab" * 32
HOT_QUERIES = {
    "room access": (access_store._ROOM_ACCESS_SQL, (b"x" * 32, "room0")),
    "rooms access of a poll": (
        access_store.rooms_access_statement(3),
        (0, "room0", b"x" * 32, 1, "room1", b"y" * 32, 2, "room9", b""),
    ),
    "messages after a cursor": (message_store._MESSAGES_AFTER, (1, 10, False, 256)),
    "newest messages": (message_store._MESSAGES_NEWEST, (1, False, 256)),
    "deletions after a cursor": (message_store._DELETIONS_AFTER, (1, 10, 256)),
    "newest deletions": (message_store._DELETIONS_NEWEST, (1, 256)),
    "posts for the rate limit": (message_store._COUNT_PERSON_POSTS, (1, 0, USER, USER)),
    "moderators": (moderation_store._ROOM_MODERATORS, (1,)),
    "rows since a seqno": (message_rows._SINCE_DATA, (1, 10, False, 256)),
    "rows since a seqno, reactions too": (message_rows._SINCE_ALL, (1, 10, False, 256)),
    "recent rows": (message_rows._RECENT, (1, False, 100)),
    "rows before an id": (message_rows._BEFORE, (1, 500, False, 100)),
}

# Scans whose every row is part of the answer: the rooms a poll asks about (its VALUES
# list), the global moderators (a handful, listed in every poll result) and the subquery
# that collects them with the room's own.
WHOLE_LISTS = {"SCAN a", "SCAN global_moderators", "SCAN all_moderators"}


def seed(path: Path, rooms: int, messages_in_first_room: int) -> sqlite3.Connection:
    db = Database(f"sqlite:///{path}")
    migrate(db)
    db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO rooms (pk, id, name, message_seq, deletion_seq, seqno, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?, 0)",
        [
            (pk, f"room{pk - 1}", "R", *[messages_in_first_room if pk == 1 else 50] * 2)
            for pk in range(1, rooms + 1)
        ],
    )
    conn.executemany(
        "INSERT INTO messages (room_pk, server_id, session_id, timestamp, data, signature, "
        "deleted, seqno, seqno_data, seqno_creation, posted) "
        "VALUES (?, ?, ?, ?, 'ZGF0YQ==', 'c2ln', 0, ?2, ?2, ?2, ?4 / 1000.0)",
        [(1, i, USER, i) for i in range(1, messages_in_first_room + 1)]
        + [(pk, i, USER, i) for pk in range(2, rooms + 1) for i in range(1, 51)],
    )
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    return conn


@pytest.fixture
def small(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = seed(tmp_path / "small.db", rooms=10, messages_in_first_room=1_000)
    yield conn
    conn.close()


@pytest.mark.parametrize("name", sorted(HOT_QUERIES))
def test_hot_queries_search_an_index(small: sqlite3.Connection, name: str) -> None:
    statement, params = HOT_QUERIES[name]
    explain = Statement(f"EXPLAIN QUERY PLAN {statement.source}")
    plan = [row[3] for row in RawTx(small, postgres=False).all(explain, params)]
    full_scans = [
        step
        for step in plan
        if step.startswith("SCAN")
        and "INDEX" not in step
        and step not in WHOLE_LISTS
        and "CONSTANT ROW" not in step  # a VALUES list, or a SELECT of a parameter
    ]
    assert not full_scans, plan
    assert any(step.startswith("SEARCH") for step in plan), plan


def vm_steps(conn: sqlite3.Connection, poll: list[tuple[str, int]]) -> int:
    """SQLite VM instructions (counted in steps of 1) for a compact_poll of these rooms."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(count, 1)
    try:
        rtx = RawTx(conn, postgres=False)
        found = access_store.rooms_access(rtx, [(room_id, b"\x00" * 32) for room_id, _ in poll])
        for access, (_, cursor) in zip(found, poll, strict=True):
            assert access is not None
            message_store.get_messages(rtx, access.room, cursor, 256)
            message_store.get_deletions(rtx, access.room, 0, 256)
    finally:
        conn.set_progress_handler(None, 1)
    return steps


def test_cursor_poll_cost_does_not_grow_with_history(tmp_path: Path) -> None:
    small = seed(tmp_path / "small.db", rooms=2, messages_in_first_room=1_000)
    big = seed(tmp_path / "big.db", rooms=2, messages_in_first_room=100_000)
    # A client that is 10 messages behind, in a room of 10^3 and of 10^5 messages.
    cost_small = vm_steps(small, [("room0", 990)])
    cost_big = vm_steps(big, [("room0", 99_990)])
    assert cost_big <= cost_small * 1.2, (cost_small, cost_big)


def test_poll_cost_does_not_grow_with_the_number_of_rooms(tmp_path: Path) -> None:
    few = seed(tmp_path / "few.db", rooms=10, messages_in_first_room=50)
    many = seed(tmp_path / "many.db", rooms=1_000, messages_in_first_room=50)
    poll = [(f"room{i}", 45) for i in range(5)]
    cost_few, cost_many = vm_steps(few, poll), vm_steps(many, poll)
    assert cost_many <= cost_few * 1.2, (cost_few, cost_many)
