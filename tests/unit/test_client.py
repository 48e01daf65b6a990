"""OpenGroupClient against an in-memory fake server that opens envelopes with crypto.py."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from opengroup.crypto import (
    BadEnvelope,
    EncType,
    ServerKeys,
    SessionKeys,
    make_auth_challenge,
    open_onion_request,
    parse_onion_envelope,
    session_public_key,
    verify_session_signature,
)
from opengroup.testing.client import ApiFailed, OnionRejected, OpenGroupClient, ProtocolError

SERVER = ServerKeys.generate()
BASE = "http://sog.example.org:8080"
Reply = dict[str, Any]
Handler = Callable[[dict[str, Any]], Reply]


class FakeServer:
    """Decrypts onion requests (or reads legacy ones), records the inner request, answers."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.inner: list[dict[str, Any]] = []
        self.metadata: list[dict[str, object]] = []
        self.legacy: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.url.path == "/loki/v3/lsrpc":
            assert request.method == "POST"
            try:
                plaintext, cipher = open_onion_request(SERVER, body)
            except BadEnvelope as exc:
                return httpx.Response(400, text=f"bad envelope: {exc}")
            self.metadata.append(parse_onion_envelope(body).metadata)
            inner = orjson.loads(plaintext)
            self.inner.append(inner)
            sealed = cipher.encrypt(orjson.dumps(self.handler(inner)))
            return httpx.Response(200, content=base64.b64encode(sealed))
        assert request.url.path.startswith("/legacy/")
        self.legacy.append(request)
        endpoint = request.url.raw_path.decode()[len("/legacy/") :]
        inner = {
            "method": request.method,
            "endpoint": endpoint,
            "body": body.decode(),
            "headers": dict(request.headers),
        }
        reply = self.handler(inner)
        return httpx.Response(reply["status_code"], content=orjson.dumps(reply))


def ok(inner: dict[str, Any]) -> Reply:
    return {"status_code": 200}


@pytest.fixture
def make_client() -> Iterator[Callable[..., tuple[OpenGroupClient, FakeServer]]]:
    clients: list[OpenGroupClient] = []

    def make(handler: Handler = ok, **options: Any) -> tuple[OpenGroupClient, FakeServer]:
        server = FakeServer(handler)
        http = httpx.Client(transport=httpx.MockTransport(server))
        client = OpenGroupClient(BASE, SERVER.public, http=http, **options)
        clients.append(client)
        return client, server

    yield make
    for client in clients:
        client.close()


def test_onion_request_envelope(make_client: Any) -> None:
    client, server = make_client(lambda inner: {"status_code": 200, "rooms": []})
    assert client.get_rooms() == {"status_code": 200, "rooms": []}
    assert server.inner == [{"method": "GET", "endpoint": "rooms", "body": "", "headers": {}}]
    metadata = server.metadata[0]
    assert list(metadata) == ["host", "target", "method", "protocol", "port", "ephemeral_key"]
    assert metadata["host"] == "sog.example.org" and metadata["port"] == 8080
    assert metadata["target"] == "/loki/v3/lsrpc" and metadata["protocol"] == "http"


def test_onion_post_body_headers_and_extra(make_client: Any) -> None:
    client, server = make_client()
    client.request(
        "POST",
        "claim_auth_token",
        body={"public_key": "05" + "ab" * 32},
        headers={"Room": 2021, "Authorization": "beef"},
        extra={"auth_code": "beef"},
    )
    inner = server.inner[0]
    assert orjson.loads(inner["body"]) == {"public_key": "05" + "ab" * 32}
    assert isinstance(inner["body"], str)
    assert inner["headers"] == {"Room": 2021, "Authorization": "beef"}  # as Android sends it
    assert inner["auth_code"] == "beef"

    client.request("GET", "rooms", raw_body="null")
    assert server.inner[1]["body"] == "null"


def test_xchacha_envelope(make_client: Any) -> None:
    client, server = make_client(enc_type=EncType.XCHACHA20)
    assert client.get_room("main") == {"status_code": 200}
    assert server.metadata[0]["enc_type"] == "xchacha20-poly1305"
    assert server.inner[0]["endpoint"] == "rooms/main"


def test_rejected_envelope(make_client: Any) -> None:
    client, _ = make_client()
    client.server_public = ServerKeys.generate().public  # the server cannot decrypt this
    with pytest.raises(OnionRejected) as raised:
        client.get_rooms()
    assert raised.value.status == 400 and "bad envelope" in raised.value.text


def test_undecodable_onion_reply() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="not base64!")

    http = httpx.Client(transport=httpx.MockTransport(answer))
    with OpenGroupClient(BASE, SERVER.public, http=http) as client, pytest.raises(ProtocolError):
        client.get_rooms()


