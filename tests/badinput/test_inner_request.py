"""A valid envelope around a bad inner request (PROTOCOL.md 1.2): the reply is still an
encrypted JSON reply, with status_code 400 and no traceback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import orjson
import pytest

from .conftest import Env, assert_status, decrypt_reply, onion_envelope

GOOD = {"method": "GET", "endpoint": "rooms", "body": "", "headers": {}}


def without(name: str) -> dict[str, object]:
    return {key: value for key, value in GOOD.items() if key != name}


def replaced(name: str, value: object) -> dict[str, object]:
    return {**GOOD, name: value}


BAD_PLAINTEXTS: list[object] = [
    pytest.param(b"not json at all", id="non-json"),
    pytest.param(b"", id="empty"),
    pytest.param(b"\xff\xfe\x00garbage", id="non-utf8"),
    pytest.param(b'{"method": "GET", "endpoint": "rooms"', id="truncated-json"),
    pytest.param(orjson.dumps([GOOD]), id="json-array"),
    pytest.param(b'"GET rooms"', id="json-string"),
    pytest.param(b"42", id="json-number"),
    pytest.param(b"null", id="json-null"),
    pytest.param(without("method"), id="method-missing"),
    pytest.param(replaced("method", 1), id="method-number"),
    pytest.param(replaced("method", None), id="method-null"),
    pytest.param(replaced("method", ["GET"]), id="method-list"),
    pytest.param(replaced("method", {"GET": 1}), id="method-object"),
    pytest.param(replaced("method", True), id="method-bool"),
    pytest.param(replaced("method", "PATCH"), id="method-unknown"),
    pytest.param(replaced("method", ""), id="method-empty"),
    pytest.param(without("endpoint"), id="endpoint-missing"),
    pytest.param(replaced("endpoint", None), id="endpoint-null"),
    pytest.param(replaced("endpoint", 7), id="endpoint-number"),
    pytest.param(replaced("endpoint", ["rooms"]), id="endpoint-list"),
    pytest.param(replaced("endpoint", {"rooms": 1}), id="endpoint-object"),
    pytest.param(replaced("endpoint", ""), id="endpoint-empty"),
    pytest.param(replaced("body", 5), id="body-number"),
    pytest.param(replaced("body", 1.5), id="body-float"),
    pytest.param(replaced("body", {"ids": [1]}), id="body-object"),
    pytest.param(replaced("body", [1]), id="body-list"),
    pytest.param(replaced("body", True), id="body-bool"),
    pytest.param(replaced("headers", ["Room", "main"]), id="headers-list"),
    pytest.param(replaced("headers", "Room: main"), id="headers-string"),
    pytest.param(replaced("headers", 3), id="headers-number"),
]


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def send(env: Env, http: httpx.Client, inner: object) -> dict[str, object]:
    envelope, cipher = onion_envelope(env, inner)  # type: ignore[arg-type]
    response = http.post(env.server.base_url + "/loki/v3/lsrpc", content=envelope)
    return decrypt_reply(response, cipher)


def test_control_good_inner_request(env: Env, http: httpx.Client) -> None:
    reply = send(env, http, GOOD)
    assert reply["status_code"] == 200, reply


@pytest.mark.parametrize("plaintext", BAD_PLAINTEXTS)
def test_bad_inner_request_is_an_encrypted_400(
    env: Env, http: httpx.Client, plaintext: object
) -> None:
    reply = send(env, http, plaintext)
    assert_status(reply, 400)


@pytest.mark.parametrize(
    ("endpoint", "field", "value"),
    [
        ("messages", "body", 5),
        ("messages", "body", {"data": "aGk=", "signature": "aGk="}),
        ("delete_messages", "body", ["ids", 1]),
        ("delete_messages", "headers", ["Room", "main"]),
        ("compact_poll", "body", {"requests": []}),
    ],
)
def test_bad_inner_request_to_a_writing_endpoint(
    env: Env, http: httpx.Client, endpoint: str, field: str, value: object
) -> None:
    """The same type errors on endpoints that would write, with good credentials: a 400."""
    inner: dict[str, object] = {
        "method": "POST",
        "endpoint": endpoint,
        "body": orjson.dumps({"ids": [env.message_id]}).decode(),
        "headers": {"Room": "main", "Authorization": env.user_token},
        field: value,
    }
    assert_status(send(env, http, inner), 400)
