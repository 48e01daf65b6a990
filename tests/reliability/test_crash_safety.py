"""Crash safety: messages and files posted through real HTTP while the server is killed with
SIGKILL at random moments (some during start-up, most under load), restarted each time on the
same data directory.

At the end: every message and file that got a 200 is there with identical bytes; ids are unique
and increase; `PRAGMA integrity_check` is ok; every file row has its file, and after the
start-up sweep no file is left without a row (the sweep only removes files older than
STRAY_GRACE_SECONDS, so the test ages the files on disk first, as time would).

The seed is printed; set CRASH_SEED to replay a run.
"""

from __future__ import annotations

import base64
import contextlib
import os
import random
import signal
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from opengroup.crypto import SessionKeys, sign_session_message
from opengroup.store.files import STRAY_GRACE_SECONDS
from tests.support.server import RunningServer

KILLS = 24
EARLY_KILLS = {0, 5, 11, 17}  # iterations killed during start-up (the first: the very first start)
WORKERS = 3


@dataclass
class Acked:
    """What the server acknowledged with a 200, per client thread, in order."""

    messages: list[tuple[int, str]] = field(default_factory=list)  # (server_id, data b64)
    files: list[tuple[int, bytes]] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    failed_requests: int = 0


def client_loop(
    base_url: str, user: SessionKeys, token: str, seed: int, stop: threading.Event, acked: Acked
) -> None:
    rng = random.Random(seed)
    headers = {"Room": "main", "Authorization": token, "Content-Type": "application/json"}
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while not stop.is_set():
            upload = rng.random() < 0.3
            if upload:
                content = rng.randbytes(rng.choice([10, 5_000, 60_000, 400_000]))
                path, body = "/legacy/files", {"file": base64.b64encode(content).decode()}
            else:
                data = rng.randbytes(rng.randint(1, 3000))
                signature = sign_session_message(user.private, data)
                path = "/legacy/messages"
                body = {
                    "data": base64.b64encode(data).decode(),
                    "signature": base64.b64encode(signature).decode(),
                }
            try:
                response = http.post(path, content=orjson.dumps(body), headers=headers)
                reply = response.json()
            except (httpx.HTTPError, ValueError):
                acked.failed_requests += 1  # killed mid-request: not acknowledged
                time.sleep(0.02)
                continue
            if response.status_code != 200:
                acked.unexpected.append(f"{path} {response.status_code} {response.text[:200]}")
                continue
            if upload:
                acked.files.append((reply["result"], content))
            else:
                assert reply["message"]["data"] == body["data"]
                acked.messages.append((reply["message"]["server_id"], body["data"]))


def authenticate(base_url: str, public_key: bytes, user: SessionKeys) -> str:
    from opengroup.testing.client import OpenGroupClient

    with OpenGroupClient(base_url, public_key, transport="legacy") as client:
        return client.authenticate(user, "main")


def kill_soon(server: RunningServer, delay: float) -> threading.Timer:
    def kill() -> None:
        process = server.process
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(delay, kill)
    timer.start()
    return timer


def start_or_die(server: RunningServer, rng: random.Random, early: bool) -> bool:
    """Start the server; with `early`, SIGKILL it at a random moment of its start-up.
    Returns whether it is up."""
    if not early:
        server.start()
        return True
    timer = kill_soon(server, rng.uniform(0.02, 1.2))
    with contextlib.suppress(RuntimeError):  # killed before it was ready
        server.start()
    timer.join()
    server.stop(signal.SIGKILL)
    return False


