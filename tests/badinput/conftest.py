"""Bad input against a real server subprocess: a clear 4xx, never a 500, and nothing changes.

One server per xdist worker (session scope), with `--max-file-size 1000` and no pruning. The
autouse fixture `nothing_changes` snapshots every table and DATA_DIR/files before each test and
compares after it, and checks that the server is alive and logged no traceback meanwhile.
"""

from __future__ import annotations

import base64
import os
import socket
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from opengroup.crypto import (
    OnionCipher,
    ServerKeys,
    SessionKeys,
    build_onion_request,
    decrypt_auth_challenge,
    sign_session_message,
)
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

MAX_FILE_SIZE = 1000
TRANSPORTS = ("onion", "legacy")
# Columns that a successful authenticated request may legitimately refresh.
VOLATILE_COLUMNS = {
    "tokens": {"last_used_at"},
    "user_activity": {"last_active"},
    "users": {"last_active"},
}
# A signed modern request records its nonce before the endpoint runs, whatever the endpoint
# answers (SOGS-API.md 3.5): that is the request's authentication, not a change it made.
VOLATILE_TABLES = {"nonces"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class Env:
    """The server and the users every bad-input test works with (all in room `main`)."""

    server: RunningServer
    server_public: bytes
    mod: SessionKeys
    mod_token: str
    user: SessionKeys
    user_token: str
    pending: SessionKeys  # has a pending (unclaimed) token in main
    pending_token: str
    outsider: SessionKeys  # a valid Session ID with no token anywhere
    message_id: int  # posted by `user` in main
    file_id: int  # uploaded by `user` in main
    clients: dict[str, OpenGroupClient]

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    def client(self, transport: str) -> OpenGroupClient:
        return self.clients[transport]

    def message_body(self, data: bytes = b"hello") -> dict[str, Any]:
        return {
            "data": b64(data),
            "signature": b64(sign_session_message(self.user.private, data)),
            "timestamp": 1_600_000_000_000,
            "public_key": self.user.session_id,
        }


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("badinput")
    # No pruning while the tests run: it would delete the pending token (after 10 minutes) in
    # the middle of some test's before/after snapshot.
    extra_args = ("--max-file-size", str(MAX_FILE_SIZE), "--prune-interval-seconds", "86400")
    server = RunningServer(data_dir=root / "data", extra_args=extra_args).start()
    try:
        public = ServerKeys.from_pem((server.data_dir / "key.pem").read_bytes()).public
        clients = {t: OpenGroupClient(server.base_url, public, transport=t) for t in TRANSPORTS}
        og = clients["legacy"]
        mod, user, pending, outsider = (SessionKeys.generate() for _ in range(4))
        added = server.cli("moderators", "add", mod.session_id, "main")
        assert added.returncode == 0, added.stderr
        mod_token = og.authenticate(mod, "main")
        user_token = og.authenticate(user, "main")
        challenge = og.request(
            "GET", f"auth_token_challenge?public_key={pending.session_id}", headers={"Room": "main"}
        )
        assert challenge["status_code"] == 200, challenge
        pending_token = decrypt_auth_challenge(
            pending.private,
            base64.b64decode(challenge["challenge"]["ephemeral_public_key"]),
            base64.b64decode(challenge["challenge"]["ciphertext"]),
        ).hex()
        posted = og.post_message("main", user_token, user, b"first message")
        assert posted["status_code"] == 200, posted
        uploaded = og.upload_file("main", user_token, b"a small file")
        assert uploaded["status_code"] == 200, uploaded
        yield Env(
            server=server,
            server_public=public,
            mod=mod,
            mod_token=mod_token,
            user=user,
            user_token=user_token,
            pending=pending,
            pending_token=pending_token,
            outsider=outsider,
            message_id=posted["message"]["server_id"],
            file_id=uploaded["result"],
            clients=clients,
        )
        for client in clients.values():
            client.close()
    finally:
        server.stop()


# ---------------------------------------------------------------------------- nothing changed


def snapshot(data_dir: Path) -> dict[str, Any]:
    """Every row of every table (minus refresh-on-use columns), and the names in files/."""
    uri = f"file:{data_dir / 'opengroup.db'}?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        state: dict[str, Any] = {}
        for table in sorted(set(tables) - VOLATILE_TABLES):
            columns = [row[1] for row in con.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if c not in VOLATILE_COLUMNS.get(table, set())]
            quoted = ", ".join(f'"{c}"' for c in kept)
            rows = sorted(con.execute(f'SELECT {quoted} FROM "{table}"').fetchall(), key=repr)
            state[table] = rows
    finally:
        con.close()
    state["<files on disk>"] = sorted(os.listdir(data_dir / "files"))
    return state


def describe_change(before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            added = [row for row in new if row not in old]
            removed = [row for row in old if row not in new]
            lines.append(
                f"{name}: {len(old)} -> {len(new)} rows; "
                f"added {added[:3]!r}; removed {removed[:3]!r}"
            )
    return "\n".join(lines)


def log_size(server: RunningServer) -> int:
    assert server.log_path is not None
    return server.log_path.stat().st_size


def log_since(server: RunningServer, offset: int) -> str:
    assert server.log_path is not None
    with open(server.log_path, "rb") as handle:
        handle.seek(offset)
        return handle.read().decode(errors="replace")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


CALL_FAILED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def nothing_changes(env: Env, request: pytest.FixtureRequest) -> Iterator[None]:
    before = snapshot(env.data_dir)
    offset = log_size(env.server)
    yield
    if request.node.stash.get(CALL_FAILED, False):
        return  # the failure is reported already; do not report it twice
    assert env.server.process is not None and env.server.process.poll() is None, (
        "the server died:\n" + env.server.log()[-3000:]
    )
    logged = log_since(env.server, offset)
    assert "Traceback" not in logged and "internal error" not in logged, logged[-3000:]
    after = snapshot(env.data_dir)
    assert after == before, "bad input changed the data:\n" + describe_change(before, after)


# ---------------------------------------------------------------------------- assertions


def status_problem(reply: Mapping[str, Any], *allowed: int) -> str | None:
    """Why `reply` (a decoded API reply of either transport) is not one of `allowed`, or None."""
    if not isinstance(reply.get("status_code"), int):
        return f"no integer status_code: {reply!r}"[:500]
    if reply["status_code"] not in allowed:
        return f"expected {allowed}, got {reply!r}"[:500]
    if "Traceback" in repr(reply):
        return f"traceback in reply: {reply!r}"[:500]
    if "body" in reply:
        return f"top-level 'body' key: {reply!r}"[:500]
    return None


def poll_entry_problem(reply: Mapping[str, Any], *allowed: int) -> str | None:
    """A compact_poll that carries bad input: the whole poll is a 400, or its one entry fails
    with a status in `allowed` and empty lists. None if so, else why not."""
    if "Traceback" in repr(reply):
        return f"traceback in reply: {reply!r}"[:500]
    if reply.get("status_code") == 400:
        return None
    if reply.get("status_code") != 200 or len(reply.get("results", [])) != 1:
        return f"expected a 400 or one result, got {reply!r}"[:500]
    entry = reply["results"][0]
    if entry.get("status_code") not in allowed:
        return f"expected entry status {allowed}, got {entry!r}"[:500]
    if entry.get("messages") != [] or entry.get("deletions") != [] or entry.get("moderators") != []:
        return f"failed entry is not the full object with empty lists: {entry!r}"[:500]
    return None


def assert_status(reply: Mapping[str, Any], *allowed: int) -> None:
    problem = status_problem(reply, *allowed)
    assert problem is None, problem


def assert_poll_entry_rejected(reply: Mapping[str, Any], *allowed: int) -> None:
    problem = poll_entry_problem(reply, *allowed)
    assert problem is None, problem


def assert_no_problems(problems: list[str]) -> None:
    """For tests that loop over many bad values: report every value that was mishandled."""
    assert not problems, f"{len(problems)} mishandled:\n" + "\n".join(problems)


# ---------------------------------------------------------------------------- raw requests


def onion_envelope(
    env: Env, inner: object | bytes, metadata: Mapping[str, object] | None = None
) -> tuple[bytes, OnionCipher]:
    plaintext = inner if isinstance(inner, bytes) else orjson.dumps(inner)
    return build_onion_request(env.server_public, plaintext, metadata=dict(metadata or {}))


def decrypt_reply(response: httpx.Response, cipher: OnionCipher) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.text[:500])
    plaintext = cipher.decrypt(base64.b64decode(response.content, validate=True))
    reply = orjson.loads(plaintext)
    assert isinstance(reply, dict), reply
    return reply


def raw_http(
    port: int,
    method: str,
    target: str,
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
) -> tuple[int, bytes]:
    """One HTTP/1.1 request with the request target sent byte for byte (httpx normalises
    `..` away); returns (status, body)."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    head, _, content = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if b"transfer-encoding: chunked" in head.lower():
        content = _dechunk(content)
    return status, content


def _dechunk(data: bytes) -> bytes:
    out = []
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out.append(rest[:size])
        data = rest[size + 2 :]
    return b"".join(out)
