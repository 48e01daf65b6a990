"""Data files are the server's alone (issue 16, item 10): a new data directory is 0700 with
0600 files, uploads included; an existing world-readable one is fixed at start."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_data_is_private_and_old_data_is_fixed(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        data = tmp_path / "data"
        (data / "files").mkdir(parents=True)
        os.chmod(data, 0o755)
        stale = data / "files" / "2147483999"
        stale.write_bytes(b"x")
        os.chmod(stale, 0o644)
        server = RunningServer(data_dir=data).start()
        try:
            with OpenGroupClient(server.base_url, server.public_key, transport="legacy") as og:
                token = og.authenticate(SessionKeys.generate(), "main")
                file_id = og.upload_file("main", token, b"private bytes")["result"]
        finally:
            server.stop()
        assert "readable by this user only" in server.log()
    finally:
        os.umask(old_umask)
    assert mode(data) == 0o700
    assert mode(data / "files") == 0o700
    assert mode(stale) == 0o600
    assert mode(data / "files" / str(file_id)) == 0o600
    for name in ("opengroup.db", "key.pem"):
        assert mode(data / name) == 0o600, name
    for wal in data.glob("opengroup.db-*"):
        assert mode(wal) == 0o600, wal.name
