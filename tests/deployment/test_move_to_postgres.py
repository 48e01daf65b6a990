"""Moving a live server from SQLite to PostgreSQL with `opengroup db copy`.

A server on SQLite is filled through the API (rooms, messages, deletions, files, a room image,
moderators, bans, auth tokens), stopped, its database copied to a fresh PostgreSQL database,
and started again on PostgreSQL with the same data directory: clients see the same state, and
their old tokens still work.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.databases import DatabaseFactory
from tests.support.server import RunningServer, run_cli

pytestmark = pytest.mark.postgres

ROOMS = ("lounge", "news")
NO_RATE_LIMIT = ("--rate-limit-posts", "1000")


def ok(reply: dict[str, Any]) -> dict[str, Any]:
    assert reply["status_code"] == 200, reply
    return reply


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Users:
    def __init__(self) -> None:
        self.admin = SessionKeys.generate()  # global moderator, made with the CLI
        self.mod = SessionKeys.generate()  # moderator of `lounge`, made through the API
        self.alice = SessionKeys.generate()
        self.mallory = SessionKeys.generate()  # banned from `lounge`


def fill(og: OpenGroupClient, users: Users) -> dict[str, Any]:
    """Through the API; returns the tokens and file ids a client would keep."""
    tokens = {
        (name, room): og.authenticate(getattr(users, name), room)
        for name in ("admin", "alice", "mallory")
        for room in ROOMS
    }
    admin = tokens["admin", "lounge"]
    ok(og.request("POST", "moderators", body={"public_key": users.mod.session_id,
        "room_id": "lounge"}, headers=og._auth("lounge", admin)))  # fmt: skip
    tokens["mod", "lounge"] = og.authenticate(users.mod, "lounge")
    for n in range(12):
        room = ROOMS[n % 2]
        ok(og.post_message(room, tokens["alice", room], users.alice, f"hello {n}".encode()))
    ok(og.post_message("lounge", tokens["mallory", "lounge"], users.mallory, b"spam"))
    ok(og.delete_messages("lounge", tokens["mod", "lounge"], [1, 3]))
    ok(og.request("POST", "block_list", body={"public_key": users.mallory.session_id},
        headers=og._auth("lounge", tokens["mod", "lounge"])))  # fmt: skip
    file_id = ok(og.upload_file("news", tokens["alice", "news"], b"\x00file bytes\xff"))["result"]
    ok(og.request("POST", "rooms/lounge/image", body={"file": b64(b"\x89PNG\r\n\x1a\n image")},
        headers=og._auth("lounge", admin)))  # fmt: skip
    return {"tokens": tokens, "file_id": file_id}


def observe(og: OpenGroupClient, kept: dict[str, Any]) -> dict[Any, Any]:
    """Everything a client can see, using only the tokens it kept."""
    tokens = kept["tokens"]
    seen: dict[Any, Any] = {}
    for room in ROOMS:
        alice = tokens["alice", room]
        seen[room, "messages"] = ok(og.get_messages(room, alice, from_server_id=0))["messages"]
        seen[room, "deleted"] = ok(
            og.request("GET", "deleted_messages?from_server_id=0", headers=og._auth(room, alice))
        )["ids"]
        seen[room, "moderators"] = ok(
            og.request("GET", "moderators", headers=og._auth(room, alice))
        )["moderators"]
        seen[room, "bans"] = ok(og.request("GET", "block_list", headers=og._auth(room, alice)))[
            "banned_members"
        ]
        seen[room, "mallory"] = og.get_messages(room, tokens["mallory", room])["status_code"]
        seen[room, "poll"] = ok(
            og.compact_poll([{"room_id": room, "auth_token": alice, "from_message_server_id": 0}])
        )["results"]
    seen["file"] = ok(og.get_file("news", tokens["alice", "news"], kept["file_id"]))["result"]
    seen["image"] = ok(og.request("GET", "rooms/lounge/image"))["result"]
    seen["rooms"] = ok(og.get_rooms())["rooms"]
    return seen


def test_a_server_moved_to_postgres_serves_the_same_state(
    tmp_path: Path, database_factory: DatabaseFactory
) -> None:
    postgres_url = database_factory("postgres")
    users = Users()
    data_dir = tmp_path / "data"
    sqlite_server = RunningServer(data_dir, extra_args=NO_RATE_LIMIT)
    assert sqlite_server.cli("init").returncode == 0
    for room in ROOMS:
        assert sqlite_server.cli("rooms", "add", room, room.title()).returncode == 0
    assert (
        sqlite_server.cli("moderators", "add", users.admin.session_id, "--global").returncode == 0
    )
    sqlite_server.start()
    try:
        public_key = sqlite_server.public_key
        with OpenGroupClient(sqlite_server.base_url, public_key, transport="onion") as og:
            kept = fill(og, users)
            before = observe(og, kept)
    finally:
        sqlite_server.stop()
    assert before["lounge", "mallory"] == 403
    assert len(before["lounge", "deleted"]) == 2

    copied = run_cli("db", "copy", "--from", str(data_dir / "opengroup.db"), "--to", postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert "every row count matches" in copied.stdout

    pg_server = RunningServer(
        data_dir, database_url=postgres_url, workers=2, extra_args=NO_RATE_LIMIT
    ).start()
    try:
        assert pg_server.public_key == public_key
        with OpenGroupClient(pg_server.base_url, public_key, transport="legacy") as og:
            after = observe(og, kept)
            assert after == before
            # The copy continues where SQLite stopped: ids, room pks.
            alice = kept["tokens"]["alice", "lounge"]
            reply = ok(og.post_message("lounge", alice, users.alice, b"on postgres"))
            assert reply["message"]["server_id"] == 8  # 6 of alice's + mallory's were 1..7
            mod = kept["tokens"]["mod", "lounge"]
            ok(og.delete_messages("lounge", mod, [8]))
            # A deletion's id is the seqno it took (SOGS-API.md 1.2): above every cursor a
            # client held on SQLite.
            cursor = max(d["id"] for d in before["lounge", "deleted"])
            deleted = ok(og.request("GET", f"deleted_messages?from_server_id={cursor}",
                headers=og._auth("lounge", alice)))["ids"]  # fmt: skip
            assert [d["deleted_message_id"] for d in deleted] == [8]
            assert deleted[0]["id"] > cursor
        assert pg_server.cli("rooms", "add", "fresh", "Fresh").returncode == 0
        listed = pg_server.cli("rooms", "list").stdout
        assert "fresh" in listed and "lounge" in listed
        # The data directory remembers PostgreSQL (issue 15): a command without the URL follows
        # it, and one pointed at the old SQLite file is refused, changing nothing.
        plain = run_cli("rooms", "list", "--data-dir", str(data_dir))
        assert plain.returncode == 0 and "fresh" in plain.stdout, plain.stderr
        old = f"sqlite:///{(data_dir / 'opengroup.db').resolve()}"
        stale = run_cli("rooms", "add", "ghost", "Ghost", "--data-dir", str(data_dir),
                        "--database-url", old)  # fmt: skip
        assert stale.returncode == 2 and "served from postgresql" in stale.stderr, stale.stderr
        assert "ghost" not in pg_server.cli("rooms", "list").stdout
    finally:
        pg_server.stop()
