"""Pins (SOGS-API.md 6.3, 7.5): order, re-pin to the end, unpin, unpin all, info_updates,
pollInfo details, permissions, and a deleted message's pin removed."""

from __future__ import annotations

from typing import Any

import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import Server, sogs_post
from .sogs_content import new_admin, room_info


def pins_of(client: SogsClient, room: str, user: BlindedUser) -> list[dict[str, Any]]:
    return list(room_info(client, room, user).get("pinned_messages", []))


def act(client: SogsClient, room: str, user: BlindedUser | None, what: str) -> tuple[int, Any]:
    reply = client.request("POST", f"/room/{room}/{what}", {}, user=user)
    return reply.code, reply.json if reply.code == 200 else reply.text


def test_pin_order_repin_unpin_and_unpin_all(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin, member = new_admin(server, room), BlindedUser.generate()
    ids = [sogs_post(sogs, room, member)["id"] for _ in range(3)]
    assert "pinned_messages" not in room_info(sogs, room, member)
    counter = room_info(sogs, room, member)["info_updates"]
    for message_id in (ids[1], ids[0], ids[2]):
        code, reply = act(sogs, room, admin, f"pin/{message_id}")
        assert code == 200 and reply == {"info_updates": counter + 1}
        counter += 1
    pins = pins_of(sogs, room, member)
    assert [p["id"] for p in pins] == [ids[1], ids[0], ids[2]]
    assert {p["pinned_by"] for p in pins} == {admin.blinded_id(sogs.server_pk)}
    assert all(isinstance(p["pinned_at"], float) for p in pins)
    assert [p["pinned_at"] for p in pins] == sorted(p["pinned_at"] for p in pins)
    # Re-pinning moves a pin to the end.
    assert act(sogs, room, admin, f"pin/{ids[1]}") == (200, {"info_updates": counter + 1})
    counter += 1
    assert [p["id"] for p in pins_of(sogs, room, member)] == [ids[0], ids[2], ids[1]]
    # A member polling with the old counter gets the pins in the details.
    polled = sogs.get(f"/room/{room}/pollInfo/{counter - 1}", user=member).json
    assert [p["id"] for p in polled["details"]["pinned_messages"]] == [ids[0], ids[2], ids[1]]
    assert act(sogs, room, admin, f"unpin/{ids[2]}") == (
        200,
        {"unpinned": True, "info_updates": counter + 1},
    )
    counter += 1
    assert act(sogs, room, admin, f"unpin/{ids[2]}") == (
        200,
        {"unpinned": False, "info_updates": counter},
    )
    assert [p["id"] for p in pins_of(sogs, room, member)] == [ids[0], ids[1]]
    counter += 1
    assert act(sogs, room, admin, "unpin/all") == (200, {"unpinned": 2, "info_updates": counter})
    assert act(sogs, room, admin, "unpin/all") == (200, {"unpinned": 0, "info_updates": counter})
    assert "pinned_messages" not in room_info(sogs, room, member)


def test_pin_without_a_body_as_desktop_may_send(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    message_id = sogs_post(sogs, room, admin)["id"]
    assert sogs.request("POST", f"/room/{room}/pin/{message_id}", user=admin).code == 200
    assert [p["id"] for p in pins_of(sogs, room, admin)] == [message_id]


def test_only_admins_pin_and_unpin(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    moderator, member = BlindedUser.generate(), BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    message_id = sogs_post(sogs, room, member)["id"]
    assert act(sogs, room, admin, f"pin/{message_id}")[0] == 200
    room_info(sogs, room, moderator)  # once signed in, the list shows the moderator's 15 id
    before = room_info(sogs, room, admin)
    for what in (f"pin/{message_id}", f"unpin/{message_id}", "unpin/all"):
        for user, expected in ((member, 403), (moderator, 403), (None, 401)):
            assert act(sogs, room, user, what)[0] == expected, (what, user, expected)
    assert room_info(sogs, room, admin) == before


@pytest.mark.parametrize("what", ["pin/999999", "pin/abc", "pin/-1", "unpin/abc", "pin/", "unpin/"])
def test_unknown_or_bad_ids_are_404(sogs: SogsClient, server: Server, what: str) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    before = room_info(sogs, room, admin)
    assert act(sogs, room, admin, what)[0] == 404
    assert act(sogs, "nosuchroom", admin, "pin/1")[0] == 404
    assert room_info(sogs, room, admin) == before


def test_a_bad_body_is_400(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    message_id = sogs_post(sogs, room, admin)["id"]
    for raw in (b"{not json", b"[1]"):
        reply = sogs.request("POST", f"/room/{room}/pin/{message_id}", raw=raw, user=admin)
        assert reply.code == 400
    assert "pinned_messages" not in room_info(sogs, room, admin)


def test_a_deleted_message_cannot_be_pinned_and_loses_its_pin(
    sogs: SogsClient, server: Server
) -> None:
    room = server.new_room()
    admin, member = new_admin(server, room), BlindedUser.generate()
    kept, doomed, gone = (sogs_post(sogs, room, member)["id"] for _ in range(3))
    assert sogs.request("DELETE", f"/room/{room}/message/{gone}", user=member).code == 200
    assert act(sogs, room, admin, f"pin/{gone}")[0] == 404
    act(sogs, room, admin, f"pin/{kept}")
    act(sogs, room, admin, f"pin/{doomed}")
    before = room_info(sogs, room, member)["info_updates"]
    assert sogs.request("DELETE", f"/room/{room}/message/{doomed}", user=member).code == 200
    after = room_info(sogs, room, member)
    assert after["info_updates"] > before
    assert [p["id"] for p in after["pinned_messages"]] == [kept]
