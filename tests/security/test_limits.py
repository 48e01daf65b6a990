"""Limits that stop abuse without touching normal users (issue 6): each gives its own clear
error, and each is configurable. In process, through the routing table, on a real database."""

from __future__ import annotations

import base64
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from opengroup.crypto import SessionKeys, decrypt_auth_challenge, sign_session_message
from opengroup.rules.tokens import PENDING_TOKEN_SECONDS
from opengroup.usecases.context import DAY
from tests.support.fuzzing import InProcess, authenticate, call, open_in_process


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Any]:
    opened: list[InProcess] = []

    def make(**settings: Any) -> InProcess:
        server = open_in_process(tmp_path / f"data{len(opened)}", **settings)
        opened.append(server)
        return server

    yield make
    for server in opened:
        server.ctx.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def poll(server: InProcess, entries: list[dict[str, Any]]) -> Any:
    return call(server.ctx, "POST", "compact_poll", body=orjson.dumps({"requests": entries}))


# ------------------------------------------------------------------ compact_poll cap


def test_compact_poll_accepts_the_cap_and_unknown_rooms_get_their_404(make_server: Any) -> None:
    server = make_server()
    known = {"room_id": "main", "auth_token": server.user_token}
    entries = [known] + [{"room_id": f"gone_{i}", "auth_token": ""} for i in range(199)]
    reply = poll(server, entries)
    assert reply.status_code == 200, reply
    results = reply.fields["results"]
    assert len(results) == 200
    assert results[0]["status_code"] == 200
    for result in results[1:]:
        assert result["status_code"] == 404
        assert result["messages"] == [] and result["deletions"] == []
        assert result["moderators"] == []


def test_compact_poll_over_the_cap_is_refused_with_its_own_error(make_server: Any) -> None:
    server = make_server()
    reply = poll(server, [{"room_id": "main", "auth_token": ""}] * 201)
    assert reply.status_code == 400
    assert reply.fields["error"] == "at most 200 rooms per compact_poll"


def test_compact_poll_cap_is_configurable(make_server: Any) -> None:
    server = make_server(max_poll_rooms=3)
    assert poll(server, [{"room_id": "main", "auth_token": ""}] * 3).status_code == 200
    reply = poll(server, [{"room_id": "main", "auth_token": ""}] * 4)
    assert (reply.status_code, reply.fields["error"]) == (400, "at most 3 rooms per compact_poll")


# ------------------------------------------------------------------ pending tokens


def challenge(server: InProcess, user: SessionKeys, room: str = "main") -> str:
    reply = call(
        server.ctx,
        "GET",
        "auth_token_challenge",
        query={"public_key": user.session_id},
        headers={"Room": room},
    )
    assert reply.status_code == 200, reply
    found = reply.fields["challenge"]
    return decrypt_auth_challenge(
        user.private,
        base64.b64decode(found["ephemeral_public_key"]),
        base64.b64decode(found["ciphertext"]),
    ).hex()


def claim(server: InProcess, user: SessionKeys, token: str, room: str = "main") -> Any:
    return call(
        server.ctx,
        "POST",
        "claim_auth_token",
        body=orjson.dumps({"public_key": user.session_id}),
        headers={"Room": room, "Authorization": token},
    )


def pending_count(server: InProcess, user: SessionKeys) -> int:
    with sqlite3.connect(server.ctx.config.data_path / "opengroup.db") as db:
        (count,) = db.execute(
            "SELECT count(*) FROM tokens WHERE session_id = ? AND NOT claimed", (user.session_id,)
        ).fetchone()
    return int(count)


def test_challenges_in_a_victims_name_cannot_lock_them_out(make_server: Any) -> None:
    """Session ids are public: anyone may ask for challenges in the victim's name between
    the victim's challenge and claim. The victim's claim still works (issue 16, item 3)."""
    server = make_server()
    victim = SessionKeys.generate()
    token = challenge(server, victim)
    for _ in range(20):
        challenge(server, victim)  # the attacker cannot decrypt these
    assert claim(server, victim, token).status_code == 200
    # Claiming it again is harmless; another user cannot claim it.
    assert claim(server, victim, token).status_code == 200
    other = claim(server, SessionKeys.generate(), token)
    assert other.status_code == 401


