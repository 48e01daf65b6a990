"""Room settings through the modern API (SOGS-API.md 6.1, 6.3, 7.2 `PUT /room/R`): what an
admin changes reaches a member's next pollInfo through info_updates; nobody else changes
anything; the legacy API and the CLI set the same room image."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import CheckedClient, Member, Server, b64, status
from .sogs_content import new_admin, room_info, upload_id


def poll(client: SogsClient, room: str, user: BlindedUser, known: int) -> dict[str, Any]:
    reply = client.get(f"/room/{room}/pollInfo/{known}", user=user)
    assert reply.code == 200, reply.text
    return dict(reply.json)


def put_room(
    client: SogsClient, room: str, user: BlindedUser | None, body: object
) -> tuple[int, Any]:
    reply = client.request("PUT", f"/room/{room}", body, user=user)
    return reply.code, reply.json if reply.code == 200 else reply.text


def test_admin_changes_reach_a_members_next_poll(sogs: SogsClient, server: Server) -> None:
    room = server.new_room("Before")
    admin, member = new_admin(server, room), BlindedUser.generate()
    known = poll(sogs, room, member, 0)["details"]["info_updates"]
    assert "details" not in poll(sogs, room, member, known)
    image = upload_id(sogs, room, admin, b"\x89PNG\r\n\x1a\n the new image")
    code, reply = put_room(
        sogs, room, admin, {"name": "After", "description": "Line one\nline\ttwo", "image": image}
    )
    assert code == 200 and reply["info_updates"] > known
    details = poll(sogs, room, member, known)["details"]
    assert details["name"] == "After"
    assert details["description"] == "Line one\nline\ttwo"
    assert details["image_id"] == image
    assert details["info_updates"] == reply["info_updates"]
    assert "details" not in poll(sogs, room, member, reply["info_updates"])
    # Each of name, description and image moves the counter on its own.
    for change in ({"name": "Again"}, {"description": None}, {"image": image}):
        before = room_info(sogs, room, member)["info_updates"]
        code, reply = put_room(sogs, room, admin, change)
        assert code == 200 and reply["info_updates"] > before, change
    assert "description" not in room_info(sogs, room, member)


def test_text_is_cleaned(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    code, _ = put_room(
        sogs, room, admin, {"name": "Ro\x00om\x07 \x1b1", "description": "a\tb\nc\rd\x00e\x7f"}
    )
    assert code == 200
    info = room_info(sogs, room, admin)
    assert info["name"] == "Room 1" and info["description"] == "a\tb\ncde"
    assert put_room(sogs, room, admin, {"description": ""})[0] == 200
    assert "description" not in room_info(sogs, room, admin)


def test_defaults_change_permissions_but_not_info_updates(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin, member = new_admin(server, room), BlindedUser.generate()
    before = room_info(sogs, room, member)
    assert before["write"] is True and before["upload"] is True
    code, reply = put_room(sogs, room, admin, {"default_write": False, "default_upload": False})
    assert code == 200 and reply["info_updates"] == before["info_updates"]
    after = poll(sogs, room, member, before["info_updates"])
    assert (after["read"], after["write"], after["upload"]) == (True, False, False)
    assert "details" not in after
    admin_view = room_info(sogs, room, admin)
    assert (admin_view["default_write"], admin_view["default_upload"]) == (False, False)
    assert (admin_view["default_read"], admin_view["default_accessible"]) == (True, True)


def test_only_admins_change_anything(sogs: SogsClient, server: Server) -> None:
    room = server.new_room("Unchanged")
    moderator, member = BlindedUser.generate(), BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    image = upload_id(sogs, room, member, b"a member's upload")
    before = room_info(sogs, room, moderator)
    change = {"name": "Taken over", "description": "x", "image": image, "default_read": False}
    for user, expected in ((member, 403), (moderator, 403), (None, 401)):
        code, text = put_room(sogs, room, user, change)
        assert code == expected, (code, text)
    assert room_info(sogs, room, moderator) == before


BAD_BODIES: list[object] = [
    {},
    {"colour": "red"},
    {"name": ""},
    {"name": "   "},
    {"name": "\x01\x02"},
    {"name": 5},
    {"name": None},
    {"name": "x" * 300},
    {"description": 5},
    {"description": ["a"]},
    {"image": "abc"},
    {"image": True},
    {"image": -1},
    {"image": 1.5},
    {"default_read": "yes"},
    {"default_write": 1},
    {"default_upload": None},
    ["name"],
    "name",
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=repr)
def test_bad_bodies_are_400_and_change_nothing(
    sogs: SogsClient, server: Server, body: object
) -> None:
    room = server.new_room("Steady")
    admin = new_admin(server, room)
    before = room_info(sogs, room, admin)
    code, text = put_room(sogs, room, admin, body)
    assert code == 400, (code, text)
    raw = sogs.request("PUT", f"/room/{room}", raw=b"{not json", user=admin)
    assert raw.code == 400
    assert room_info(sogs, room, admin) == before


def test_an_image_not_of_this_room_is_406(sogs: SogsClient, server: Server) -> None:
    room, other = server.new_room(), server.new_room()
    admin = new_admin(server, room)
    elsewhere = upload_id(sogs, other, admin, b"another room's file")
    before = room_info(sogs, room, admin)
    for image in (elsewhere, 999_999_999, str(elsewhere)):
        code, text = put_room(sogs, room, admin, {"image": image, "name": "Not applied"})
        assert code == 406, (image, code, text)
    assert room_info(sogs, room, admin) == before
    assert sogs.request("PUT", "/room/nosuchroom", {"name": "x"}, user=admin).code == 404


def test_legacy_image_and_cli_image_are_the_same_image(
    sogs: SogsClient, server: Server, legacy: CheckedClient, tmp_path: Path
) -> None:
    room = server.new_room()
    keys = SessionKeys.generate()
    server.add_moderator(keys.session_id, room)
    moderator = Member.join(legacy, room, keys)
    reader = BlindedUser.generate()
    known = room_info(sogs, room, reader)["info_updates"]
    picture = b"GIF89a" + os.urandom(2000)
    assert status(moderator.post(f"rooms/{room}/image", {"file": b64(picture)})) == 200
    details = poll(sogs, room, reader, known)["details"]
    legacy_id = legacy.request("GET", f"rooms/{room}")["room"]["image_id"]
    assert details["image_id"] == int(legacy_id)
    fetched = sogs.get(f"/room/{room}/file/{details['image_id']}", user=reader)
    assert fetched.code == 200 and fetched.raw == picture and "expires" not in fetched.headers
    path = tmp_path / "logo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n from the operator")
    server.cli("rooms", "set-image", room, str(path))
    after = poll(sogs, room, reader, details["info_updates"])["details"]
    assert after["image_id"] != details["image_id"]
    assert sogs.get(f"/room/{room}/file/{after['image_id']}", user=reader).raw == path.read_bytes()
    # A modern admin sets a file of the room; the legacy API serves that image.
    admin = new_admin(server, room)
    modern = upload_id(sogs, room, admin, b"GIF89a modern image")
    assert put_room(sogs, room, admin, {"image": modern})[0] == 200
    assert legacy.request("GET", f"rooms/{room}")["room"]["image_id"] == str(modern)
    image = legacy.request("GET", f"rooms/{room}/image")
    assert status(image) == 200 and image["result"] == b64(b"GIF89a modern image")


def test_cli_description_reaches_the_modern_room(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    reader = BlindedUser.generate()
    known = room_info(sogs, room, reader)["info_updates"]
    server.cli("rooms", "describe", room, "Set by the operator")
    assert poll(sogs, room, reader, known)["details"]["description"] == "Set by the operator"


def test_desktops_image_change_inside_a_batch(sogs: SogsClient, server: Server) -> None:
    """D17 obs.: upload the image, then `PUT /room/R {"image": id}` as a /batch item."""
    room = server.new_room()
    admin, member = new_admin(server, room), BlindedUser.generate()
    known = room_info(sogs, room, member)["info_updates"]
    image = upload_id(sogs, room, admin, b"\x89PNG\r\n\x1a\n desktop image")
    reply = sogs.batch(
        [
            {"method": "PUT", "path": f"/room/{room}", "json": {"image": image}},
            {
                "method": "PUT",
                "path": f"/room/{room}",
                "json": {"name": "Renamed", "description": "d"},
            },
        ],
        user=admin,
    )
    assert reply.code == 200, reply.text
    assert [item["code"] for item in reply.json] == [200, 200]
    details = poll(sogs, room, member, known)["details"]
    assert (details["image_id"], details["name"], details["description"]) == (image, "Renamed", "d")


def test_a_room_image_must_be_an_image(sogs: SogsClient, server: Server) -> None:
    """Issue 15: every door that sets a room image checks its content (PNG, JPEG, GIF, WebP)."""
    room = server.new_room("Pictures")
    admin = BlindedUser.generate()
    server.cli("moderators", "add", admin.session_id, room, "--admin")
    text = upload_id(sogs, room, admin, b"just some text, not a picture")
    before = sogs.get(f"/room/{room}", user=admin).json
    code, _ = put_room(sogs, room, admin, {"image": text})
    assert code == 400
    after = sogs.get(f"/room/{room}", user=admin).json
    assert after.get("image_id") == before.get("image_id")
    assert after["info_updates"] == before["info_updates"]


def test_pollinfo_0_shows_moderators_and_pins_changed_by_another_process(
    sogs: SogsClient, server: Server
) -> None:
    """Desktop polls pollInfo/0, so every poll carries the room's details, which the server
    keeps per info_updates: a moderator granted by another process (the CLI) moves the
    room's info_updates and shows in the next poll, and so does its removal."""
    room = server.new_room("Kept details")
    member = BlindedUser.generate()
    before = poll(sogs, room, member, 0)["details"]
    poll(sogs, room, member, 0)  # read again at the same info_updates: from what was kept
    moderator = SessionKeys.generate()
    server.cli("moderators", "add", moderator.session_id, room)
    after = poll(sogs, room, member, 0)["details"]
    assert after["info_updates"] > before["info_updates"]
    assert moderator.session_id in after["moderators"]
    assert moderator.session_id not in before["moderators"]
    server.cli("moderators", "remove", moderator.session_id, room)
    removed = poll(sogs, room, member, 0)["details"]
    assert moderator.session_id not in removed["moderators"]
