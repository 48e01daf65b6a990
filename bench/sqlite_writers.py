"""What a post's write transaction costs on SQLite with 1 and with 2 writing processes.

    python -m bench.sqlite_writers [--transactions 6000] [--rounds 2]

Each process runs the store calls of POST messages (room access, rate-limit count, id from the
room's counter, insert) in `Database.write_raw`, on a seeded bench database, and reports its
CPU per transaction. With two processes each one's commits invalidate the other's page cache
(SQLite re-reads the pages a transaction touches from the WAL or the file), which shows here
as CPU per transaction, apart from HTTP and crypto.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from opengroup.store import messages as message_store
from opengroup.store.access import room_access
from opengroup.store.database import Database
from opengroup.store.statements import Statement

from .seed import DatasetSpec, seed

_TOKENS = Statement("""
SELECT t.token_hash, t.session_id, r.id FROM tokens t JOIN rooms r ON r.pk = t.room_pk
WHERE t.claimed LIMIT 2000""")


def write_posts(url: str, count: int, results: Any) -> None:
    db = Database(url)
    with db.read_raw() as rtx:
        tokens = rtx.all(_TOKENS)
    offset = os.getpid()
    started = time.process_time()
    for i in range(count):
        token_hash, session_id, room_id = tokens[(i * 7 + offset) % len(tokens)]
        with db.write_raw() as tx:
            access = room_access(tx, room_id, token_hash)
            assert access is not None
            now_ms = int(time.time() * 1000)
            message_store.count_person_posts_since(
                tx, access.room, session_id, session_id, now_ms - 16_000
            )
            message_store.insert_message(tx, access.room, session_id, now_ms, "x" * 300, "y" * 88)
    results.put((time.process_time() - started) / count)
    db.dispose()


def run(url: str, processes: int, count: int) -> list[float]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    workers = [
        context.Process(target=write_posts, args=(url, count, results)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [results.get() for _ in workers]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transactions", type=int, default=6000, help="per process")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opengroup-writers-"))
    try:
        data = seed(work / "data", DatasetSpec(rooms=20, clients=400, rooms_per_client=5))
        url = f"sqlite:///{data.data_dir / 'opengroup.db'}"
        for round_ in range(1, args.rounds + 1):
            for processes in (1, 2):
                per_tx = run(url, processes, args.transactions)
                shown = ", ".join(f"{value * 1e6:.0f}" for value in per_tx)
                print(f"round {round_}, {processes} process(es): CPU µs per transaction {shown}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
