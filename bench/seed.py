"""Seed a fresh data directory straight into the store's tables (SQLAlchemy Core, one
transaction, executemany): rooms, their message history, users and claimed auth tokens.

Going through the API would take minutes for 10^6 messages or 10^4 tokens; the rows written here
are the ones the server writes itself (`opengroup.store.schema`), with `rooms.message_seq` equal
to the highest server_id, tokens stored as SHA-256 hashes, claimed. Message signatures are not
valid (nobody verifies stored messages); posts made during the run are signed for real.
"""

from __future__ import annotations

import base64
import hashlib
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, update

from opengroup.config import Config
from opengroup.crypto import SessionKeys
from opengroup.crypto.blinding import root_session_id
from opengroup.rules.tokens import TOKEN_TOUCH_INTERVAL_SECONDS
from opengroup.runtime.bootstrap import open_context
from opengroup.store.schema import messages, rooms, tokens, users
from opengroup.testing.modern import BlindedUser

CHUNK = 20_000


@dataclass(frozen=True)
class DatasetSpec:
    rooms: int = 20
    messages_per_room: int = 1000
    clients: int = 1000
    rooms_per_client: int = 5
    # Rooms named in `big_rooms` get this many messages instead (the 10^6 scale row).
    big_room_messages: int = 0
    big_rooms: int = 0
    seed: int = 1
    # Modern (SOGS API) users: blinded (15) clients with K rooms each, their `users` rows
    # written as their first signed request would (created, last_active, root).
    modern_clients: int = 0


@dataclass
class ClientSpec:
    """One simulated user: its keys, and a claimed token in each of its rooms."""

    private: bytes
    session_id: str
    rooms: list[str]
    tokens: list[str]  # hex, as clients send them
    cursors: list[int]  # message cursor per room, at the head when seeded


@dataclass
class ModernClientSpec:
    """One modern user: the seed of its Ed25519 key (BlindedUser), its rooms and a seqno
    cursor per room (at the head when seeded)."""

    seed: bytes
    rooms: list[str]
    cursors: list[int]


@dataclass
class Dataset:
    data_dir: Path
    server_public: bytes
    room_ids: list[str]
    message_seq: dict[str, int]
    clients: list[ClientSpec] = field(default_factory=list)
    seconds: float = 0.0
    modern_clients: list[ModernClientSpec] = field(default_factory=list)


def room_name(index: int) -> str:
    return f"room{index:04d}"


def _message_rows(room_pk: int, count: int, senders: list[str], rng: random.Random) -> list[dict]:
    now_ms = int(time.time() * 1000)
    blob = base64.b64encode(rng.randbytes(3 * 1024)).decode()  # sliced per row: distinct data
    signature = base64.b64encode(rng.randbytes(64)).decode()
    rows: list[dict] = []
    for server_id in range(1, count + 1):
        start = server_id % 1024
        timestamp = now_ms - (count - server_id) * 1000
        rows.append(
            {
                "room_pk": room_pk,
                "server_id": server_id,
                "session_id": senders[server_id % len(senders)],
                "timestamp": timestamp,
                "data": blob[start : start + 300],  # ~225 bytes decoded: a padded text message
                "signature": signature,
                "deleted": False,
                "seqno": server_id,  # nothing deleted or edited: seqno = id
                "seqno_data": server_id,
                "seqno_creation": server_id,
                "posted": timestamp / 1000,
            }
        )
    return rows


def _bulk_engine(url: str) -> Engine:
    """A loader connection: no journal, no fsync (the server switches back to WAL on start)."""
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode = OFF")
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -400000")
        cursor.close()

    return engine


