"""The CLI works on a data dir while a server runs on it, and the server sees the changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

from .conftest import ok, parse_rooms_list


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    running = RunningServer(data_dir=tmp_path / "data").start()
    try:
        yield running
    finally:
        running.stop()


def test_cli_changes_reach_the_running_server(server: RunningServer) -> None:
    ok(server.cli("rooms", "add", "live", "Live Room"))
    listed = parse_rooms_list(ok(server.cli("rooms", "list")).stdout)
    assert listed["live"].name == "Live Room"

    moderator, troll = SessionKeys.generate(), SessionKeys.generate()
    ok(server.cli("moderators", "add", moderator.session_id, "live"))
    ok(server.cli("bans", "add", troll.session_id, "live"))

    public = bytes.fromhex(ok(server.cli("key")).stdout.strip())  # the CLI, with a server up
    for transport in ("onion", "legacy"):
        with OpenGroupClient(server.base_url, public, transport=transport) as og:
            rooms = og.get_rooms()
            assert rooms["status_code"] == 200, rooms
            assert {"id": "live", "name": "Live Room"} in rooms["rooms"], rooms
            token = og.authenticate(moderator, "live")
            headers = {"Room": "live", "Authorization": token}
            moderators = og.request("GET", "moderators", headers=headers)
            assert moderators["moderators"] == [moderator.session_id], moderators
            banned = og.request("GET", "block_list", headers=headers)
            assert banned["banned_members"] == [troll.session_id], banned
            # the CLI-made moderator has moderator powers on the server
            outsider = SessionKeys.generate().session_id
            ban = og.request("POST", "block_list", body={"public_key": outsider}, headers=headers)
            assert ban["status_code"] == 200, ban
            unban = og.request("DELETE", f"block_list/{outsider}", headers=headers)
            assert unban["status_code"] == 200, unban
            # the CLI-made ban keeps the troll out
            challenge = og.request(
                "GET",
                f"auth_token_challenge?public_key={troll.session_id}",
                headers={"Room": "live"},
            )
            assert challenge["status_code"] == 403, challenge

    ok(server.cli("rooms", "rename", "live", "Renamed Live"))
    with OpenGroupClient(server.base_url, public, transport="legacy") as og:
        assert og.get_room("live")["room"]["name"] == "Renamed Live"
