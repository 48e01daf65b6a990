"""Store-level helpers: a migrated database from a URL, rooms, and a thread race."""

from __future__ import annotations

import threading
from collections.abc import Callable

from opengroup.store import Database
from opengroup.store import rooms as room_store
from opengroup.store.migrate import migrate
from opengroup.store.rooms import Room

USER = "05" + "ab" * 32
NOW = 1_800_000_000.0


def open_database(url: str) -> Database:
    db = Database(url)
    migrate(db)
    return db


def make_room(db: Database, room_id: str = "race") -> Room:
    with db.write() as tx:
        return room_store.create_room(tx, room_id, room_id.title(), NOW)


def race(count: int, work: Callable[[int], None], timeout: float = 120) -> None:
    """Run `work(i)` in `count` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    if errors:
        raise errors[0]
