"""`opengroup rooms stats ID [--window 1h]`: posts and active users in the window."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from opengroup.cli.operations import parse_window
from opengroup.config import Config
from opengroup.crypto import SessionKeys
from opengroup.runtime.bootstrap import open_context
from opengroup.store import auth as token_store
from opengroup.store import messages as message_store
from opengroup.store import rooms as room_store

from .conftest import cli, refused

HOUR = 3600.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Room main: alice posted 3 (one deleted since) just now, bob 2 an hour and a half ago;
    alice was active now, bob 2 hours ago, carol 3 days ago."""
    data = tmp_path_factory.mktemp("stats") / "data"
    ctx = open_context(Config(data_dir=str(data)))
    alice, bob, carol = (SessionKeys.generate().session_id for _ in range(3))
    now = time.time()
    try:
        with ctx.db.write() as tx:
            room = room_store.get_room(tx, "main")
            assert room is not None
            for who, when, count in ((alice, now, 3), (bob, now - 1.5 * HOUR, 2)):
                for _ in range(count):
                    message_store.insert_message(
                        tx, room, who, int(when * 1000), "ZGF0YQ==", "c2ln"
                    )
            message_store.delete_messages(tx, room, [1])
            for who, when in ((alice, now), (bob, now - 2 * HOUR), (carol, now - 3 * 24 * HOUR)):
                token_store.touch_tokens(tx, [(b"\x00" * 32, room.pk, who)], when)
    finally:
        ctx.close()
    return data


def stats(data_dir: Path, *args: str) -> dict[str, str]:
    out = cli("rooms", "stats", "main", *args, "--data-dir", str(data_dir)).stdout
    return {line[:14].strip(): line[14:].strip() for line in out.splitlines()}


def test_default_window_is_one_hour(data_dir: Path) -> None:
    numbers = stats(data_dir)
    assert numbers["window"].startswith("1h")
    assert numbers["posts"] == "3"
    assert numbers["deleted"] == "1"
    assert numbers["posters"] == "1"
    assert numbers["active users"] == "1"


def test_wider_windows(data_dir: Path) -> None:
    three_hours = stats(data_dir, "--window", "3h")
    assert [three_hours[key] for key in ("posts", "posters", "active users")] == ["5", "2", "2"]
    assert stats(data_dir, "--window", "7d")["active users"] == "3"


def test_unknown_room_and_bad_window(data_dir: Path) -> None:
    assert "no room" in refused("rooms", "stats", "nosuch", "--data-dir", str(data_dir))
    message = refused("rooms", "stats", "main", "--window", "soon", "--data-dir", str(data_dir))
    assert "window" in message


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1h", 3600), ("30m", 1800), ("90s", 90), ("7d", 604_800), ("2w", 1_209_600), ("45", 45)],
)
def test_window_syntax(text: str, seconds: float) -> None:
    assert parse_window(text) == seconds
