"""A crash while the key file is first written must not leave an unusable key behind: the
server would then refuse to start, forever, on that data directory."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opengroup.crypto import ServerKeys
from opengroup.crypto.keyfile import load_or_create_server_keys

# Each crash point: the name of a function of `os` that, when called during key creation,
# kills the process at once (as SIGKILL would at that instant).
CRASH_POINTS = ["fdopen", "fsync", "write", "link", "replace", "rename"]


@pytest.mark.parametrize("crash_at", CRASH_POINTS)
def test_killed_while_creating_the_key(tmp_path: Path, crash_at: str) -> None:
    key_path = tmp_path / "key.pem"
    script = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from opengroup.crypto.keyfile import load_or_create_server_keys

        def crash(*args, **kwargs):
            os._exit(137)

        if hasattr(os, {crash_at!r}):
            setattr(os, {crash_at!r}, crash)
        load_or_create_server_keys(Path({str(key_path)!r}))
        """
    )
    subprocess.run([sys.executable, "-c", script], check=False, timeout=60)
    # Whatever state the crash left, the next start gets a usable key and keeps it.
    keys = load_or_create_server_keys(key_path)
    assert isinstance(keys, ServerKeys)
    assert load_or_create_server_keys(key_path).public == keys.public
    assert key_path.stat().st_mode & 0o777 == 0o600
