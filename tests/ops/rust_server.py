"""A Rust-era server's data directory (session-open-group-server 0.1.x), built the way that
server left it: the table definitions are those of ../shared/spec/rust-0.1-schema.sql."""

from __future__ import annotations

import base64
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from opengroup.crypto import ServerKeys, SessionKeys, sign_session_message

MAIN_DB_SCHEMA = """
CREATE TABLE IF NOT EXISTS main (
    id TEXT PRIMARY KEY,
    name TEXT,
    image_id TEXT
);
"""
ROOM_DB_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    public_key TEXT,
    timestamp INTEGER,
    data TEXT,
    signature TEXT,
    is_deleted INTEGER
);
CREATE TABLE IF NOT EXISTS deleted_messages (
    id INTEGER PRIMARY KEY,
    deleted_message_id INTEGER
);
CREATE TABLE IF NOT EXISTS moderators (public_key TEXT);
CREATE TABLE IF NOT EXISTS block_list (public_key TEXT);
CREATE TABLE IF NOT EXISTS pending_tokens (public_key TEXT, timestamp INTEGER, token BLOB);
CREATE TABLE IF NOT EXISTS tokens (public_key TEXT, timestamp INTEGER, token TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS files (id TEXT PRIMARY KEY, timestamp INTEGER);
CREATE TABLE IF NOT EXISTS user_activity (
    public_key TEXT PRIMARY KEY, last_active INTEGER NOT NULL
);
"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rust_key_pair(directory: Path) -> ServerKeys:
    """x25519_private_key.pem and x25519_public_key.pem as `openssl genpkey` writes them."""
    private = directory / "x25519_private_key.pem"
    if shutil.which("openssl"):
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "x25519", "-out", str(private)], check=True
        )
        subprocess.run(
            [
                "openssl",
                "pkey",
                "-in",
                str(private),
                "-pubout",
                "-out",
                str(directory / "x25519_public_key.pem"),
            ],
            check=True,
        )
    else:
        private.write_bytes(ServerKeys.generate().to_pem())
    return ServerKeys.from_pem(private.read_bytes())


@dataclass
class RustRoomData:
    """What one room of the Rust server held, for building it and checking the import."""

    room_id: str
    name: str
    messages: dict[int, dict[str, object]] = field(default_factory=dict)  # live ones
    deleted_ids: list[int] = field(default_factory=list)
    deletions: list[tuple[int, int]] = field(default_factory=list)
    moderators: list[SessionKeys] = field(default_factory=list)
    banned: list[SessionKeys] = field(default_factory=list)
    tokens: dict[str, SessionKeys] = field(default_factory=dict)  # hex token -> its user
    files: dict[int, bytes] = field(default_factory=dict)  # live ones
    expired_files: dict[int, bytes] = field(default_factory=dict)
    image: bytes | None = None
    active: list[SessionKeys] = field(default_factory=list)


@dataclass
class RustServer:
    path: Path
    keys: ServerKeys
    rooms: dict[str, RustRoomData]


def write_room(
    path: Path, room: RustRoomData, posts: list[tuple[int, SessionKeys | None]], now: float
) -> None:
    """`posts`: (id, author) in order; author None = a message the Rust server deleted."""
    db = sqlite3.connect(path / "rooms" / f"{room.room_id}.db")
    db.executescript(ROOM_DB_SCHEMA)
    for message_id, author in posts:
        if author is None:
            db.execute(
                "INSERT INTO messages VALUES (?, 'deleted', 0, 'deleted', 'deleted', 1)",
                (message_id,),
            )
            continue
        data = os.urandom(50) + b"\x00" * 14  # padded, as clients sent it
        message = {
            "server_id": message_id,
            "public_key": author.session_id,
            "timestamp": int((now - 3600) * 1000) + message_id,
            "data": b64(data),
            "signature": b64(sign_session_message(author.private, data)),
        }
        room.messages[message_id] = message
        db.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, 0)",
            (
                message_id,
                message["public_key"],
                message["timestamp"],
                message["data"],
                message["signature"],
            ),
        )
    db.executemany("INSERT INTO deleted_messages VALUES (?, ?)", room.deletions)
    db.executemany("INSERT INTO moderators VALUES (?)", [(m.session_id,) for m in room.moderators])
    db.executemany("INSERT INTO block_list VALUES (?)", [(b.session_id,) for b in room.banned])
    db.execute(
        "INSERT INTO pending_tokens VALUES (?, ?, ?)",
        (SessionKeys.generate().session_id, int(now), os.urandom(48)),
    )
    db.executemany(
        "INSERT INTO tokens VALUES (?, ?, ?)",
        [(user.session_id, int(now - 86_400), token) for token, user in room.tokens.items()],
    )
    files_dir = path / "files" / f"{room.room_id}_files"
    files_dir.mkdir(parents=True, exist_ok=True)
    for file_id, content in room.files.items():
        db.execute("INSERT INTO files VALUES (?, ?)", (str(file_id), int(now - 86_400)))
        (files_dir / str(file_id)).write_bytes(content)
    for file_id, content in room.expired_files.items():
        db.execute("INSERT INTO files VALUES (?, ?)", (str(file_id), int(now - 30 * 86_400)))
        (files_dir / str(file_id)).write_bytes(content)
    db.executemany(
        "INSERT INTO user_activity VALUES (?, ?)",
        [(user.session_id, int(now - 3600)) for user in room.active],
    )
    db.commit()
    db.close()
    if room.image is not None:
        (path / "files" / room.room_id).write_bytes(room.image)


def build_rust_server(path: Path, extra_rooms: dict[str, str] | None = None) -> RustServer:
    """Rooms `main` (full of everything) and `lokinet` (a little), plus `extra_rooms`."""
    now = time.time()
    path.mkdir(parents=True)
    (path / "rooms").mkdir()
    (path / "files").mkdir()
    keys = rust_key_pair(path)
    alice, bob, mod, banned = (SessionKeys.generate() for _ in range(4))

    main = RustRoomData("main", "Main Room")
    main.deleted_ids = [3, 5]
    # Message 5 was deleted twice: the Rust server recorded both (as it did).
    main.deletions = [(1, 3), (2, 5), (3, 5)]
    main.moderators = [mod]
    main.banned = [banned]
    main.tokens = {
        os.urandom(48).hex(): alice,
        os.urandom(48).hex(): mod,
        os.urandom(48).hex(): banned,
    }
    main.files = {1_234_567_890_123: os.urandom(5000), 2_147_483_999: b"small file"}
    main.expired_files = {4_000_000_042: b"expired long ago"}
    main.image = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
    main.active = [alice, bob, mod]
    posts: list[tuple[int, SessionKeys | None]] = [
        (1, alice),
        (2, bob),
        (3, None),
        (4, alice),
        (5, None),
        (6, bob),
    ]
    lokinet = RustRoomData("lokinet", "Lokinet Updates")
    lokinet.tokens = {os.urandom(48).hex(): bob}

    db = sqlite3.connect(path / "database.db")
    db.executescript(MAIN_DB_SCHEMA)
    rooms = {"main": main, "lokinet": lokinet}
    for room_id, name in (extra_rooms or {}).items():
        rooms[room_id] = RustRoomData(room_id, name)
    for room in rooms.values():
        db.execute("INSERT INTO main VALUES (?, ?, NULL)", (room.room_id, room.name))
    db.commit()
    db.close()
    write_room(path, main, posts, now)
    write_room(path, lokinet, [(1, bob), (2, bob)], now)
    for room_id in extra_rooms or {}:
        write_room(path, rooms[room_id], [(1, alice)], now)
    return RustServer(path, keys, rooms)
