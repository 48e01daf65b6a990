"""A server with a few rooms (one with an image) for the web page, metrics and health tests."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import segno

from opengroup.config import Config
from opengroup.crypto import ServerKeys
from opengroup.rules.ids import check_new_room_id
from opengroup.runtime.bootstrap import open_context
from opengroup.store import rooms as room_store
from opengroup.store.files import replace_room_image
from tests.support.server import RunningServer

# Display names as an operator might choose them: markup must come out as text.
ROOMS = {
    "lokinet": "Lokinet Updates",
    "crypto_talk": "Crypto <Talk> & Friends",
    "cafe": "Café ☕",
}


@dataclass
class WebServer:
    running: RunningServer
    public_key: str
    tmp: Path

    @property
    def base_url(self) -> str:
        return self.running.base_url

    def join_url(self, room: str) -> str:
        return f"{self.base_url}/{room}?public_key={self.public_key}"

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self.running.cli(*args)
        assert done.returncode == 0, done.stderr
        return done


def png_bytes(tmp: Path, text: str = "room image") -> bytes:
    path = tmp / "image.png"
    segno.make(text).save(str(path), scale=4)
    return path.read_bytes()


def add_rooms(data_dir: Path, image: bytes) -> None:
    """What `opengroup rooms add` and `rooms set-image` do, in-process (CLI runs are slow)."""
    ctx = open_context(Config(data_dir=str(data_dir)))
    try:
        with ctx.db.write() as tx:
            for room_id, name in ROOMS.items():
                room_store.create_room(tx, check_new_room_id(room_id), name, time.time())
        replace_room_image(ctx.db, ctx.blobs, "lokinet", image, None, time.time())
        replace_room_image(ctx.db, ctx.blobs, "cafe", b"no picture", None, time.time())
    finally:
        ctx.close()


def start_web_server(tmp: Path, *extra_args: str, rooms: bool = True) -> WebServer:
    data_dir = tmp / "data"
    running = RunningServer(data_dir=data_dir, extra_args=extra_args)
    setup = WebServer(running, "", tmp)
    if rooms:
        add_rooms(data_dir, png_bytes(tmp))
    running.start()
    setup.public_key = ServerKeys.from_pem((data_dir / "key.pem").read_bytes()).public_hex
    return setup


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    server = start_web_server(tmp_path_factory.mktemp("web"), "--metrics-public")
    yield server
    server.running.stop()