def test_authenticate(make_client: Any) -> None:
    user = SessionKeys.generate()
    token = os.urandom(48)

    def handler(inner: dict[str, Any]) -> Reply:
        if inner["endpoint"].startswith("auth_token_challenge?public_key="):
            public = session_public_key(inner["endpoint"].split("=", 1)[1])
            ciphertext, ephemeral = make_auth_challenge(token, public)
            return {
                "status_code": 200,
                "challenge": {
                    "ciphertext": base64.b64encode(ciphertext).decode(),
                    "ephemeral_public_key": base64.b64encode(ephemeral).decode(),
                },
            }
        assert inner["endpoint"] == "claim_auth_token"
        ok = inner["headers"]["Authorization"] == token.hex()
        return {"status_code": 200 if ok else 401}

    client, server = make_client(handler)
    assert client.authenticate(user, "main") == token.hex()
    challenge, claim = server.inner
    assert challenge["method"] == "GET" and challenge["headers"] == {"Room": "main"}
    assert challenge["endpoint"] == f"auth_token_challenge?public_key={user.session_id}"
    assert claim["method"] == "POST"
    assert claim["headers"] == {"Room": "main", "Authorization": token.hex()}
    assert orjson.loads(claim["body"]) == {"public_key": user.session_id}


def test_authenticate_failure(make_client: Any) -> None:
    client, _ = make_client(lambda inner: {"status_code": 404, "error": "no such room"})
    with pytest.raises(ApiFailed) as raised:
        client.authenticate(SessionKeys.generate(), "nope")
    assert raised.value.reply == {"status_code": 404, "error": "no such room"}


def test_post_message_is_signed(make_client: Any) -> None:
    user = SessionKeys.generate()
    client, server = make_client()
    data = b"\x0a\x03abc\x80" + bytes(153)
    client.post_message("main", "abcd", user, data)
    inner = server.inner[0]
    assert inner["endpoint"] == "messages" and inner["method"] == "POST"
    assert inner["headers"] == {"Room": "main", "Authorization": "abcd"}
    body = orjson.loads(inner["body"])
    assert base64.b64decode(body["data"]) == data
    assert verify_session_signature(user.public, data, base64.b64decode(body["signature"]))
    assert body["public_key"] == user.session_id
    assert isinstance(body["timestamp"], int) and body["timestamp"] > 2**31


def test_endpoint_wrappers(make_client: Any) -> None:
    client, server = make_client()
    client.get_messages("main", "t")
    client.get_messages("main", "t", from_server_id=5, limit=10)
    client.delete_messages("main", "t", [1, 2])
    client.compact_poll([{"room_id": "main", "auth_token": "t"}])
    client.upload_file("main", "t", b"\x00\x01")
    client.get_file("main", "t", 2**40)
    calls = [(i["method"], i["endpoint"], i["body"]) for i in server.inner]
    assert calls == [
        ("GET", "messages", ""),
        ("GET", "messages?from_server_id=5&limit=10", ""),
        ("POST", "delete_messages", '{"ids":[1,2]}'),
        ("POST", "compact_poll", '{"requests":[{"room_id":"main","auth_token":"t"}]}'),
        ("POST", "files", '{"file":"AAE="}'),
        ("GET", f"files/{2**40}", ""),
    ]
    assert server.inner[3]["headers"] == {}
    assert server.inner[0]["headers"] == {"Room": "main", "Authorization": "t"}


def test_legacy_transport(make_client: Any) -> None:
    client, server = make_client(transport="legacy")
    client.request("POST", "block_list", body={"public_key": "05ab"}, headers={"Room": 2021})
    (request,) = server.legacy
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/legacy/block_list"
    assert request.headers["Room"] == "2021"
    assert request.headers["Content-Type"] == "application/json"
    assert orjson.loads(request.content) == {"public_key": "05ab"}

    client.get_messages("main", "t", from_server_id=3)
    assert str(server.legacy[1].url) == f"{BASE}/legacy/messages?from_server_id=3"
    assert server.legacy[1].content == b""

    with pytest.raises(ValueError):
        client.request("GET", "rooms", extra={"auth_code": "x"})


def test_legacy_status_mismatch() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status_code": 404})

    http = httpx.Client(transport=httpx.MockTransport(answer))
    client = OpenGroupClient(BASE, SERVER.public, transport="legacy", http=http)
    with client, pytest.raises(ProtocolError, match="HTTP status 200 but status_code 404"):
        client.get_rooms()


def test_close_leaves_a_borrowed_http_client_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(FakeServer(ok)))
    with OpenGroupClient(BASE, SERVER.public, http=http):
        pass
    assert not http.is_closed
    http.close()
    owned = OpenGroupClient("https://open.example.net", SERVER.public)
    assert owned._routing["port"] == 443 and owned._routing["protocol"] == "https"
    owned.close()
    assert owned._http.is_closed