def seed(data_dir: Path, spec: DatasetSpec) -> Dataset:
    """Create `data_dir` (must not exist yet) with the dataset of `spec`."""
    started = time.monotonic()
    rng = random.Random(spec.seed)
    config = Config(data_dir=str(data_dir), create_main_room=False)
    ctx = open_context(config)  # key, schema (migrations), files directory
    public = ctx.keys.public
    ctx.close()
    engine = _bulk_engine(config.sqlalchemy_url)
    try:
        room_ids = [room_name(i) for i in range(spec.rooms)]
        counts = {
            room_id: (spec.big_room_messages if i < spec.big_rooms else spec.messages_per_room)
            for i, room_id in enumerate(room_ids)
        }
        clients = [
            SessionKeys.from_private_bytes(hashlib.sha256(b"bench%d" % i).digest())
            for i in range(spec.clients)
        ]
        senders = [c.session_id for c in clients[:500]] or ["05" + "00" * 32]
        now = time.time()
        with engine.begin() as conn:
            pks: dict[str, int] = {}
            for room_id in room_ids:
                pks[room_id] = conn.execute(
                    insert(rooms)
                    .values(id=room_id, name=f"Bench {room_id}", created_at=now)
                    .returning(rooms.c.pk)
                ).scalar_one()
            for room_id in room_ids:
                rows = _message_rows(pks[room_id], counts[room_id], senders, rng)
                for start in range(0, len(rows), CHUNK):
                    conn.execute(insert(messages), rows[start : start + CHUNK])
                conn.execute(
                    update(rooms)
                    .where(rooms.c.pk == pks[room_id])
                    .values(message_seq=counts[room_id], seqno=counts[room_id])
                )
            specs: list[ClientSpec] = []
            token_rows: list[dict] = []
            k = min(spec.rooms_per_client, len(room_ids))
            for keys in clients:
                mine = rng.sample(room_ids, k)
                hexes = []
                for room_id in mine:
                    token = os.urandom(48)
                    hexes.append(token.hex())
                    # Last use spread over the touch interval: polls refresh tokens at the
                    # steady rate a long-running server sees (tokens / interval per second).
                    used = now - rng.uniform(0, TOKEN_TOUCH_INTERVAL_SECONDS)
                    token_rows.append(
                        {
                            "token_hash": hashlib.sha256(token).digest(),
                            "room_pk": pks[room_id],
                            "session_id": keys.session_id,
                            "claimed": True,
                            "created_at": used,
                            "last_used_at": used,
                        }
                    )
                specs.append(
                    ClientSpec(
                        keys.private,
                        keys.session_id,
                        mine,
                        hexes,
                        [counts[room_id] for room_id in mine],
                    )
                )
            for start in range(0, len(token_rows), CHUNK):
                conn.execute(insert(tokens), token_rows[start : start + CHUNK])
            modern, user_rows = _modern_clients(spec, room_ids, counts, public, now, rng)
            for start in range(0, len(user_rows), CHUNK):
                conn.execute(insert(users), user_rows[start : start + CHUNK])
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode = WAL")
    finally:
        engine.dispose()
    return Dataset(
        data_dir=data_dir,
        server_public=public,
        room_ids=room_ids,
        message_seq=counts,
        clients=specs,
        seconds=time.monotonic() - started,
        modern_clients=modern,
    )


def modern_user(index: int) -> BlindedUser:
    """The bench's modern user number `index` (deterministic)."""
    return BlindedUser(hashlib.sha256(b"bench-sogs%d" % index).digest())


def _modern_clients(
    spec: DatasetSpec,
    room_ids: list[str],
    counts: dict[str, int],
    server_public: bytes,
    now: float,
    rng: random.Random,
) -> tuple[list[ModernClientSpec], list[dict]]:
    found: list[ModernClientSpec] = []
    rows: list[dict] = []
    k = min(spec.rooms_per_client, len(room_ids))
    for i in range(spec.modern_clients):
        user = modern_user(i)
        blinded = user.blinded_id(server_public)
        rows.append(
            {
                "session_id": blinded,
                "root": root_session_id(blinded, server_public),
                "created": now,
                "last_active": now,
            }
        )
        mine = rng.sample(room_ids, k)
        found.append(ModernClientSpec(user.seed, mine, [counts[r] for r in mine]))
    return found, rows


def only_room(client: ClientSpec, room_id: str) -> ClientSpec:
    """The same user, polling just `room_id` (it must be one of its rooms)."""
    i = client.rooms.index(room_id)
    return ClientSpec(
        client.private, client.session_id, [room_id], [client.tokens[i]], [client.cursors[i]]
    )


def refresh_cursors(dataset: Dataset) -> None:
    """Move every client's cursors to the rooms' current heads (as a long-running client has)."""
    import sqlite3

    path = dataset.data_dir / "opengroup.db"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        heads = dict(db.execute("SELECT id, message_seq FROM rooms").fetchall())
    dataset.message_seq.update(heads)
    for client in dataset.clients:
        client.cursors = [heads[room] for room in client.rooms]
    if dataset.modern_clients:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            seqnos = dict(db.execute("SELECT id, seqno FROM rooms").fetchall())
        for modern in dataset.modern_clients:
            modern.cursors = [seqnos[room] for room in modern.rooms]
