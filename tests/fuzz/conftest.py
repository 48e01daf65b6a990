"""An in-process server (real ServerContext on a temporary data directory) per test module."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.support.fuzzing import InProcess, open_in_process


class ErrorLog(logging.Handler):
    """Collects every ERROR record (a traceback logged by `dispatch` means a 500)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    inproc = open_in_process(
        tmp_path_factory.mktemp("fuzz") / "data", max_file_size=100_000, max_message_size=10_000
    )
    yield inproc
    inproc.ctx.close()


@pytest.fixture(scope="module")
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logger = logging.getLogger("opengroup")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
