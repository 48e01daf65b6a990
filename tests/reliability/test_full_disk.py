"""A full disk and a read-only files directory, for real: the server runs on a 24 MiB tmpfs
that the test fills up, and on a files directory bind-mounted read-only.

It answers 507 with a clear log line, loses nothing already stored, and works again when space
returns. (Needs root to mount; test_storage_failures.py simulates the same at the store layer
and runs everywhere.)
"""

from __future__ import annotations

import base64
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.reliability.conftest import fill_disk
from tests.support.server import RunningServer

# No post rate limit; no periodic prune during the test (its own failures are not under test).
RATE_FLAGS = ("--rate-limit-posts", "100000", "--prune-interval-seconds", "3600")


def stored_messages(client: OpenGroupClient, token: str) -> dict[int, str]:
    found: dict[int, str] = {}
    after = 0
    while True:
        page = client.get_messages("main", token, from_server_id=after)["messages"]
        if not page:
            return found
        for message in page:
            found[message["server_id"]] = message["data"]
        after = page[-1]["server_id"]


def assert_everything_there(
    client: OpenGroupClient, token: str, messages: dict[int, str], files: dict[int, bytes]
) -> None:
    stored = stored_messages(client, token)
    for server_id, data in messages.items():
        assert stored.get(server_id) == data, server_id
    for file_id, content in files.items():
        reply = client.get_file("main", token, file_id)
        assert reply["status_code"] == 200, reply
        assert base64.b64decode(reply["result"]) == content


def integrity_ok(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "opengroup.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_full_disk_answers_507_loses_nothing_and_recovers(small_tmpfs: Path) -> None:
    # data_dir is the tmpfs itself, so the server's log (written beside it) stays off it.
    server = RunningServer(data_dir=small_tmpfs, extra_args=RATE_FLAGS).start()
    try:
        with OpenGroupClient(server.base_url, server.public_key, transport="legacy") as client:
            user = SessionKeys.generate()
            token = client.authenticate(user, "main")
            messages: dict[int, str] = {}
            files: dict[int, bytes] = {}
            for i in range(20):
                reply = client.post_message("main", token, user, f"before {i}".encode())
                messages[reply["message"]["server_id"]] = reply["message"]["data"]
            for _ in range(4):
                content = os.urandom(50_000)
                files[client.upload_file("main", token, content)["result"]] = content

            filler = fill_disk(small_tmpfs)

            upload_statuses = [
                client.upload_file("main", token, os.urandom(200_000))["status_code"]
                for _ in range(5)
            ]
            assert upload_statuses == [507] * 5
            post_statuses = []
            for _ in range(40):
                data = os.urandom(60_000)
                reply = client.post_message("main", token, user, data)
                post_statuses.append(reply["status_code"])
                if reply["status_code"] == 200:  # it fitted: it must be kept
                    messages[reply["message"]["server_id"]] = reply["message"]["data"]
            assert set(post_statuses) <= {200, 507}
            assert 507 in post_statuses
            # Reading still works, and nothing stored is lost.
            assert_everything_there(client, token, messages, files)

            log = server.log()
            assert "storage failure" in log
            assert "No space left on device" in log or "disk is full" in log
            assert "Traceback" not in log

            # Space returns: the server works again, without a restart.
            filler.unlink()
            reply = client.post_message("main", token, user, b"after")
            assert reply["status_code"] == 200, reply
            messages[reply["message"]["server_id"]] = reply["message"]["data"]
            content = os.urandom(50_000)
            uploaded = client.upload_file("main", token, content)
            assert uploaded["status_code"] == 200, uploaded
            files[uploaded["result"]] = content
            assert_everything_there(client, token, messages, files)
        server.stop()
        integrity_ok(small_tmpfs)
        server.start()
        with OpenGroupClient(server.base_url, server.public_key, transport="legacy") as client:
            assert_everything_there(client, token, messages, files)
        # No half-written upload was left behind.
        assert not [p for p in (small_tmpfs / "files").iterdir() if p.name.startswith(".")]
    finally:
        server.stop()


@pytest.fixture
def bind_mountable() -> None:
    if os.geteuid() != 0:
        pytest.skip("bind mounts need root")


def test_read_only_files_directory(tmp_path: Path, bind_mountable: None) -> None:
    """The files directory goes read-only under a running server (a bind mount remounted
    read-only): uploads get 507 with a clear log line, messages and downloads go on, and
    uploads work again once it is writable."""
    data_dir = tmp_path / "data"
    server = RunningServer(data_dir=data_dir, extra_args=RATE_FLAGS).start()
    files_dir = data_dir / "files"
    mounted = False
    try:
        with OpenGroupClient(server.base_url, server.public_key, transport="legacy") as client:
            user = SessionKeys.generate()
            token = client.authenticate(user, "main")
            content = os.urandom(10_000)
            file_id = client.upload_file("main", token, content)["result"]

            subprocess.run(["mount", "--bind", str(files_dir), str(files_dir)], check=True)
            mounted = True
            subprocess.run(
                ["mount", "-o", "remount,bind,ro", str(files_dir)], check=True, capture_output=True
            )
            refused = client.upload_file("main", token, b"x" * 1000)
            assert refused["status_code"] == 507, refused
            assert "cannot write file" in refused["error"]
            assert client.post_message("main", token, user, b"still here")["status_code"] == 200
            assert base64.b64decode(client.get_file("main", token, file_id)["result"]) == content
            log = server.log()
            assert "storage failure" in log and "Read-only file system" in log

            subprocess.run(["umount", str(files_dir)], check=True)
            mounted = False
            assert client.upload_file("main", token, b"y" * 1000)["status_code"] == 200
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(files_dir)], capture_output=True)
        server.stop()
