"""Fixtures and helpers for the end-to-end suite.

Each xdist worker starts one server with default settings (`server`) and, only when a test asks
for them, servers with a small file limit or without signature checks. Tests use fresh users
(the default rate limit is 5 posts per 16 s per user per room) and, where they need a clean
slate, fresh rooms made with the operator CLI. Most tests run once per transport through the
`client` fixture; every reply a test receives is checked against PROTOCOL.md 1.2's "never"
rules by `CheckedClient`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nacl.bindings
import orjson
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opengroup.cli.main import main as cli_main
from opengroup.crypto import SessionKeys, sign_session_message
from opengroup.testing.client import OpenGroupClient
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient
from tests.support.server import RunningServer

TRANSPORTS = ("onion", "legacy")
FORBIDDEN_STATUSES = (406, 421)


# ------------------------------------------------------------------------------ small helpers


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def is_int(value: object) -> bool:
    """A JSON integer (bool is an int subclass in Python, but not in JSON)."""
    return isinstance(value, int) and not isinstance(value, bool)


def assert_well_formed(reply: dict[str, Any]) -> None:
    """PROTOCOL.md 1.2: an integer status_code, never 406/421, never a top-level `body`."""
    assert is_int(reply.get("status_code")), reply
    assert reply["status_code"] not in FORBIDDEN_STATUSES, reply
    assert "body" not in reply, reply


def status(reply: dict[str, Any]) -> int:
    return int(reply["status_code"])


def signed_body(keys: SessionKeys, data: bytes, **extra: object) -> dict[str, object]:
    return {"data": b64(data), "signature": b64(sign_session_message(keys.private, data)), **extra}


class CheckedClient(OpenGroupClient):
    """OpenGroupClient whose every reply (authentication included) is checked for shape."""

    def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        reply = super().request(*args, **kwargs)
        assert_well_formed(reply)
        return reply


# ------------------------------------------------------------------------------ a user in a room


@dataclass
class Member:
    """A user authenticated in one room, with shortcuts for requests carrying their token."""

    client: CheckedClient
    keys: SessionKeys
    room: str
    token: str

    @classmethod
    def join(
        cls, client: CheckedClient, room: str = "main", keys: SessionKeys | None = None
    ) -> Member:
        keys = keys or SessionKeys.generate()
        return cls(client, keys, room, client.authenticate(keys, room))

    @property
    def session_id(self) -> str:
        return self.keys.session_id

    @property
    def headers(self) -> dict[str, object]:
        return {"Room": self.room, "Authorization": self.token}

    def get(self, endpoint: str) -> dict[str, Any]:
        return self.client.request("GET", endpoint, headers=self.headers)

    def post(self, endpoint: str, body: object) -> dict[str, Any]:
        return self.client.request("POST", endpoint, body=body, headers=self.headers)

    def delete(self, endpoint: str) -> dict[str, Any]:
        return self.client.request("DELETE", endpoint, headers=self.headers)

    def try_post_message(self, data: bytes) -> dict[str, Any]:
        return self.post("messages", signed_body(self.keys, data))

    def post_message(self, data: bytes | None = None) -> dict[str, Any]:
        """Post and return the stored message object (asserting success)."""
        reply = self.try_post_message(data if data is not None else os.urandom(40))
        assert status(reply) == 200, reply
        return dict(reply["message"])

    def messages(self, query: str = "") -> list[dict[str, Any]]:
        reply = self.get("messages" + (f"?{query}" if query else ""))
        assert status(reply) == 200, reply
        return list(reply["messages"])

    def deletions(self, query: str = "") -> list[dict[str, Any]]:
        reply = self.get("deleted_messages" + (f"?{query}" if query else ""))
        assert status(reply) == 200, reply
        return list(reply["ids"])

    def message_ids(self, query: str = "") -> list[int]:
        return [message["server_id"] for message in self.messages(query)]


# ------------------------------------------------------------------------------ servers


@dataclass
class Server:
    running: RunningServer
    public_key: bytes

    @property
    def base_url(self) -> str:
        return self.running.base_url

    def client(self, transport: str = "onion", **kwargs: Any) -> CheckedClient:
        return CheckedClient(self.base_url, self.public_key, transport=transport, **kwargs)  # type: ignore[arg-type]

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        """Run an operator command on this server's data directory; its output.

        For setup speed the CLI runs in this process (click's runner) rather than as a new
        Python process: the same commands, code and data directory as `RunningServer.cli`.
        """
        result = CliRunner().invoke(
            cli_main,
            [*args, "--data-dir", str(self.running.data_dir)],
            env={**self.running.process_env, **(env or {})},
            catch_exceptions=False,
        )
        assert result.exit_code == 0, f"opengroup {' '.join(args)} failed:\n{result.output}"
        return result.output

    def new_room(self, name: str = "Test room", prefix: str = "r") -> str:
        room_id = f"{prefix}{secrets.token_hex(5)}"
        self.cli("rooms", "add", room_id, name)
        return room_id

    def add_moderator(self, session_id: str, room: str | None = None) -> None:
        self.cli("moderators", "add", session_id, *([room] if room else ["--global"]))

    def add_admin(self, session_id: str, room: str) -> None:
        self.cli("moderators", "add", session_id, room, "--admin")

    def ban(self, session_id: str, room: str) -> None:
        self.cli("bans", "add", session_id, room)

    def unban(self, session_id: str, room: str) -> None:
        self.cli("bans", "remove", session_id, room)


def start_server(data_dir: Path, *extra_args: str, database_url: str = "") -> Server:
    running = RunningServer(
        data_dir=data_dir, extra_args=extra_args, database_url=database_url
    ).start()
    handle = Server(running, b"")
    try:
        handle.public_key = bytes.fromhex(handle.cli("key").strip())
    except BaseException:
        running.stop()
        raise
    return handle


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, session_db_url: str) -> Iterator[Server]:
    """Default settings: 5 posts / 16 s, 10,000,000-byte files, signatures verified.

    Once on SQLite and, when OPENGROUP_TEST_POSTGRES_URL is set, once on PostgreSQL: every
    test using this server runs on both databases."""
    handle = start_server(tmp_path_factory.mktemp("default") / "data", database_url=session_db_url)
    yield handle
    handle.running.stop()


LENIENT_MAX_FILE_SIZE = 1000


@pytest.fixture(scope="session")
def lenient_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Non-default settings: 1000-byte files, no signature checks, no practical rate limit."""
    handle = start_server(
        tmp_path_factory.mktemp("lenient") / "data",
        "--max-file-size",
        str(LENIENT_MAX_FILE_SIZE),
        "--no-verify-signatures",
        "--rate-limit-posts",
        "100000",
    )
    yield handle
    handle.running.stop()


SHORT_LIFETIME_SECONDS = 4.0


@pytest.fixture(scope="session")
def short_lived_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Tokens unused for, and files older than, SHORT_LIFETIME_SECONDS expire."""
    days = str(SHORT_LIFETIME_SECONDS / 86_400)
    handle = start_server(
        tmp_path_factory.mktemp("short") / "data",
        "--token-expiry-days",
        days,
        "--file-expiry-days",
        days,
    )
    yield handle
    handle.running.stop()


@pytest.fixture(scope="session")
def global_moderator(server: Server) -> SessionKeys:
    keys = SessionKeys.generate()
    server.add_moderator(keys.session_id)
    return keys


# ------------------------------------------------------------------------------ clients


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(server: Server, transport: str) -> Iterator[CheckedClient]:
    with server.client(transport) as og:
        yield og


@pytest.fixture
def onion(server: Server) -> Iterator[CheckedClient]:
    with server.client("onion") as og:
        yield og


@pytest.fixture
def legacy(server: Server) -> Iterator[CheckedClient]:
    with server.client("legacy") as og:
        yield og


@pytest.fixture
def join(client: CheckedClient) -> Callable[..., Member]:
    """`join(room="main", keys=None)`: a fresh (or given) user authenticated in `room`."""

    def _join(room: str = "main", keys: SessionKeys | None = None) -> Member:
        return Member.join(client, room, keys)

    return _join


# ------------------------------------------------------------------------------ raw onion requests
#
# Built here from PROTOCOL.md 1.1 and 1.3 alone (not with opengroup.crypto), so that the envelope
# tests check the server against the specification, not against the project's own client code.


@dataclass
class RawOnion:
    body: bytes
    decrypt: Callable[[bytes], bytes]


def build_raw_onion(
    server_public: bytes, plaintext: bytes, enc_type: str | None = None
) -> RawOnion:
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(server_public))
    if enc_type in (None, "aes-gcm", "gcm"):
        aes = AESGCM(hmac.digest(b"LOKI", shared, "sha256"))
        iv = os.urandom(12)
        ciphertext = iv + aes.encrypt(iv, plaintext, None)

        def decrypt(data: bytes) -> bytes:
            return aes.decrypt(data[:12], data[12:], None)
    else:
        key = hashlib.blake2b(shared + ephemeral_public + server_public, digest_size=32).digest()
        nonce = os.urandom(24)
        ciphertext = nonce + nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            plaintext, None, nonce, key
        )

        def decrypt(data: bytes) -> bytes:
            return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                data[24:], None, data[:24], key
            )

    metadata: dict[str, object] = {
        "host": "127.0.0.1",
        "target": "/loki/v3/lsrpc",
        "method": "POST",
        "protocol": "http",
        "port": 80,
        "ephemeral_key": ephemeral_public.hex(),
    }
    if enc_type is not None:
        metadata["enc_type"] = enc_type
    body = struct.pack("<I", len(ciphertext)) + ciphertext + orjson.dumps(metadata)
    return RawOnion(body, decrypt)


def raw_onion_request(
    server: Server,
    inner: dict[str, object],
    *,
    path: str = "/loki/v3/lsrpc",
    enc_type: str | None = None,
) -> dict[str, Any]:
    """Send `inner` (the decrypted request object) in a hand-built envelope; the reply JSON."""
    onion = build_raw_onion(server.public_key, orjson.dumps(inner), enc_type)
    response = httpx.post(server.base_url + path, content=onion.body, timeout=30)
    assert response.status_code == 200, (response.status_code, response.text)
    encoded = response.content.strip()
    assert b"\n" not in encoded
    reply = orjson.loads(onion.decrypt(base64.b64decode(encoded, validate=True)))
    assert isinstance(reply, dict)
    assert_well_formed(reply)
    return reply


# ------------------------------------------------------------------------------ modern API

SOGS_TRANSPORTS = ("v4", "http")


@pytest.fixture(params=SOGS_TRANSPORTS)
def sogs(request: pytest.FixtureRequest, server: Server) -> Iterator[SogsClient]:
    """A modern API client of the default server: onion v4 (what real clients use) and
    direct HTTP at the root paths (SOGS-API.md 2.5)."""
    client = SogsClient(server.base_url, server.public_key, transport=request.param)
    yield client
    client.close()


def sogs_post(
    client: SogsClient, room: str, user: BlindedUser, data: bytes | None = None
) -> dict[str, Any]:
    """Post a message signed as the user's 15 id; the row the server answered with."""
    content = data if data is not None else os.urandom(40)
    reply = client.post(
        f"/room/{room}/message",
        {
            "data": b64(content),
            "signature": b64(user.sign_post(content, client.server_pk)),
            "files": [],
        },
        user=user,
    )
    assert reply.code == 201, (reply.code, reply.text)
    return dict(reply.json)
