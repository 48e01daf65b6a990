"""Storage failures simulated at the store layer, in process (runs without root; the real
kernel-level versions are in test_full_disk.py).

- disk full for the database: SQLite's own `PRAGMA max_page_count` pinned at the current size
  makes every write that needs a new page fail with SQLITE_FULL, as a full disk does;
- read-only database: `PRAGMA query_only` makes SQLite refuse writes (SQLITE_READONLY);
- disk full / read-only for files: `open()` in store/files.py raises ENOSPC / EROFS.

Each time: 507 with the cause in an ERROR log line, nothing stored is lost, and the next
request after the fault is cleared succeeds.
"""

from __future__ import annotations

import base64
import errno
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import event

from opengroup.crypto import sign_session_message
from opengroup.store import files as files_module
from tests.support.fuzzing import InProcess, call, open_in_process


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcess]:
    inproc = open_in_process(tmp_path / "data", rate_limit_posts=100_000)
    yield inproc
    inproc.ctx.close()


def post(server: InProcess, data: bytes) -> Any:
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(server.user.private, data)).decode(),
    }
    return call(
        server.ctx,
        "POST",
        "messages",
        body=orjson.dumps(body),
        headers=server.headers(server.user_token),
    )


def upload(server: InProcess, content: bytes) -> Any:
    return call(
        server.ctx,
        "POST",
        "files",
        body=orjson.dumps({"file": base64.b64encode(content).decode()}),
        headers=server.headers(server.user_token),
    )


def snapshot(server: InProcess, file_ids: list[int]) -> tuple[list[Any], list[Any]]:
    messages = call(
        server.ctx, "GET", "messages", headers=server.headers(), query={"from_server_id": "0"}
    )
    assert messages.status_code == 200
    files = [
        call(server.ctx, "GET", f"files/{file_id}", headers=server.headers()).fields
        for file_id in file_ids
    ]
    return messages.fields["messages"], files


def seed(server: InProcess) -> list[int]:
    for i in range(5):
        assert post(server, f"seed {i}".encode()).status_code == 200
    return [upload(server, bytes([i]) * 5000).fields["result"] for i in range(3)]


@pytest.fixture
def sqlite_pragma(server: InProcess) -> Iterator[Any]:
    """Apply a PRAGMA to every database connection (all are closed so that new ones do)."""
    engine = server.ctx.db.engine
    listeners: list[Any] = []

    def apply(pragma: str) -> None:
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if "max_page_count" in pragma:
                (pages,) = cursor.execute("PRAGMA page_count").fetchone()
                cursor.execute(f"PRAGMA max_page_count = {pages}")
            else:
                cursor.execute(pragma)
            cursor.close()

        event.listen(engine, "connect", on_connect)
        listeners.append(on_connect)
        server.ctx.db.dispose()

    def clear() -> None:
        while listeners:
            event.remove(engine, "connect", listeners.pop())
        server.ctx.db.dispose()

    yield apply, clear
    clear()


@pytest.mark.parametrize(
    ("pragma", "cause"),
    [
        ("PRAGMA max_page_count", "database or disk is full"),
        ("PRAGMA query_only = 1", "readonly database"),
    ],
    ids=["database-full", "database-read-only"],
)
def test_database_cannot_be_written(
    server: InProcess,
    sqlite_pragma: Any,
    caplog: pytest.LogCaptureFixture,
    pragma: str,
    cause: str,
) -> None:
    apply, clear = sqlite_pragma
    file_ids = seed(server)
    before = snapshot(server, file_ids)

    apply(pragma)
    statuses = [post(server, b"p" * 60_000).status_code for _ in range(10)]
    assert statuses == [507] * 10
    # A file row is small and may still fit in a free page; if it does, it is kept whole.
    uploaded = upload(server, b"u" * 200_000)
    assert uploaded.status_code in (200, 507)
    if uploaded.status_code == 200:
        file_ids.append(uploaded.fields["result"])
        before = snapshot(server, file_ids)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and all("storage failure" in m and cause in m for m in errors), errors
    assert not [r for r in caplog.records if r.exc_info]  # a clear line, not a traceback
    assert snapshot(server, file_ids) == before  # reading still works; nothing lost
    # The failed uploads left no file behind.
    names = {p.name for p in server.ctx.blobs.root.iterdir()}
    assert names == {str(file_id) for file_id in file_ids}

    clear()
    assert post(server, b"after").status_code == 200
    assert upload(server, b"after").status_code == 200


@pytest.mark.parametrize(
    ("code", "cause"),
    [(errno.ENOSPC, "No space left on device"), (errno.EROFS, "Read-only file system")],
    ids=["files-full", "files-read-only"],
)
def test_files_cannot_be_written(
    server: InProcess,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    code: int,
    cause: str,
) -> None:
    file_ids = seed(server)
    before = snapshot(server, file_ids)

    def failing_open(*args: Any, **kwargs: Any) -> Any:
        raise OSError(code, cause)

    monkeypatch.setattr(files_module, "open", failing_open, raising=False)
    reply = upload(server, b"u" * 1000)
    assert reply.status_code == 507 and cause in reply.fields["error"]
    assert any(
        "storage failure" in r.getMessage() and cause in r.getMessage() for r in caplog.records
    )
    assert post(server, b"messages go on").status_code == 200
    monkeypatch.undo()

    after_messages, after_files = snapshot(server, file_ids)
    assert after_files == before[1]
    assert after_messages[: len(before[0])] == before[0]
    assert upload(server, b"works again").status_code == 200
