"""GET rooms, GET rooms/:id, GET/POST rooms/:id/image, GET member_count."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from opengroup.crypto import SessionKeys

from .conftest import CheckedClient, Member, Server, b64, is_int, status, unb64

ROOM_KEYS = {"id", "name", "image_id"}


@pytest.fixture(scope="module")
def named_room(server: Server) -> str:
    return server.new_room("Rooms Test Lounge")


@pytest.fixture(scope="module")
def image_room(server: Server) -> tuple[str, SessionKeys]:
    """A room and one of its moderators."""
    room = server.new_room("Picture Room")
    moderator = SessionKeys.generate()
    server.add_moderator(moderator.session_id, room)
    return room, moderator


def check_room_object(room: dict[str, object]) -> None:
    assert set(room) <= ROOM_KEYS, room
    assert {"id", "name"} <= set(room), room
    assert isinstance(room["id"], str) and room["id"]
    assert isinstance(room["name"], str) and room["name"]
    if "image_id" in room:
        assert isinstance(room["image_id"], str) and room["image_id"], room


def test_list_rooms(client: CheckedClient, named_room: str) -> None:
    reply = client.request("GET", "rooms")
    assert status(reply) == 200
    assert set(reply) == {"status_code", "rooms"}
    for room in reply["rooms"]:
        check_room_object(room)
    by_id = {room["id"]: room for room in reply["rooms"]}
    assert by_id["main"]["name"] == "Main"
    assert by_id[named_room]["name"] == "Rooms Test Lounge"


def test_get_room(client: CheckedClient, named_room: str) -> None:
    reply = client.request("GET", f"rooms/{named_room}")
    assert status(reply) == 200
    assert set(reply) == {"status_code", "room"}
    check_room_object(reply["room"])
    assert reply["room"]["id"] == named_room
    assert reply["room"]["name"] == "Rooms Test Lounge"
    assert "image_id" not in reply["room"]


def test_unknown_room_is_404(client: CheckedClient) -> None:
    assert status(client.request("GET", "rooms/nosuchroom")) == 404
    assert status(client.request("GET", "rooms/nosuchroom/image")) == 404


def test_room_endpoints_ignore_the_room_header(client: CheckedClient) -> None:
    """Desktop sends `Room: main` on GET rooms even when the server has no room main."""
    listed = client.request("GET", "rooms", headers={"Room": "nonexistent"})
    assert status(listed) == 200
    assert any(room["id"] == "main" for room in listed["rooms"])
    one = client.request("GET", "rooms/main", headers={"Room": "nonexistent"})
    assert status(one) == 200
    assert one["room"]["id"] == "main"


def test_room_image_round_trip(
    client: CheckedClient, join: Callable[..., Member], image_room: tuple[str, SessionKeys]
) -> None:
    room, moderator_keys = image_room
    moderator = join(room, moderator_keys)
    image = b"\x89PNG\r\n\x1a\n" + os.urandom(700) + bytes(range(256))

    reply = moderator.post(f"rooms/{room}/image", {"file": b64(image)})
    assert status(reply) == 200, reply
    assert reply["room_id"] == room

    fetched = client.request("GET", f"rooms/{room}/image", headers={"Room": room})
    assert status(fetched) == 200, fetched
    assert unb64(fetched["result"]) == image

    listed = {r["id"]: r for r in client.request("GET", "rooms")["rooms"]}
    check_room_object(listed[room])
    assert listed[room].get("image_id")
    single = client.request("GET", f"rooms/{room}")["room"]
    assert single.get("image_id") == listed[room]["image_id"]


def test_room_image_replaced(
    client: CheckedClient, join: Callable[..., Member], image_room: tuple[str, SessionKeys]
) -> None:
    room, moderator_keys = image_room
    moderator = join(room, moderator_keys)
    first, second = b"GIF89a" + os.urandom(300), b"\xff\xd8\xff" + os.urandom(400)
    assert status(moderator.post(f"rooms/{room}/image", {"file": b64(first)})) == 200
    assert status(moderator.post(f"rooms/{room}/image", {"file": b64(second)})) == 200
    assert unb64(client.request("GET", f"rooms/{room}/image")["result"]) == second


def test_room_without_image_is_404(client: CheckedClient, named_room: str) -> None:
    reply = client.request("GET", f"rooms/{named_room}/image", headers={"Room": named_room})
    assert status(reply) == 404
    assert "result" not in reply


def test_non_moderator_cannot_set_room_image(
    client: CheckedClient, join: Callable[..., Member], named_room: str
) -> None:
    user = join(named_room)
    reply = user.post(f"rooms/{named_room}/image", {"file": b64(b"not allowed")})
    assert status(reply) == 403
    assert status(client.request("GET", f"rooms/{named_room}/image")) == 404


def test_member_count_counts_distinct_authenticated_users(
    server: Server, join: Callable[..., Member]
) -> None:
    room = server.new_room("Counting Room")
    users = [join(room) for _ in range(3)]
    for user in users:
        user.messages()
        user.messages()  # the same user twice still counts once

    reply = users[0].get("member_count")
    assert status(reply) == 200, reply
    assert set(reply) == {"status_code", "member_count"}
    assert is_int(reply["member_count"])
    assert reply["member_count"] == 3


def test_member_count_needs_a_token(client: CheckedClient) -> None:
    assert status(client.request("GET", "member_count", headers={"Room": "main"})) == 401


def test_room_image_must_be_an_image(
    client: CheckedClient, join: Callable[..., Member], image_room: tuple[str, SessionKeys]
) -> None:
    """POST rooms/:id/image takes PNG, JPEG, GIF or WebP only, told by content (issue 15)."""
    room, moderator_keys = image_room
    moderator = join(room, moderator_keys)
    before = client.request("GET", f"rooms/{room}/image", headers={"Room": room})
    for junk in (b"just text\n", os.urandom(64), b"<svg xmlns='http://www.w3.org/2000/svg'/>"):
        reply = moderator.post(f"rooms/{room}/image", {"file": b64(junk)})
        assert status(reply) == 400, reply
        assert "PNG" in reply["error"]
    after = client.request("GET", f"rooms/{room}/image", headers={"Room": room})
    assert after == before, "a refused image changed the room's image"
