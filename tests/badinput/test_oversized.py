"""Too large: message data over 64 KiB decoded, files over the limit (the server runs with
--max-file-size 1000), legacy bodies over 16 MiB: each a 413, nothing stored."""

from __future__ import annotations

import os
from collections.abc import Iterator

import httpx
import orjson
import pytest

from opengroup.crypto import sign_session_message

from .conftest import MAX_FILE_SIZE, TRANSPORTS, Env, assert_status, b64

MAX_MESSAGE = 64 * 1024
SIXTEEN_MIB = 16 * 1024 * 1024


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("size", [MAX_MESSAGE + 1, MAX_MESSAGE + 1000, 200_000])
def test_message_data_over_64_kib(env: Env, transport: str, size: int) -> None:
    data = os.urandom(size)
    body = {
        "data": b64(data),
        "signature": b64(sign_session_message(env.user.private, data)),
        "timestamp": 1_600_000_000_000,
    }
    reply = env.client(transport).request(
        "POST", "messages", body=body, headers={"Room": "main", "Authorization": env.user_token}
    )
    assert_status(reply, 413)


@pytest.mark.parametrize("size", [MAX_FILE_SIZE + 1, MAX_FILE_SIZE + 3, 50_000])
@pytest.mark.parametrize(
    ("endpoint", "token"),
    [("files", "user"), ("rooms/main/image", "mod")],
)
def test_file_over_the_limit(
    env: Env, transport: str, size: int, endpoint: str, token: str
) -> None:
    auth = env.user_token if token == "user" else env.mod_token
    reply = env.client(transport).request(
        "POST",
        endpoint,
        body={"file": b64(os.urandom(size))},
        headers={"Room": "main", "Authorization": auth},
    )
    assert_status(reply, 413)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60) as client:
        yield client


def test_legacy_body_over_16_mib(env: Env, http: httpx.Client) -> None:
    body = orjson.dumps({"file": "A" * (SIXTEEN_MIB + 4)})
    response = http.post(
        env.server.base_url + "/legacy/files",
        content=body,
        headers={"Room": "main", "Authorization": env.user_token},
    )
    assert response.status_code == 413, response.text[:300]
    assert response.json()["status_code"] == 413


def test_legacy_body_over_16_mib_chunked(env: Env, http: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"file": "'
        for _ in range(17):
            yield b"A" * (1024 * 1024)
        yield b'"}'

    response = http.post(
        env.server.base_url + "/legacy/files",
        content=chunks(),
        headers={"Room": "main", "Authorization": env.user_token},
    )
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413, response.text[:300]
    assert response.json()["status_code"] == 413
    # still serving
    assert http.get(env.server.base_url + "/legacy/rooms").status_code == 200
