"""Room descriptions and, with `web_show_recent`, a room's newest messages on its page: the text
decoded from the Session message, the author's id shortened, the time and the number of
attachments; nothing from a room an anonymous reader may not read. Checked over HTTP and as
Chromium renders it."""

from __future__ import annotations

import html
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient
from opengroup.web.message_text import read_message, unpad
from tests.e2e.conftest import b64
from tests.e2e.sogs_content import session_content

from .conftest import WebServer, start_web_server
from .test_browser import Chromium, chromium  # noqa: F401  (the browser fixture)

GREETING = "Hello <world> & friends 🦒\nsecond line"
SECRET = "only members may read this"


def post(client: SogsClient, room: str, user: BlindedUser, data: bytes) -> None:
    body = {"data": b64(data), "signature": b64(user.sign_post(data, client.server_pk))}
    reply = client.post(f"/room/{room}/message", body, user=user)
    assert reply.code == 201, reply.text


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebServer, BlindedUser]]:
    """`web_show_recent` on; lokinet holds a greeting with two attachments and a plain post;
    crypto_talk holds a post and is then closed to anonymous readers."""
    server = start_web_server(tmp_path_factory.mktemp("recent"), "--web-show-recent")
    author, admin = BlindedUser.generate(), BlindedUser.generate()
    server.cli("moderators", "add", admin.session_id, "crypto_talk", "--admin")
    server.cli("rooms", "describe", "lokinet", "Release notes\nand <updates>")
    client = SogsClient(server.base_url, bytes.fromhex(server.public_key))
    try:
        post(client, "lokinet", author, session_content(GREETING, (2**40, 2**40 + 1)))
        post(client, "lokinet", author, session_content("plain words", pad=False))
        post(client, "crypto_talk", author, session_content(SECRET))
        closed = client.request("PUT", "/room/crypto_talk", {"default_read": False}, user=admin)
        assert closed.code == 200, closed.text
    finally:
        client.close()
    yield server, author
    server.running.stop()


def page(server: WebServer, room: str) -> str:
    response = httpx.get(f"{server.base_url}/{room}", timeout=10)
    assert response.status_code == 200
    return response.text


def test_recent_messages_show_as_text(shown: tuple[WebServer, BlindedUser]) -> None:
    server, author = shown
    text = page(server, "lokinet")
    assert "Recent messages" in text
    assert html.escape(GREETING, quote=False) in text  # escaped, never markup
    assert "plain words" in text
    assert "2 attachments" in text and text.count('class="attachments"') == 1
    blinded = author.blinded_id(bytes.fromhex(server.public_key))
    assert f"{blinded[:6]}…{blinded[-4:]}" in text and blinded not in text
    assert time.strftime("%Y-%m-%d", time.gmtime()) in text
    assert text.index("plain words") < text.index("Hello")  # newest first
    assert "Release notes\nand &lt;updates&gt;" in text


def test_nothing_from_a_room_anonymous_readers_cannot_read(
    shown: tuple[WebServer, BlindedUser],
) -> None:
    server, _ = shown
    text = page(server, "crypto_talk")
    assert SECRET not in text and "Recent messages" not in text


def test_off_by_default(web: WebServer) -> None:
    assert "Recent messages" not in page(web, "lokinet")


def test_the_index_shows_descriptions(shown: tuple[WebServer, BlindedUser]) -> None:
    server, _ = shown
    index = httpx.get(server.base_url + "/", timeout=10).text
    assert "Release notes\nand &lt;updates&gt;" in index
    assert GREETING.split("\n")[0] not in html.unescape(index)  # messages are on room pages


def test_rendered_in_a_browser(
    chromium: Chromium,  # noqa: F811
    shown: tuple[WebServer, BlindedUser],
    tmp_path: Path,
) -> None:
    server, _ = shown
    dom = chromium.dom(server.join_url("lokinet"))
    assert html.escape("Hello <world> & friends 🦒", quote=False) in dom
    assert "2 attachments" in dom and "plain words" in dom
    assert "Release notes" in dom
    closed = chromium.dom(server.join_url("crypto_talk"))
    assert SECRET not in closed
    shot = chromium.screenshot(server.join_url("lokinet"), tmp_path / "recent.png")
    assert shot.stat().st_size > 0


def test_the_reader_of_session_messages() -> None:
    assert unpad(b"abc\x80\x00\x00") == b"abc" and unpad(b"abc") == b"abc"
    read = read_message(session_content("hi there", (1, 2, 3)))
    assert (read.body, read.attachments) == ("hi there", 3)
    assert read_message(b"\xff\xff\xff").body == ""  # not a message: no text, no error
    assert read_message(session_content("x")[:3]).body == ""  # truncated
    assert read_message(b"").attachments == 0
