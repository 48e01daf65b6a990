"""Database.shared_reads() (the reads of one modern request in one transaction, a write ending
it) and no_wait_writes() (a write on the event loop only if the writers' lock is free)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from opengroup.store import Database
from opengroup.store.database import WouldBlock
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


def test_reads_of_a_scope_share_a_transaction_and_a_write_ends_it(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.shared_reads():
        with db.read_raw() as first:
            assert first.memo == {}
            first.memo["seen"] = True
        with db.read_raw() as second:
            assert second is first  # one transaction: one memo
        _rename(db, room.pk, "written in the scope")
        with db.read_raw() as third:
            assert third is not first and third.memo == {}
        assert _name(db, room.pk) == "written in the scope"  # a read after a write sees it
        with pytest.raises(LookupError), db.read_raw():
            raise LookupError("a failed read ends the snapshot")
        with db.read_raw() as fourth:
            assert fourth is not third
    with db.read_raw() as outside:
        assert outside.memo is None
    db.dispose()


def test_a_no_wait_write_never_waits_for_the_writers_lock(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'nowait.db'}")
    room = make_room(db)
    held, release = threading.Event(), threading.Event()

    def writer() -> None:
        with db.write_raw():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(30)
    try:
        with pytest.raises(WouldBlock), db.no_wait_writes(), db.write_raw() as tx:
            tx.run(_RENAME, ("never", room.pk))
        with pytest.raises(WouldBlock), db.no_wait_writes(), db.write():
            pass  # SQLAlchemy writes are never made without waiting
    finally:
        release.set()
        thread.join()
    with db.no_wait_writes():
        _rename(db, room.pk, "lock was free")
    assert _name(db, room.pk) == "lock was free"
    db.dispose()
