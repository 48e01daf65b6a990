"""The operator CLI, run as a subprocess (`python -m opengroup ...`) on temporary data dirs."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from opengroup.config import load_config
from opengroup.crypto import ServerKeys, SessionKeys
from opengroup.runtime.bootstrap import open_context
from tests.support.server import run_cli

SESSION_ID = re.compile(r"05[0-9a-f]{64}")
INVALID_ROOM_IDS = ["Bad-Id", "a", "x" * 65, "123", "legacy", "loki", "oxen"]
INVALID_SESSION_IDS = [
    "06" + "ab" * 32,
    "05" + "ab" * 31 + "a",  # 65 characters
    "05" + "ab" * 32 + "a",  # 67 characters
    "05" + "zz" * 32,
    "",
    "ab" * 32,
]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OPENGROUP_* setting of the machine running the tests leaks into them."""
    for name in list(os.environ):
        if name.startswith("OPENGROUP_"):
            monkeypatch.delenv(name)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def og(
    *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`opengroup ARGS [--data-dir DIR]`."""
    extra = ("--data-dir", str(data_dir)) if data_dir is not None else ()
    return run_cli(*args, *extra, env=env)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, (
        f"exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def assert_usage_error(proc: subprocess.CompletedProcess[str], *, mentions: str = "") -> str:
    """Exit status 2, exactly one line on stderr, no traceback; returns that line."""
    described = (
        f"args {proc.args[3:]}\nexit {proc.returncode}\n"
        f"stdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    )
    assert proc.returncode == 2, described
    assert "Traceback" not in proc.stderr + proc.stdout, described
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), described
    assert proc.stderr.endswith("\n"), described
    if mentions:
        assert mentions.lower() in lines[0].lower(), described
    return lines[0]


def new_session_id() -> str:
    return SessionKeys.generate().session_id


def table_rows(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, read-only."""
    con = sqlite3.connect(f"file:{data_dir / 'opengroup.db'}?mode=ro", uri=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(con.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
    finally:
        con.close()


def query(data_dir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{data_dir / 'opengroup.db'}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@dataclass(frozen=True)
class ListedRoom:
    id: str
    name: str
    messages: int
    files: int
    active: int
    description: str = ""


_ROW = re.compile(r"^(\S+)\s+(.*?)\s+(\d+)\s+(\d+)\s+(\d+)(?:  (.*))?$")


def parse_rooms_list(stdout: str) -> dict[str, ListedRoom]:
    lines = stdout.splitlines()
    assert lines, "no header"
    assert lines[0].split() == ["ID", "NAME", "MESSAGES", "FILES", "ACTIVE", "DESCRIPTION"]
    rooms = {}
    for line in lines[1:]:
        match = _ROW.match(line.strip())
        assert match, f"unparseable rooms list line {line!r}"
        room_id, name, messages, files, active, description = match.groups()
        rooms[room_id] = ListedRoom(
            room_id, name, int(messages), int(files), int(active), description or ""
        )
    return rooms


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def initialised(data_dir: Path) -> Path:
    """A data dir as the first command leaves it (key, database, room `main`), set up in-process
    to save a subprocess: the commands under test still run as subprocesses."""
    ctx = open_context(load_config(None, {"data_dir": str(data_dir)}, environ={}))
    ctx.close()
    return data_dir


def public_key_hex(data_dir: Path) -> str:
    """The key in DATA_DIR/key.pem (`opengroup key` itself is tested in test_key.py)."""
    return ServerKeys.from_pem((data_dir / "key.pem").read_bytes()).public_hex
