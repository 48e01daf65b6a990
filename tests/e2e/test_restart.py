"""A restart on the same data directory changes nothing a client can see."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.server import RunningServer, free_port

from .conftest import TRANSPORTS, CheckedClient, Member, Server, b64, status, unb64


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = {"OPENGROUP_BASE_URL": f"http://127.0.0.1:{port}"}

    first = RunningServer(data_dir=data_dir, port=port, env=env).start()
    try:
        server = Server(first, b"")
        public_key = server.public_key = bytes.fromhex(server.cli("key").strip())
        join_url = server.cli("url", "main").strip()
        assert join_url == f"http://127.0.0.1:{port}/main?public_key={public_key.hex()}"
        room = server.new_room("Survivor Room")

        with CheckedClient(first.base_url, public_key, transport="onion") as og:
            member = Member.join(og, room)
            in_main = Member.join(og, "main", member.keys)
            posted = [member.post_message(os.urandom(50)) for _ in range(3)]
            assert status(member.delete(f"messages/{posted[1]['server_id']}")) == 200
            content = os.urandom(4096)
            file_id = member.post("files", {"file": b64(content)})["result"]
            rooms_before = og.request("GET", "rooms")["rooms"]
            messages_before = member.messages()
            deletions_before = member.deletions()
    finally:
        first.stop()

    second = RunningServer(data_dir=data_dir, port=port, env=env).start()
    try:
        assert Server(second, b"").cli("key").strip() == public_key.hex()
        assert Server(second, b"").cli("url", "main").strip() == join_url
        for transport in TRANSPORTS:
            # The client still uses the public key from before and its cached tokens.
            with CheckedClient(second.base_url, public_key, transport=transport) as og:  # type: ignore[arg-type]
                again = Member(og, member.keys, room, member.token)
                assert og.request("GET", "rooms")["rooms"] == rooms_before
                assert again.messages() == messages_before
                assert [m["server_id"] for m in messages_before] == [
                    posted[2]["server_id"],
                    posted[0]["server_id"],
                ]
                assert again.deletions() == deletions_before
                assert unb64(again.get(f"files/{file_id}")["result"]) == content
                assert status(Member(og, member.keys, "main", in_main.token).get("messages")) == 200

        # Ids keep increasing after the restart.
        with CheckedClient(second.base_url, public_key, transport="legacy") as og:
            again = Member(og, member.keys, room, member.token)
            assert again.post_message()["server_id"] > posted[-1]["server_id"]
    finally:
        second.stop()
