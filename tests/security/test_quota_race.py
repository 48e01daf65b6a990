"""The upload quota is checked in the transaction that inserts the file (issue 16, item 8):
parallel uploads cannot all pass it. Against the real server, both transports."""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from opengroup.crypto import OnionCipher, SessionKeys, build_onion_request
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

QUOTA, SIZE, PARALLEL = 200_000, 150_000, 12


@pytest.fixture(scope="module")
def quota_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = RunningServer(
        data_dir=tmp_path_factory.mktemp("quota") / "data",
        extra_args=("--upload-quota-bytes-per-day", str(QUOTA)),
    ).start()
    yield server
    server.stop()


def prepared_upload(
    server: RunningServer, transport: str, token: str
) -> tuple[bytes, str, OnionCipher | None]:
    """(body, path, cipher to open the reply) of one upload, built before the race starts."""
    body = orjson.dumps({"file": base64.b64encode(os.urandom(SIZE)).decode()})
    headers = {"Room": "main", "Authorization": token}
    if transport == "legacy":
        return body, "/legacy/files", None
    inner = {"method": "POST", "endpoint": "files", "body": body.decode(), "headers": headers}
    envelope, cipher = build_onion_request(server.public_key, orjson.dumps(inner))
    return envelope, "/loki/v3/lsrpc", cipher


@pytest.mark.parametrize("transport", ["onion", "legacy"])
def test_parallel_uploads_cannot_all_pass_the_quota(
    quota_server: RunningServer, transport: str
) -> None:
    user = SessionKeys.generate()
    with OpenGroupClient(quota_server.base_url, quota_server.public_key) as client:
        token = client.authenticate(user, "main")
    uploads = [prepared_upload(quota_server, transport, token) for _ in range(PARALLEL)]
    start = threading.Barrier(PARALLEL)
    headers = {"Room": "main", "Authorization": token}

    def upload(prepared: tuple[bytes, str, OnionCipher | None]) -> int:
        body, path, cipher = prepared
        with httpx.Client(timeout=60) as http:
            http.get(quota_server.base_url + "/health")  # connected before the race
            start.wait()
            response = http.post(quota_server.base_url + path, content=body, headers=headers)
        if cipher is None:
            return response.status_code
        reply = orjson.loads(cipher.decrypt(base64.b64decode(response.content)))
        return int(reply["status_code"])

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(upload, uploads))
    assert statuses.count(200) == QUOTA // SIZE, statuses
    assert set(statuses) == {200, 429}, statuses