def test_challenges_for_invented_ids_store_nothing(make_server: Any) -> None:
    """A flood of challenges for invented session ids leaves no rows behind: pending tokens
    are derived, not stored, so the database does not grow with them."""
    server = make_server()
    database = server.ctx.config.data_path / "opengroup.db"
    with sqlite3.connect(database) as db:
        (before,) = db.execute("SELECT count(*) FROM tokens").fetchone()
    users = [SessionKeys.generate() for _ in range(50)]
    for user in users:
        challenge(server, user)
    assert sum(pending_count(server, user) for user in users) == 0
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM tokens").fetchone() == (before,)


def test_a_pending_token_expires_after_two_windows(make_server: Any) -> None:
    server = make_server()
    user = SessionKeys.generate()
    token = challenge(server, user)
    start = time.time()
    server.ctx.clock = lambda: start + 2 * PENDING_TOKEN_SECONDS + 1
    expired = claim(server, user, token)
    assert (expired.status_code, expired.fields["error"]) == (401, "unknown auth token")


# ------------------------------------------------------------------ message size


def post(server: InProcess, data: bytes, user: SessionKeys | None = None) -> Any:
    user = user or server.mod  # moderators are not rate limited
    token = server.mod_token if user is server.mod else authenticate(server.ctx, user, "main")
    body = {"data": b64(data), "signature": b64(sign_session_message(user.private, data))}
    return call(
        server.ctx, "POST", "messages", body=orjson.dumps(body), headers=server.headers(token)
    )


def test_default_message_size_is_64_kib(make_server: Any) -> None:
    server = make_server()
    assert post(server, b"m" * 65536).status_code == 200
    reply = post(server, b"m" * 65537)
    assert reply.status_code == 413
    assert reply.fields["error"] == "message data is 65537 bytes; the limit is 65536"


def test_message_size_is_configurable_and_refused_before_decoding(make_server: Any) -> None:
    server = make_server(max_message_size=100)
    assert post(server, b"m" * 100).status_code == 200
    assert post(server, b"m" * 101).status_code == 413
    huge = post(server, b"m" * 10_000)
    assert huge.status_code == 413
    assert huge.fields["error"] == "message data is larger than the limit of 100 bytes"


# ------------------------------------------------------------------ upload quota


def upload(server: InProcess, token: str, size: int, room: str = "main") -> Any:
    return call(
        server.ctx,
        "POST",
        "files",
        body=orjson.dumps({"file": b64(b"f" * size)}),
        headers=server.headers(token, room),
    )


def test_upload_quota_is_off_by_default(make_server: Any) -> None:
    server = make_server(max_file_size=1_000_000)
    for _ in range(5):
        assert upload(server, server.user_token, 1_000_000).status_code == 200


def test_upload_quota_per_user_per_room_per_day(make_server: Any) -> None:
    server = make_server(upload_quota_bytes_per_day=1000)
    assert upload(server, server.user_token, 600).status_code == 200
    assert upload(server, server.user_token, 400).status_code == 200
    refused = upload(server, server.user_token, 1)
    assert refused.status_code == 429
    assert refused.fields["error"] == "upload quota of 1000 bytes per day in this room reached"
    # The quota is per user ...
    assert upload(server, server.mod_token, 1000).status_code == 200
    # ... per room ...
    second = authenticate(server.ctx, server.user, "second")
    assert upload(server, second, 1000, room="second").status_code == 200
    # ... and per day.
    now = server.ctx.clock()
    server.ctx.clock = lambda: now + DAY + 1
    assert upload(server, server.user_token, 1000).status_code == 200


def test_limit_errors_are_distinct(make_server: Any) -> None:
    """Rate limit and upload quota share 429 but say different things."""
    server = make_server(upload_quota_bytes_per_day=10, rate_limit_posts=1)
    user = SessionKeys.generate()
    assert post(server, b"one", user).status_code == 200
    rate = post(server, b"two", user)
    token = authenticate(server.ctx, user, "main")
    upload(server, token, 10)
    quota = upload(server, token, 10)
    assert rate.status_code == quota.status_code == 429
    assert rate.fields["error"] != quota.fields["error"]