def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", random.randrange(2**32)))
    print(f"CRASH_SEED={seed}")
    rng = random.Random(seed)
    data_dir = tmp_path / "data"
    server = RunningServer(data_dir=data_dir, extra_args=("--rate-limit-posts", "1000000"))
    users = [SessionKeys.generate() for _ in range(WORKERS)]
    acked = [Acked() for _ in range(WORKERS)]
    tokens: list[str] = []
    kills = 0
    try:
        for iteration in range(KILLS):
            if not start_or_die(server, rng, early=iteration in EARLY_KILLS):
                kills += 1
                continue
            if not tokens:
                tokens = [authenticate(server.base_url, server.public_key, u) for u in users]
            stop = threading.Event()
            threads = [
                threading.Thread(
                    target=client_loop,
                    args=(server.base_url, users[i], tokens[i], seed + i, stop, acked[i]),
                )
                for i in range(WORKERS)
            ]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.1, 1.5))
            server.stop(signal.SIGKILL)
            kills += 1
            stop.set()
            for thread in threads:
                thread.join()

        # Time passes: whatever a crash left on disk is now older than the grace period.
        aged = time.time() - STRAY_GRACE_SECONDS - 60
        for path in (data_dir / "files").iterdir():
            os.utime(path, (aged, aged))
        print(f"left by the crashes: {count_strays(data_dir)} stray files")
        server.start()
        check_through_the_api(server, tokens[0], acked)
        wait_for_stray_sweep(data_dir)
        server.stop()
        check_on_disk(data_dir, acked)
    finally:
        server.stop(signal.SIGKILL)

    assert kills >= 20
    for one in acked:
        assert one.unexpected == []
    total_messages = sum(len(one.messages) for one in acked)
    total_files = sum(len(one.files) for one in acked)
    print(f"{kills} kills, {total_messages} messages and {total_files} files acknowledged")
    assert total_messages >= 100 and total_files >= 20
    assert sum(one.failed_requests for one in acked) > 0  # some requests were cut off
    assert "internal error" not in server.log()


def count_strays(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "opengroup.db") as db:
        known = {str(row[0]) for row in db.execute("SELECT id FROM files")}
    return len({p.name for p in (data_dir / "files").iterdir()} - known)


def wait_for_stray_sweep(data_dir: Path) -> None:
    with sqlite3.connect(data_dir / "opengroup.db") as db:
        known = {str(row[0]) for row in db.execute("SELECT id FROM files")}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if {p.name for p in (data_dir / "files").iterdir()} <= known:
            return
        time.sleep(0.1)


def check_through_the_api(server: RunningServer, token: str, acked: list[Acked]) -> None:
    headers = {"Room": "main", "Authorization": token}
    stored: dict[int, str] = {}
    after = 0
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        while True:
            reply = http.get(
                "/legacy/messages", params={"from_server_id": after}, headers=headers
            ).json()
            if not reply["messages"]:
                break
            for message in reply["messages"]:
                assert message["server_id"] not in stored
                stored[message["server_id"]] = message["data"]
            after = reply["messages"][-1]["server_id"]
        for one in acked:
            for server_id, data in one.messages:
                assert stored.get(server_id) == data, f"message {server_id} lost or changed"
            for file_id, content in one.files[:10]:
                reply = http.get(f"/legacy/files/{file_id}", headers=headers).json()
                assert base64.b64decode(reply["result"]) == content


def check_on_disk(data_dir: Path, acked: list[Acked]) -> None:
    with sqlite3.connect(data_dir / "opengroup.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = dict(db.execute("SELECT server_id, data FROM messages"))
        (counter,) = db.execute("SELECT message_seq FROM rooms WHERE id = 'main'").fetchone()
        file_rows = {row[0]: row[1] for row in db.execute("SELECT id, size FROM files")}

    # Messages: all there, identical; ids unique, and increasing in the order acknowledged.
    all_ids = [server_id for one in acked for server_id, _ in one.messages]
    assert len(all_ids) == len(set(all_ids))
    for one in acked:
        ids = [server_id for server_id, _ in one.messages]
        assert ids == sorted(ids) and len(ids) == len(set(ids))
        for server_id, data in one.messages:
            assert rows[server_id] == data
    assert counter >= max(rows)  # the next id cannot collide with a stored one

    # Files: all there, identical; unique ids; rows and files match one to one.
    all_file_ids = [file_id for one in acked for file_id, _ in one.files]
    assert len(all_file_ids) == len(set(all_file_ids))
    for one in acked:
        for file_id, content in one.files:
            assert (data_dir / "files" / str(file_id)).read_bytes() == content
            assert file_rows[file_id] == len(content)
    on_disk = {p.name for p in (data_dir / "files").iterdir()}
    assert {str(file_id) for file_id in file_rows} <= on_disk, "a file row without its file"
    assert on_disk <= {str(file_id) for file_id in file_rows}, "a stray file without a row"
