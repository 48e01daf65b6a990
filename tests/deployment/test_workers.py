"""`serve --workers N` on PostgreSQL: every worker has its own connections, the parent none."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory
from tests.support.server import RunningServer

pytestmark = pytest.mark.postgres

POSTGRES_PORT_HEX = f"{5432:04X}"


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:  # not multiprocessing's resource tracker
            found.append(int(entry))
    return sorted(found)


def postgres_connections(pid: int) -> int:
    """TCP sockets of process `pid` connected to port 5432."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[2].endswith(f":{POSTGRES_PORT_HEX}") and fields[9] in inodes:
                count += 1
    return count


def test_each_worker_opens_its_own_connections(
    tmp_path: Path, database_factory: DatabaseFactory
) -> None:
    url = database_factory("postgres")
    if "127.0.0.1:5432" not in url and "localhost:5432" not in url:
        pytest.skip("counts sockets to a PostgreSQL on this machine's port 5432")
    server = RunningServer(tmp_path / "data", database_url=url, workers=3).start(timeout=60)
    try:
        assert server.process is not None
        workers = children(server.process.pid)
        assert len(workers) == 3, workers
        assert postgres_connections(server.process.pid) == 0
        # Each worker checks the schema and runs its first prune at start-up, with a pool of
        # its own that it keeps. (start() returned when one worker answered: give the others
        # time to start.)
        deadline = time.monotonic() + 30
        while True:
            counts = [postgres_connections(pid) for pid in workers]
            if all(counts) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert all(counts), counts
        assert postgres_connections(server.process.pid) == 0
    finally:
        server.stop()
