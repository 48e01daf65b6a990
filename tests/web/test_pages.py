"""The web pages over HTTP: `/`, `/<room>`, room images, the hidden index, derived URLs."""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from opengroup.rules.ids import RESERVED_ROOM_IDS, is_valid_room_id
from opengroup.runtime.app import ROUTES
from opengroup.transport.front_door import ONION_PATHS
from tests.support.server import run_cli

from .conftest import ROOMS, WebServer, png_bytes, start_web_server


def get(server: WebServer, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(server.base_url + path, timeout=10, **kwargs)  # type: ignore[arg-type]


def test_index_lists_every_room_with_join_url_and_qr_code(web: WebServer) -> None:
    response = get(web, "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for room_id, name in {**ROOMS, "main": "Main"}.items():
        assert html.escape(name, quote=False) in page, name
        assert html.escape(web.join_url(room_id)) in page
    assert page.count('<svg role="img"') == len(ROOMS) + 1  # one QR code per room
    assert web.public_key in page
    assert "Join Community" in page
    assert "<script" not in page.lower()


def test_room_names_are_escaped(web: WebServer) -> None:
    page = get(web, "/").text
    assert "Crypto &lt;Talk&gt; &amp; Friends" in page
    assert "<Talk>" not in page


def test_page_is_for_phones_and_both_colour_schemes(web: WebServer) -> None:
    page = get(web, "/").text
    assert 'name="viewport" content="width=device-width' in page
    assert "prefers-color-scheme: dark" in page
    assert 'name="color-scheme" content="light dark"' in page


def test_no_note_about_the_address_when_base_url_is_set(web: WebServer) -> None:
    assert "no <code>base_url</code>" not in get(web, "/").text


@pytest.mark.parametrize("with_key", [True, False])
def test_join_url_in_a_browser_opens_the_room_page(web: WebServer, with_key: bool) -> None:
    path = f"/lokinet?public_key={web.public_key}" if with_key else "/lokinet"
    response = get(web, path)
    assert response.status_code == 200
    page = response.text
    assert "Lokinet Updates" in page
    assert html.escape(web.join_url("lokinet")) in page
    assert page.count('<svg role="img"') == 1
    assert "Crypto" not in page  # only this room
    assert "different public key" not in page


def test_room_page_warns_about_a_wrong_public_key(web: WebServer) -> None:
    page = get(web, "/lokinet?public_key=" + "ab" * 32).text
    assert "different public key" in page
    assert html.escape(web.join_url("lokinet")) in page


@pytest.mark.parametrize("path", ["/nosuchroom", "/Main", "/a-b", "/favicon.png", "/007"])
def test_unknown_room_is_a_404_page(web: WebServer, path: str) -> None:
    response = get(web, path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No such room" in response.text


def test_room_image_is_served_and_shown(web: WebServer) -> None:
    page = get(web, "/").text
    match = re.search(r'<img class="avatar" src="(/static/images/lokinet\?v=\d+)"', page)
    assert match, "the room image is not on the page"
    response = get(web, html.unescape(match.group(1)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == png_bytes(web.tmp)


def test_a_room_image_that_is_no_image_is_not_served(web: WebServer) -> None:
    assert get(web, "/static/images/cafe").status_code == 404
    assert '<img class="avatar" src="/static/images/cafe' not in get(web, "/").text


@pytest.mark.parametrize("room", ["main", "nosuchroom", "a-b"])
def test_rooms_without_image_have_no_image_route(web: WebServer, room: str) -> None:
    assert get(web, f"/static/images/{room}").status_code == 404


def test_pages_forbid_scripts(web: WebServer) -> None:
    policy = get(web, "/").headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


def test_api_paths_still_answer(web: WebServer) -> None:
    response = get(web, "/legacy/rooms")
    assert response.status_code == 200
    assert response.json()["status_code"] == 200


def test_every_path_of_the_server_is_a_reserved_room_id() -> None:
    firsts = {
        route.path.strip("/").split("/")[0]
        for route in ROUTES
        if isinstance(route, Route) and route.path not in ("/", "/{room_id}")
    } | {path.strip("/").split("/")[0] for path in ONION_PATHS}
    assert {"health", "metrics", "static", "legacy", "loki", "oxen"} <= firsts
    # A path that could also be a room id must never become one.
    assert {first for first in firsts if is_valid_room_id(first)} <= RESERVED_ROOM_IDS


@pytest.mark.parametrize("room_id", ["metrics", "health", "static", "legacy", "loki", "oxen"])
def test_reserved_room_ids_cannot_be_created(tmp_path: Path, room_id: str) -> None:
    done = run_cli("rooms", "add", room_id, "Nope", "--data-dir", str(tmp_path / "data"))
    assert done.returncode == 2
    assert "reserved" in done.stderr


def test_hidden_index_lists_no_room_but_room_pages_work(tmp_path: Path) -> None:
    server = start_web_server(tmp_path, "--no-web-index")
    try:
        response = get(server, "/")
        assert response.status_code == 200
        assert "does not list its rooms" in response.text
        for name in ROOMS.values():
            assert html.escape(name, quote=False) not in response.text
        assert "<svg" not in response.text
        room = get(server, f"/lokinet?public_key={server.public_key}")
        assert room.status_code == 200
        assert html.escape(server.join_url("lokinet")) in room.text
        assert 'href="/"' not in room.text
    finally:
        server.running.stop()


def test_without_base_url_the_page_uses_the_listening_address_never_the_host(
    tmp_path: Path,
) -> None:
    """Issue 16, items 5 and 11: a `Host` header reaches no join URL, QR code, title or
    redirect, and so cannot make the server draw every room's QR codes again."""
    server = start_web_server(tmp_path, "--base-url", "", rooms=False)
    own = f"http://127.0.0.1:{server.running.port}"
    try:
        page = get(server, "/", headers={"Host": "chat.example.org:8443"}).text
        assert html.escape(f"{own}/main?public_key={server.public_key}") in page
        assert "chat.example.org" not in page
        assert "no <code>base_url</code>" in page
        room = get(server, "/main", headers={"Host": "other.example"}).text
        assert "other.example" not in room
        assert html.escape(f"{own}/main?public_key={server.public_key}") in room
        redirect = get(server, "/legacy", headers={"Host": "evil.example"})
        assert "evil.example" not in redirect.headers.get("location", "")
    finally:
        server.running.stop()


def test_new_hosts_do_not_redraw_qr_codes(tmp_path: Path) -> None:
    """Item 5: pages for a new `Host` each time cost no more than pages for the same one."""
    server = start_web_server(tmp_path, "--base-url", "", rooms=True)
    assert server.running.process is not None
    pid = server.running.process.pid
    try:
        get(server, "/")

        def cpu_of(hosts: list[str]) -> float:
            before = _cpu_seconds(pid)
            for host in hosts:
                assert get(server, "/", headers={"Host": host}).status_code == 200
            return _cpu_seconds(pid) - before

        same = cpu_of(["chat.example"] * 20)
        fresh = cpu_of([f"h{n}.example" for n in range(20)])
        assert fresh <= 2 * same + 0.05, (fresh, same)
    finally:
        server.running.stop()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_server_name_setting(tmp_path: Path) -> None:
    server = start_web_server(tmp_path, "--server-name", "Oxen <Community>", rooms=False)
    try:
        page = get(server, "/").text
        assert "<h1>Oxen &lt;Community&gt;</h1>" in page
        assert "<title>Oxen &lt;Community&gt;</title>" in page
    finally:
        server.running.stop()


def test_the_page_has_an_icon_and_a_copyable_join_link(web: WebServer) -> None:
    """Issue 15: a favicon; the join URL is a link (long-press copies it on a phone) shown on
    one line that scrolls rather than breaking mid-URL."""
    icon = get(web, "/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg")
    page = get(web, "/lokinet").text
    assert '<link rel="icon" href="/favicon.ico"' in page
    assert f'<a href="{html.escape(web.join_url("lokinet"))}"><code>' in page
    assert ".join-url code { white-space: nowrap;" in page
