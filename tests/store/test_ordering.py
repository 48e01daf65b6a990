"""Ids commit in increasing order within a room, on both databases, with writers racing.

Clients poll "messages after server_id X": if id 7 became visible before id 6, a client at
cursor 7 never sees 6. Each writer here holds its id uncommitted for a moment (sleeps inside
the transaction) to widen that window; a reader follows the room with a cursor the whole time
and must see every id, in order, with no gap (nothing is deleted, so a gap is a lost message).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from opengroup.store import Database
from opengroup.store import messages as message_store
from opengroup.store.rooms import Room

from .helpers import USER, make_room, open_database, race

WRITERS = 6
POSTS_EACH = 20


def follow(
    fetch: Callable[[int], list[int]], done: threading.Event, seen: list[int], start: int = 0
) -> Callable[[], None]:
    """A reader: polls after its cursor (from `start`) until `done`, then once more; asserts
    no gaps."""

    def run() -> None:
        cursor = start
        while True:
            finished = done.is_set()
            ids = fetch(cursor)
            assert ids == list(range(cursor + 1, cursor + 1 + len(ids))), (cursor, ids)
            seen.extend(ids)
            cursor = ids[-1] if ids else cursor
            if finished and not ids:
                return
            if not ids:
                time.sleep(0.002)

    return run


def run_with_reader(
    fetch: Callable[[int], list[int]], writers: int, write: Callable[[int], None], start: int = 0
) -> list[int]:
    done = threading.Event()
    seen: list[int] = []
    failures: list[BaseException] = []

    def reader() -> None:
        try:
            follow(fetch, done, seen, start)()
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        race(writers, write)
    finally:
        done.set()
        thread.join(60)
    if failures:
        raise failures[0]
    return seen


def message_ids_after(db: Database, room: Room) -> Callable[[int], list[int]]:
    def fetch(cursor: int) -> list[int]:
        with db.read() as tx:
            return [m.server_id for m in message_store.get_messages(tx, room, cursor, 256)]

    return fetch


def post(db: Database, room: Room, hold: float = 0.004) -> int:
    with db.write() as tx:
        message = message_store.insert_message(tx, room, USER, 1, "ZGF0YQ==", "c2ln")
        time.sleep(random.uniform(0, hold))  # the id is taken, the commit not yet made
    return message.server_id


def test_message_ids_become_visible_in_increasing_order(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    acknowledged: list[int] = []

    def write(_: int) -> None:
        acknowledged.extend(post(db, room) for _ in range(POSTS_EACH))

    seen = run_with_reader(message_ids_after(db, room), WRITERS, write)
    total = WRITERS * POSTS_EACH
    assert sorted(acknowledged) == list(range(1, total + 1))  # no id issued twice
    assert seen == list(range(1, total + 1))
    db.dispose()


def test_deletion_ids_become_visible_in_increasing_order(db_url: str) -> None:
    """Deleters race over overlapping batches: each message gets exactly one deletion."""
    db = open_database(db_url)
    room = make_room(db)
    total = 60
    for _ in range(total):
        post(db, room, hold=0)
    requested: set[int] = set()

    def fetch(cursor: int) -> list[int]:
        with db.read() as tx:
            return [d.id for d in message_store.get_deletions(tx, room, cursor, 256)]

    def delete(worker: int) -> None:
        picker = random.Random(worker)
        for _ in range(12):
            batch = picker.sample(range(1, total + 1), 4)
            requested.update(batch)
            with db.write() as tx:
                message_store.delete_messages(tx, room, batch)
                time.sleep(picker.uniform(0, 0.004))

    # A deletion's id is the seqno it takes (SOGS-API.md 1.2): the posts took 1..60, and
    # only deletions take seqnos during the race, so theirs follow on without a gap.
    seen = run_with_reader(fetch, 5, delete, start=total)
    with db.read() as tx:
        deletions = message_store.get_deletions(tx, room, 0, 256)
        left = message_store.get_messages(tx, room, 0, 256)
    deleted = [d.message_id for d in deletions]
    assert sorted(deleted) == sorted(requested)  # every message once, none twice
    assert seen == [d.id for d in deletions] == list(range(total + 1, total + len(deleted) + 1))
    assert {m.server_id for m in left} == set(range(1, total + 1)) - requested
    db.dispose()


def test_rate_limit_count_sees_a_racing_post(db_url: str) -> None:
    """Count-then-insert under the room lock: of racing first posts, exactly one passes."""
    db = open_database(db_url)
    room = make_room(db)

    def first_post_only(_: int) -> None:
        with db.write() as tx:
            earlier = message_store.count_person_posts_since(tx, room, USER, USER, 0)
            time.sleep(0.02)
            if earlier == 0:
                message_store.insert_message(tx, room, USER, 1, "ZGF0YQ==", "c2ln")

    race(6, first_post_only)
    with db.read() as tx:
        assert len(message_store.get_messages(tx, room, 0, 256)) == 1
    db.dispose()
