"""`opengroup backup` while the server takes writes, `opengroup restore` into a new data
directory, and a server on the restored data serving the same rooms, messages and files."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

from .conftest import all_deletions, all_messages, cli, client_for, join, ok, refused, server_key

ROOM = "main"


class Load:
    """Posters, a deleter and an uploader hammering one room until told to stop."""

    def __init__(self, server: RunningServer, public_hex: str) -> None:
        self.server, self.public_hex = server, public_hex
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.messages: dict[int, dict[str, Any]] = {}
        self.deleted: set[int] = set()
        self.files: dict[int, bytes] = {}
        self.errors: list[str] = []
        self.threads = [
            threading.Thread(target=self._guard, args=(self._post, n)) for n in range(2)
        ] + [threading.Thread(target=self._guard, args=(self._upload, 0))]

    def _guard(self, work: Any, n: int) -> None:
        try:
            with client_for(self.server, self.public_hex) as og:
                work(og, n)
        except Exception as error:  # surfaced by the test
            self.errors.append(repr(error))

    def _post(self, og: OpenGroupClient, n: int) -> None:
        user, token = join(og, ROOM)
        count = 0
        while not self.stop.is_set():
            message = ok(og.post_message(ROOM, token, user, os.urandom(64)))["message"]
            count += 1
            with self.lock:
                self.messages[message["server_id"]] = message
            if count % 5 == 0:
                ok(og.delete_messages(ROOM, token, [message["server_id"]]))
                with self.lock:
                    self.deleted.add(message["server_id"])

    def _upload(self, og: OpenGroupClient, n: int) -> None:
        _, token = join(og, ROOM)
        while not self.stop.is_set():
            content = os.urandom(1000 + len(self.files) * 97 % 20_000)
            file_id = ok(og.upload_file(ROOM, token, content))["result"]
            with self.lock:
                self.files[file_id] = content

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not self.errors, self.errors

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return len(self.messages), len(self.files)


def wait_for(load: Load, messages: int, files: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posted, uploaded = load.counts()
        if posted >= messages and uploaded >= files:
            return
        assert not load.errors, load.errors
        time.sleep(0.05)
    raise AssertionError(f"load too slow: {load.counts()}")


@pytest.mark.slow
def test_backup_under_write_load_restores_a_consistent_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    image = b"\xff\xd8\xff\xe0" + os.urandom(3000)
    (tmp_path / "image.bin").write_bytes(image)
    cli("init", "--data-dir", str(data))
    cli("rooms", "set-image", ROOM, str(tmp_path / "image.bin"), "--data-dir", str(data))
    server = RunningServer(data, extra_args=("--rate-limit-posts", "1000000")).start()
    public_hex = server_key(data).public_hex
    load = Load(server, public_hex)
    try:
        load.start()
        wait_for(load, messages=40, files=5)
        before_messages, before_files = load.counts()
        started = time.monotonic()
        done = cli("backup", str(tmp_path / "backup"), "--data-dir", str(data))
        took = time.monotonic() - started
        wait_for(load, messages=before_messages + 20, files=before_files + 2)
    finally:
        load.finish()
        server.stop()
    print(f"backup under load: {took:.2f}s; {done.stdout.strip()}")

    manifest = json.loads((tmp_path / "backup" / "backup.json").read_text())
    assert manifest["public_key"] == public_hex
    assert manifest["database"] == "sqlite"
    assert manifest["messages"] >= before_messages
    assert oct((tmp_path / "backup" / "key.pem").stat().st_mode & 0o777) == "0o600"

    restored = tmp_path / "restored"
    cli("restore", str(tmp_path / "backup"), "--data-dir", str(restored))
    assert server_key(restored).public_hex == public_hex

    server = RunningServer(restored).start()
    try:
        with client_for(server, public_hex) as og:
            _, token = join(og, ROOM)
            messages = all_messages(og, ROOM, token)
            deletions = all_deletions(og, ROOM, token)
            got_files = {}
            for file_id in load.files:
                reply = og.get_file(ROOM, token, file_id)
                if reply["status_code"] == 200:
                    got_files[file_id] = base64.b64decode(reply["result"])
                else:
                    assert reply["status_code"] == 404, reply
            image_reply = ok(og.request("GET", f"rooms/{ROOM}/image"))
    finally:
        server.stop()

    # One snapshot: messages 1..K, each either there (unchanged) or deleted, nothing after K.
    present = {m["server_id"]: m for m in messages}
    deleted = {d["deleted_message_id"] for d in deletions}
    top = max(present.keys() | deleted)
    assert top >= before_messages
    assert present.keys() | deleted == set(range(1, top + 1))
    assert not present.keys() & deleted
    for server_id, message in present.items():
        assert message == load.messages[server_id]
    assert deleted <= load.deleted
    # A deletion's id is the seqno it took (SOGS-API.md 1.2): posts and deletions share the
    # room's sequence 1..top + len(deletions), so deletion ids increase, with gaps, within it.
    deletion_ids = [d["id"] for d in deletions]
    assert deletion_ids == sorted(set(deletion_ids))
    assert all(0 < i <= top + len(deletions) for i in deletion_ids)
    # Files: every one uploaded before the backup began, byte for byte; none broken.
    assert len(got_files) >= before_files
    for file_id, content in got_files.items():
        assert content == load.files[file_id]
    assert base64.b64decode(image_reply["result"]) == image
    with sqlite3.connect(restored / "opengroup.db") as db:
        rows = {int(r[0]) for r in db.execute("SELECT id FROM files")}
    assert rows == {int(name) for name in os.listdir(restored / "files")}


def test_restore_refuses_a_data_directory_in_use(tmp_path: Path) -> None:
    cli("init", "--data-dir", str(tmp_path / "data"))
    cli("backup", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "data"))
    other = tmp_path / "other"
    cli("init", "--data-dir", str(other))
    message = refused("restore", str(tmp_path / "backup"), "--data-dir", str(other))
    assert "not empty" in message
    cli("restore", str(tmp_path / "backup"), "--data-dir", str(tmp_path / "new"))


def test_backup_refuses_a_used_destination(tmp_path: Path) -> None:
    cli("init", "--data-dir", str(tmp_path / "data"))
    (tmp_path / "dest").mkdir()
    (tmp_path / "dest" / "something").write_text("keep me")
    message = refused("backup", str(tmp_path / "dest"), "--data-dir", str(tmp_path / "data"))
    assert "not empty" in message
    assert (tmp_path / "dest" / "something").read_text() == "keep me"


def test_backup_of_a_directory_that_is_no_server(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    message = refused("backup", str(tmp_path / "b"), "--data-dir", str(tmp_path / "empty"))
    assert "no key" in message


def test_a_backup_is_itself_a_data_directory(tmp_path: Path) -> None:
    cli("init", "--data-dir", str(tmp_path / "data"))
    cli("rooms", "add", "lounge", "The Lounge", "--data-dir", str(tmp_path / "data"))
    cli("backup", str(tmp_path / "b"), "--data-dir", str(tmp_path / "data"))
    listing = cli("rooms", "list", "--data-dir", str(tmp_path / "b")).stdout
    assert "The Lounge" in listing
