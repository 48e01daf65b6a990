"""Writers racing in threads and in processes, on both databases: the room's seqnos are
1..counter with none skipped or given twice, a reader following `messages_since` misses no
change, and of several copies of one nonce exactly one is recorded."""

from __future__ import annotations

import multiprocessing
import random
import threading
import time

from opengroup.store import Database, message_rows
from opengroup.store import messages as message_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.rooms import Room

from .helpers import NOW, make_room, open_database, race

BLINDED = "15" + "ef" * 32
SIG = b"\x05" * 64


def change_at_random(db: Database, room: Room, pick: random.Random, hold: float) -> list[int]:
    """One transaction that posts, edits or deletes; the seqnos it took."""
    with db.write() as tx:
        action = pick.random()
        newest = message_store.get_messages(tx, room, None, 1)
        if action < 0.5 or not newest:
            taken = [message_rows.insert_post(tx, room, BLINDED, NOW, b"post", SIG).seqno]
        elif action < 0.75:
            target = pick.randint(1, newest[0].server_id + 1)  # sometimes deleted or unknown
            edited = message_rows.edit_message(tx, room, target, b"edit", SIG, NOW)
            taken = [] if edited is None else [edited.seqno]
        else:
            targets = [pick.randint(1, newest[0].server_id) for _ in range(pick.choice((1, 2)))]
            taken = [d.id for d in message_store.delete_messages(tx, room, targets, NOW)]
        time.sleep(pick.uniform(0, hold))  # taken, not yet committed
    return taken


def check_seqnos(db: Database, room: Room, taken: list[int]) -> None:
    with db.read() as tx:
        info = room_store.get_room_info(tx, room.id)
    assert info is not None
    assert sorted(taken) == list(range(1, info.seqno + 1)), "a seqno skipped or given twice"


def test_threads_take_every_seqno_once_and_a_reader_misses_nothing(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    taken: list[int] = []
    last_seen: dict[int, int] = {}
    done = threading.Event()
    failures: list[BaseException] = []

    def follow() -> None:
        cursor = 0
        while True:
            finished = done.is_set()
            with db.read() as tx:
                rows = message_rows.messages_since(tx, room, cursor, 50, include_reaction_only=True)
            seqnos = [row.seqno for row in rows]
            assert seqnos == sorted(set(seqnos)) and all(s > cursor for s in seqnos), seqnos
            last_seen.update((row.id, row.seqno) for row in rows)
            cursor = seqnos[-1] if seqnos else cursor
            if finished and not rows:
                return
            if not rows:
                time.sleep(0.002)

    def reader() -> None:
        try:
            follow()
        except BaseException as error:
            failures.append(error)

    def write(worker: int) -> None:
        pick = random.Random(worker)
        for _ in range(15):
            taken.extend(change_at_random(db, room, pick, hold=0.004))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        race(5, write)
    finally:
        done.set()
        thread.join(60)
    if failures:
        raise failures[0]
    check_seqnos(db, room, taken)
    with db.read() as tx:
        final = message_rows.messages_since(tx, room, 0, 10_000, include_reaction_only=True)
        every = [  # ids are at most the number of seqnos taken
            message_rows.get_message(tx, room, i, include_deleted=True)
            for i in range(1, len(taken) + 1)
        ]
    # The reader's last view of each message is its final state, unless the message was
    # deleted before the reader ever saw it (then the reader needs nothing).
    for row in (r for r in every if r is not None):
        if row.id in last_seen:
            assert last_seen[row.id] == row.seqno, (row.id, last_seen[row.id], row.seqno)
        else:
            assert row.deleted, f"message {row.id} never seen"
    assert {r.id for r in final} <= set(last_seen)
    db.dispose()


def _process_writer(url: str, room_id: str, worker: int, results: multiprocessing.Queue) -> None:
    db = Database(url)
    try:
        with db.read() as tx:
            room = room_store.get_room(tx, room_id)
        assert room is not None
        pick = random.Random(100 + worker)
        taken: list[int] = []
        for _ in range(20):
            taken.extend(change_at_random(db, room, pick, hold=0.003))
        won = []
        for n in range(20):  # every process tries the same nonces
            with db.write() as tx:
                if user_store.record_nonce(tx, BLINDED, bytes([n]) * 16, NOW + 86_460):
                    won.append(n)
                time.sleep(pick.uniform(0, 0.002))
        results.put((taken, won))
    finally:
        db.dispose()


def test_processes_take_every_seqno_once_and_each_nonce_once(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    processes = [
        context.Process(target=_process_writer, args=(db_url, room.id, i, results))
        for i in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(30)
        assert process.exitcode == 0
    check_seqnos(db, room, [seqno for taken, _ in outcomes for seqno in taken])
    wins = sorted(n for _, won in outcomes for n in won)
    assert wins == list(range(20)), "a nonce recorded twice, or by no one"
    db.dispose()


def test_of_racing_copies_of_one_nonce_exactly_one_is_recorded(db_url: str) -> None:
    db = open_database(db_url)
    recorded: list[bool] = []

    def attempt(_: int) -> None:
        with db.write() as tx:
            recorded.append(user_store.record_nonce(tx, BLINDED, b"\x42" * 16, NOW + 100))
            time.sleep(0.02)  # the first is uncommitted while the others arrive

    race(6, attempt)
    assert sorted(recorded) == [False] * 5 + [True]
    with db.write() as tx:
        # Another user may use the same bytes; forgetting makes it usable again.
        assert user_store.record_nonce(tx, "05" + "ab" * 32, b"\x42" * 16, NOW + 50)
        assert not user_store.record_nonce(tx, BLINDED, b"\x42" * 16, NOW + 100)
        assert user_store.prune_nonces(tx, NOW + 60) == 1
        assert not user_store.record_nonce(tx, BLINDED, b"\x42" * 16, NOW + 100)
        assert user_store.prune_nonces(tx, NOW + 100) == 1
        assert user_store.record_nonce(tx, BLINDED, b"\x42" * 16, NOW + 200)
    db.dispose()


def test_a_user_is_created_once_and_then_only_seen(db_url: str) -> None:
    db = open_database(db_url)
    root = "05" + "ab" * 32
    with db.write() as tx:
        user_store.upsert_user_seen(tx, BLINDED, root, NOW)
        user_store.upsert_user_seen(tx, BLINDED, root, NOW + 5)
        user_store.upsert_user_seen(tx, root, root, NOW + 1)
    with db.read() as tx:
        user = user_store.get_user(tx, BLINDED)
        assert user is not None
        assert (user.root, user.created, user.last_active) == (root, NOW, NOW + 5)
        assert user_store.ids_of_root(tx, root) == [root, BLINDED]
        assert user_store.get_user(tx, "15" + "00" * 32) is None
    db.dispose()
