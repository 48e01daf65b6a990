"""Room permissions (SOGS-API.md 3.7, 7.10): room defaults and per-user overrides with an
end time, through both APIs and the CLI; moderators and admins are never restricted."""

from __future__ import annotations

import os
import time

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import Member, Server, b64, status


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Permissions")


def post_code(sogs: SogsClient, room: str, user: BlindedUser) -> int:
    data = os.urandom(10)
    body = {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))}
    return sogs.post(f"/room/{room}/message", body, user=user).code


def legacy_member(server: Server, room: str, user: BlindedUser) -> Member:
    return Member.join(
        server.client("onion"), room, SessionKeys.from_private_bytes(user.x25519_private)
    )


def test_a_write_override_holds_in_both_apis_until_cleared(
    server: Server, sogs: SogsClient, room: str
) -> None:
    moderator, user = BlindedUser.generate(), BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    legacy = legacy_member(server, room, user)
    target = user.blinded_id(sogs.server_pk)
    reply = sogs.post(f"/room/{room}/permissions/{target}", {"write": False}, user=moderator)
    assert reply.code == 200 and reply.json["write"] is False
    assert post_code(sogs, room, user) == 403
    assert status(legacy.try_post_message(os.urandom(10))) == 403
    poll = sogs.get(f"/room/{room}/pollInfo/0", user=user).json
    assert (poll["read"], poll["write"], poll["upload"]) == (True, False, False)
    assert legacy.messages() == []  # reading is still allowed
    assert (
        sogs.post(f"/room/{room}/permissions/{target}", {"write": None}, user=moderator).code == 200
    )
    assert post_code(sogs, room, user) == 201
    assert status(legacy.try_post_message(os.urandom(10))) == 200


def test_a_read_override_ends_at_its_time(server: Server, sogs: SogsClient, room: str) -> None:
    moderator, user = BlindedUser.generate(), BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    body = {"read": False, "for": 1}
    assert (
        sogs.post(f"/room/{room}/permissions/{user.session_id}", body, user=moderator).code == 200
    )
    reply = sogs.get(f"/room/{room}/messages/recent", user=user)
    assert (reply.code, reply.text) == (
        403,
        "This endpoint requires room message 'read' permission",
    )
    legacy = legacy_member(server, room, user)
    assert status(legacy.get("messages")) == 403
    deadline = time.time() + 30
    while sogs.get(f"/room/{room}/messages/recent", user=user).code == 403:
        assert time.time() < deadline, "the override did not end"
        time.sleep(1)
    assert status(legacy.get("messages")) == 200


def test_only_moderators_set_overrides(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    target = f"/room/{room}/permissions/{user.session_id}"
    assert sogs.post(target, {"write": False}, user=user).code == 403
    assert sogs.post(target, {"write": False}).code == 401


def test_moderators_are_never_restricted(server: Server, sogs: SogsClient, room: str) -> None:
    moderator = BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    other = BlindedUser.generate()
    server.add_moderator(other.session_id, room)
    body = {"write": False, "read": False}
    assert (
        sogs.post(f"/room/{room}/permissions/{other.session_id}", body, user=moderator).code == 200
    )
    assert post_code(sogs, room, other) == 201


@pytest.mark.parametrize("body", [{}, {"write": "no"}, {"write": False, "for": -1}, {"for": 5}])
def test_bad_override_bodies(
    server: Server, sogs: SogsClient, room: str, body: dict[str, object]
) -> None:
    moderator = BlindedUser.generate()
    server.add_moderator(moderator.session_id, room)
    user = BlindedUser.generate()
    assert (
        sogs.post(f"/room/{room}/permissions/{user.session_id}", body, user=moderator).code == 400
    )


def test_an_announcement_room_set_up_with_the_cli(server: Server, sogs: SogsClient) -> None:
    room = server.new_room("News")
    assert "-write" in server.cli("rooms", "perms", room, "-w")
    member, moderator, granted = (BlindedUser.generate() for _ in range(3))
    server.add_moderator(moderator.session_id, room)
    legacy = legacy_member(server, room, member)
    assert post_code(sogs, room, member) == 403
    assert status(legacy.try_post_message(os.urandom(10))) == 403
    assert post_code(sogs, room, moderator) == 201
    poll = sogs.get(f"/room/{room}/pollInfo/0", user=member).json
    assert (poll["read"], poll["write"]) == (True, False)
    # A per-user grant, given as the 05 id, holds for the 15 id.
    assert "+write" in server.cli("users", "perms", granted.session_id, room, "+w")
    assert post_code(sogs, room, granted) == 201
    server.cli("users", "perms", granted.session_id, room, "=w")
    assert post_code(sogs, room, granted) == 403


def test_a_cli_read_only_override_ends_at_its_time(
    server: Server, sogs: SogsClient, room: str
) -> None:
    user = BlindedUser.generate()
    server.cli("users", "perms", user.blinded_id(sogs.server_pk), room, "-w", "--for", "1s")
    assert post_code(sogs, room, user) == 403
    deadline = time.time() + 30
    while post_code(sogs, room, user) == 403:
        assert time.time() < deadline, "the override did not end"
        time.sleep(1)


def test_the_post_rate_limit_counts_a_person_through_both_apis(
    server: Server, sogs: SogsClient, room: str
) -> None:
    """One limit per person and room (README, blinding): posts made with the 15 id count
    against the same person's legacy posts with its 05 id, and the other way round."""
    user, other = BlindedUser.generate(), BlindedUser.generate()
    legacy = legacy_member(server, room, user)
    for _ in range(5):  # the server's rate_limit_posts
        assert post_code(sogs, room, user) == 201
    assert status(legacy.try_post_message(os.urandom(10))) == 429

    legacy_other = legacy_member(server, room, other)
    for _ in range(5):
        assert status(legacy_other.try_post_message(os.urandom(10))) == 200
    assert post_code(sogs, room, other) == 429
