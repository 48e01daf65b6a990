"""A real server subprocess (debug logging, access log on) per xdist worker, and an in-process
server per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.fuzzing import InProcess, open_in_process
from tests.support.server import RunningServer


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    server = RunningServer(
        data_dir=tmp_path_factory.mktemp("security") / "data",
        extra_args=("--log-level", "debug", "--access-log"),
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def inproc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    server = open_in_process(tmp_path_factory.mktemp("security-inproc") / "data")
    yield server
    server.ctx.close()
