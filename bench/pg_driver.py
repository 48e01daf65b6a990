"""Which PostgreSQL driver for the store? Times the server's two hot transactions per driver.

    python bench/pg_driver.py URL sqlalchemy      # psycopg 3 through SQLAlchemy's QueuePool (ours)
    python bench/pg_driver.py URL sqlalchemy-noping
    python bench/pg_driver.py URL psycopg-pool    # psycopg 3 + psycopg_pool, hand-written SQL
    python bench/pg_driver.py URL asyncpg         # asyncpg + its pool on one event loop

URL is a scratch database (e.g. postgresql://postgres@127.0.0.1:5432/bench); the tables are
(re)created. "post" is the statements of POST messages (room, token, ban, moderator, lock,
rate-limit count, counter UPDATE ... RETURNING, INSERT) in one transaction; "poll" is one
compact_poll of three rooms in one transaction. CONCURRENCY threads (or tasks) run OPS of each.
The asyncpg mode needs only asyncpg installed; it exists to compare, not to ship.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

OPS = int(os.environ.get("OPS", "3000"))
CONCURRENCY = int(os.environ.get("CONCURRENCY", "16"))
ROOMS = ("alpha", "beta", "gamma")
USER = "05" + "ab" * 32
TOKEN = b"t" * 32

SETUP = [
    "DROP TABLE IF EXISTS b_messages, b_deletions, b_tokens, b_bans, b_mods, b_rooms",
    "CREATE TABLE b_rooms (pk serial PRIMARY KEY, id varchar(64) UNIQUE NOT NULL,"
    " message_seq bigint NOT NULL DEFAULT 0, deletion_seq bigint NOT NULL DEFAULT 0)",
    "CREATE TABLE b_messages (room_pk int REFERENCES b_rooms, server_id bigint,"
    " session_id varchar(66), ts bigint, data text, deleted boolean NOT NULL DEFAULT false,"
    " PRIMARY KEY (room_pk, server_id))",
    "CREATE INDEX b_messages_sender ON b_messages (room_pk, session_id, ts)",
    "CREATE TABLE b_deletions (room_pk int, id bigint, message_id bigint,"
    " PRIMARY KEY (room_pk, id))",
    "CREATE TABLE b_tokens (token_hash bytea PRIMARY KEY, room_pk int, session_id varchar(66))",
    "CREATE TABLE b_bans (room_pk int, session_id varchar(66), PRIMARY KEY (room_pk, session_id))",
    "CREATE TABLE b_mods (room_pk int, session_id varchar(66), PRIMARY KEY (room_pk, session_id))",
]

# (sql with $n placeholders, number of params); psycopg gets %s instead.
POST = [
    "SELECT pk FROM b_rooms WHERE id = $1",
    "SELECT room_pk, session_id FROM b_tokens WHERE token_hash = $1",
    "SELECT EXISTS (SELECT 1 FROM b_bans WHERE room_pk = $1 AND session_id = $2)",
    "SELECT EXISTS (SELECT 1 FROM b_mods WHERE room_pk = $1 AND session_id = $2)",
    "SELECT pk FROM b_rooms WHERE pk = $1 FOR NO KEY UPDATE",
    "SELECT count(*) FROM b_messages WHERE room_pk = $1 AND session_id = $2 AND ts > $3",
    "UPDATE b_rooms SET message_seq = message_seq + 1 WHERE pk = $1 RETURNING message_seq",
    "INSERT INTO b_messages (room_pk, server_id, session_id, ts, data) VALUES ($1, $2, $3, $4, $5)",
]
POLL = [
    "SELECT pk FROM b_rooms WHERE id = $1",
    "SELECT room_pk, session_id FROM b_tokens WHERE token_hash = $1",
    "SELECT EXISTS (SELECT 1 FROM b_bans WHERE room_pk = $1 AND session_id = $2)",
    "SELECT server_id, session_id, ts, data FROM b_messages WHERE room_pk = $1"
    " AND NOT deleted AND server_id > $2 ORDER BY server_id LIMIT 256",
    "SELECT id, message_id FROM b_deletions WHERE room_pk = $1 AND id > $2 ORDER BY id LIMIT 256",
    "SELECT session_id FROM b_mods WHERE room_pk = $1",
]


SERVER_ID = object()  # stands for the id the counter UPDATE returned


def post_params(room_pk: int, now: int) -> list[tuple[Any, ...]]:
    return [
        (ROOMS[room_pk - 1],),
        (TOKEN,),
        (room_pk, USER),
        (room_pk, USER),
        (room_pk,),
        (room_pk, USER, now - 16_000),
        (room_pk,),
        (room_pk, SERVER_ID, USER, now, "x" * 200),
    ]


def poll_params(room_pk: int) -> list[tuple[Any, ...]]:
    """A client that is up to date: its cursor is three messages behind the newest."""
    cursor = OPS // len(ROOMS) - 3
    return [
        (ROOMS[room_pk - 1],),
        (TOKEN,),
        (room_pk, USER),
        (room_pk, cursor),
        (room_pk, 0),
        (room_pk,),
    ]


def bind(args: tuple[Any, ...], server_id: Any) -> tuple[Any, ...]:
    return tuple(server_id if value is SERVER_ID else value for value in args)


def to_psycopg(sql: str) -> str:
    for n in range(9, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


def report(mode: str, what: str, timing: tuple[float, float]) -> None:
    """Wall time depends on the machine's load; CPU time of this process is the driver's cost."""
    seconds, cpu = timing
    print(
        f"{mode:18} {what:5} {OPS / seconds:7.0f} tx/s {seconds / OPS * 1e6:7.0f} us/tx wall"
        f" {cpu / OPS * 1e6:6.0f} us/tx CPU in this process"
    )


def run_threads(work: Callable[[int], None]) -> tuple[float, float]:
    per = OPS // CONCURRENCY

    def loop(offset: int) -> None:
        for i in range(per):
            work(offset + i * CONCURRENCY)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(CONCURRENCY)]
    start, cpu = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, time.process_time() - cpu


def setup_psycopg(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        for sql in SETUP:
            conn.execute(sql)
        for room in ROOMS:
            conn.execute("INSERT INTO b_rooms (id) VALUES (%s)", (room,))
        conn.execute("INSERT INTO b_tokens VALUES (%s, 1, %s)", (TOKEN, USER))


def bench_psycopg_pool(url: str) -> None:
    from psycopg_pool import ConnectionPool

    setup_psycopg(url)
    pool = ConnectionPool(url, min_size=CONCURRENCY, max_size=CONCURRENCY, open=True)
    post_sql, poll_sql = [to_psycopg(s) for s in POST], [to_psycopg(s) for s in POLL]

    def post(i: int) -> None:
        with pool.connection() as conn, conn.transaction():
            server_id = None
            for sql, args in zip(post_sql, post_params(i % 3 + 1, now_ms()), strict=True):
                cursor = conn.execute(sql, bind(args, server_id))
                if sql.startswith("UPDATE"):
                    server_id = cursor.fetchone()[0]  # type: ignore[index]

    def poll(_: int) -> None:
        with pool.connection() as conn, conn.transaction():
            for pk in (1, 2, 3):
                for sql, args in zip(poll_sql, poll_params(pk), strict=True):
                    conn.execute(sql, args).fetchall()

    report("psycopg-pool", "post", run_threads(post))
    report("psycopg-pool", "poll", run_threads(poll))
    pool.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def bench_sqlalchemy(url: str, pre_ping: bool) -> None:
    from sqlalchemy import create_engine, text

    setup_psycopg(url)
    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1),
        pool_size=CONCURRENCY,
        pool_pre_ping=pre_ping,
        isolation_level="READ COMMITTED",
    )
    post_sql = [text(s.replace("$", ":p")) for s in POST]
    poll_sql = [text(s.replace("$", ":p")) for s in POLL]

    def named(args: tuple[Any, ...]) -> dict[str, Any]:
        return {f"p{n}": value for n, value in enumerate(args, 1)}

    def post(i: int) -> None:
        with engine.begin() as conn:
            server_id = None
            for sql, args in zip(post_sql, post_params(i % 3 + 1, now_ms()), strict=True):
                result = conn.execute(sql, named(bind(args, server_id)))
                if str(sql).startswith("UPDATE"):
                    server_id = result.scalar_one()

    def poll(_: int) -> None:
        with engine.begin() as conn:
            for pk in (1, 2, 3):
                for sql, args in zip(poll_sql, poll_params(pk), strict=True):
                    conn.execute(sql, named(args)).all()

    mode = "sqlalchemy" if pre_ping else "sqlalchemy-noping"
    report(mode, "post", run_threads(post))
    report(mode, "poll", run_threads(poll))
    engine.dispose()


def bench_asyncpg(url: str) -> None:
    import asyncpg  # type: ignore[import-not-found]

    async def main() -> None:
        pool = await asyncpg.create_pool(url, min_size=CONCURRENCY, max_size=CONCURRENCY)
        async with pool.acquire() as conn:
            for sql in SETUP:
                await conn.execute(sql)
            for room in ROOMS:
                await conn.execute("INSERT INTO b_rooms (id) VALUES ($1)", room)
            await conn.execute("INSERT INTO b_tokens VALUES ($1, 1, $2)", TOKEN, USER)

        async def post(i: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                server_id = None
                for sql, args in zip(POST, post_params(i % 3 + 1, now_ms()), strict=True):
                    row = await conn.fetchrow(sql, *bind(args, server_id))
                    if sql.startswith("UPDATE"):
                        server_id = row[0]

        async def poll(_: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                for pk in (1, 2, 3):
                    for sql, args in zip(POLL, poll_params(pk), strict=True):
                        await conn.fetch(sql, *args)

        async def timed(work: Callable[[int], Any]) -> tuple[float, float]:
            per = OPS // CONCURRENCY

            async def worker(offset: int) -> None:
                for i in range(per):
                    await work(offset + i * CONCURRENCY)

            start, cpu = time.perf_counter(), time.process_time()
            await asyncio.gather(*(worker(n) for n in range(CONCURRENCY)))
            return time.perf_counter() - start, time.process_time() - cpu

        report("asyncpg", "post", await timed(post))
        report("asyncpg", "poll", await timed(poll))
        await pool.close()

    asyncio.run(main())


if __name__ == "__main__":
    target, mode = sys.argv[1], sys.argv[2]
    if mode == "asyncpg":
        bench_asyncpg(target)
    elif mode == "psycopg-pool":
        bench_psycopg_pool(target)
    else:
        bench_sqlalchemy(target, pre_ping=mode == "sqlalchemy")
