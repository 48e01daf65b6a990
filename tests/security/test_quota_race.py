"""The upload quota is checked in the transaction that inserts the file (issue 16, item 8):
parallel uploads cannot all pass it. Against the real server, both transports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from opengroup.crypto import SessionKeys
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


@pytest.mark.parametrize("transport", ["onion", "legacy"])
def test_parallel_uploads_cannot_all_pass_the_quota(
    quota_server: RunningServer, transport: str
) -> None:
    user = SessionKeys.generate()
    with OpenGroupClient(quota_server.base_url, quota_server.public_key) as client:
        token = client.authenticate(user, "main")

    def upload(_: int) -> int:
        with OpenGroupClient(
            quota_server.base_url,
            quota_server.public_key,
            transport=transport,  # type: ignore[arg-type]
        ) as og:
            return int(og.upload_file("main", token, os.urandom(SIZE))["status_code"])

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = list(pool.map(upload, range(PARALLEL)))
    assert statuses.count(200) == QUOTA // SIZE, statuses
    assert set(statuses) == {200, 429}, statuses
