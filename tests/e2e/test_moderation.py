"""Moderators and bans: GET/POST moderators, DELETE moderators/:id, the block list,
ban_and_delete_all, and who may delete whose messages."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from opengroup.crypto import SessionKeys

from .conftest import CheckedClient, Member, Server, b64, status


@dataclass(frozen=True)
class TwoRooms:
    a: str
    b: str
    moderator_of_a: SessionKeys


@pytest.fixture(scope="module")
def rooms(server: Server) -> TwoRooms:
    a, b = server.new_room("Moderated A"), server.new_room("Moderated B")
    moderator = SessionKeys.generate()
    server.add_moderator(moderator.session_id, a)
    return TwoRooms(a, b, moderator)


def image_of(client: CheckedClient, room: str) -> dict[str, object]:
    return client.request("GET", f"rooms/{room}/image")


# ------------------------------------------------------------------------------ moderators


def test_list_moderators(join: Callable[..., Member], rooms: TwoRooms) -> None:
    member = join(rooms.a)
    reply = member.get("moderators")
    assert status(reply) == 200
    assert set(reply) == {"status_code", "moderators"}
    assert isinstance(reply["moderators"], list)
    assert all(isinstance(m, str) for m in reply["moderators"])
    assert rooms.moderator_of_a.session_id in reply["moderators"]
    assert member.session_id not in reply["moderators"]
    assert rooms.moderator_of_a.session_id not in join(rooms.b).get("moderators")["moderators"]


def test_moderator_adds_and_removes_a_moderator(
    join: Callable[..., Member], rooms: TwoRooms
) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    helper = join(rooms.a)
    victim_message = join(rooms.a).post_message()

    reply = moderator.post("moderators", {"public_key": helper.session_id, "room_id": rooms.a})
    assert status(reply) == 200, reply
    assert helper.session_id in moderator.get("moderators")["moderators"]
    # The new moderator's existing token now carries moderator rights.
    assert status(helper.delete(f"messages/{victim_message['server_id']}")) == 200

    reply = moderator.delete(f"moderators/{helper.session_id}")
    assert status(reply) == 200, reply
    assert helper.session_id not in moderator.get("moderators")["moderators"]
    other_message = join(rooms.a).post_message()
    assert status(helper.delete(f"messages/{other_message['server_id']}")) == 403


def test_non_moderator_cannot_manage_moderators(
    join: Callable[..., Member], rooms: TwoRooms
) -> None:
    user = join(rooms.a)
    target = SessionKeys.generate().session_id
    assert status(user.post("moderators", {"public_key": target, "room_id": rooms.a})) == 403
    assert (
        status(user.post("moderators", {"public_key": user.session_id, "room_id": rooms.a})) == 403
    )
    assert status(user.delete(f"moderators/{rooms.moderator_of_a.session_id}")) == 403
    assert rooms.moderator_of_a.session_id in user.get("moderators")["moderators"]


def test_moderator_of_one_room_cannot_moderate_another(
    client: CheckedClient, join: Callable[..., Member], rooms: TwoRooms
) -> None:
    in_a = join(rooms.a, rooms.moderator_of_a)
    in_b = join(rooms.b, rooms.moderator_of_a)  # an ordinary user there
    poster = join(rooms.b)
    message = poster.post_message()
    target = SessionKeys.generate().session_id

    # POST moderators naming room B, authenticated in A or in B.
    for member in (in_a, in_b):
        reply = member.post("moderators", {"public_key": target, "room_id": rooms.b})
        assert status(reply) == 403, (member.room, reply)
    assert status(in_b.delete(f"moderators/{rooms.moderator_of_a.session_id}")) == 403
    assert target not in in_b.get("moderators")["moderators"]

    # Bans in B.
    assert status(in_b.post("block_list", {"public_key": poster.session_id})) == 403
    assert status(in_b.post("ban_and_delete_all", {"public_key": poster.session_id})) == 403
    assert status(in_b.delete(f"block_list/{poster.session_id}")) == 403
    assert poster.session_id not in in_b.get("block_list")["banned_members"]

    # Someone else's message in B.
    assert status(in_b.delete(f"messages/{message['server_id']}")) == 403
    assert status(in_b.post("delete_messages", {"ids": [message["server_id"]]})) == 403
    assert message["server_id"] in poster.message_ids()
    assert status(poster.get("messages")) == 200

    # B's image: a token of B without moderator rights is 403; a token of A is no token of B
    # (the endpoint needs no Room header: the token must belong to room :id), so 401.
    before = image_of(client, rooms.b)
    assert status(in_b.post(f"rooms/{rooms.b}/image", {"file": b64(b"not yours")})) == 403
    assert status(in_a.post(f"rooms/{rooms.b}/image", {"file": b64(b"not yours")})) in (401, 403)
    assert image_of(client, rooms.b) == before


def test_global_moderator_moderates_every_room(
    client: CheckedClient,
    join: Callable[..., Member],
    rooms: TwoRooms,
    global_moderator: SessionKeys,
) -> None:
    boss = join(rooms.b, global_moderator)
    poster = join(rooms.b)
    message = poster.post_message()
    helper = SessionKeys.generate().session_id

    assert global_moderator.session_id in boss.get("moderators")["moderators"]

    assert status(boss.post("moderators", {"public_key": helper, "room_id": rooms.b})) == 200
    assert helper in boss.get("moderators")["moderators"]
    assert status(boss.delete(f"moderators/{helper}")) == 200
    assert helper not in boss.get("moderators")["moderators"]

    assert status(boss.delete(f"messages/{message['server_id']}")) == 200
    assert message["server_id"] not in boss.message_ids()

    image = b"GIF89a" + os.urandom(64)
    assert status(boss.post(f"rooms/{rooms.b}/image", {"file": b64(image)})) == 200
    assert image_of(client, rooms.b)["result"] == b64(image)

    assert status(boss.post("block_list", {"public_key": poster.session_id})) == 200
    assert status(poster.get("messages")) == 403
    assert status(boss.delete(f"block_list/{poster.session_id}")) == 200
    assert status(poster.get("messages")) == 200


def test_moderator_of_a_can_add_moderator_of_a_from_a(
    join: Callable[..., Member], rooms: TwoRooms
) -> None:
    """The room_id in the body decides; here it is the moderator's own room."""
    moderator = join(rooms.a, rooms.moderator_of_a)
    target = SessionKeys.generate().session_id
    assert status(moderator.post("moderators", {"public_key": target, "room_id": rooms.a})) == 200
    assert target in moderator.get("moderators")["moderators"]
    assert status(moderator.delete(f"moderators/{target}")) == 200


def test_add_moderator_to_unknown_room_is_404(
    join: Callable[..., Member], global_moderator: SessionKeys
) -> None:
    boss = join("main", global_moderator)
    target = SessionKeys.generate().session_id
    reply = boss.post("moderators", {"public_key": target, "room_id": "nosuchroom"})
    assert status(reply) == 404


# ------------------------------------------------------------------------------ deleting


def test_moderator_deletes_others_messages(join: Callable[..., Member], rooms: TwoRooms) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    poster = join(rooms.a)
    first, second, third = (poster.post_message()["server_id"] for _ in range(3))
    assert status(moderator.delete(f"messages/{first}")) == 200
    assert status(moderator.post("delete_messages", {"ids": [second, third]})) == 200
    remaining = set(poster.message_ids())
    assert not remaining & {first, second, third}


def test_user_deletes_own_but_not_others_messages(
    join: Callable[..., Member], rooms: TwoRooms
) -> None:
    alice, bob = join(rooms.a), join(rooms.a)
    mine = alice.post_message()["server_id"]
    theirs = bob.post_message()["server_id"]

    assert status(alice.delete(f"messages/{theirs}")) == 403
    assert status(alice.post("delete_messages", {"ids": [theirs]})) == 403
    assert theirs in alice.message_ids()

    assert status(alice.delete(f"messages/{mine}")) == 200
    assert mine not in alice.message_ids()


def test_mixed_batch_deletes_nothing(join: Callable[..., Member], rooms: TwoRooms) -> None:
    alice, bob = join(rooms.a), join(rooms.a)
    mine = [alice.post_message()["server_id"] for _ in range(2)]
    theirs = bob.post_message()["server_id"]
    before = alice.deletions("limit=1")

    reply = alice.post("delete_messages", {"ids": [mine[0], theirs, mine[1]]})
    assert status(reply) == 403
    assert {*mine, theirs} <= set(alice.message_ids())
    assert alice.deletions("limit=1") == before


# ------------------------------------------------------------------------------ bans


def test_ban_and_unban_are_idempotent(join: Callable[..., Member], rooms: TwoRooms) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    user = join(rooms.a)

    for _ in range(2):
        reply = moderator.post("block_list", {"public_key": user.session_id})
        assert status(reply) == 200, reply
    banned = moderator.get("block_list")
    assert set(banned) == {"status_code", "banned_members"}
    assert banned["banned_members"].count(user.session_id) == 1
    assert status(user.get("messages")) == 403

    for _ in range(2):
        reply = moderator.delete(f"block_list/{user.session_id}")
        assert status(reply) == 200, reply
    assert user.session_id not in moderator.get("block_list")["banned_members"]
    assert status(user.get("messages")) == 200


def test_ban_accepts_uppercase_session_id(join: Callable[..., Member], rooms: TwoRooms) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    user = join(rooms.a)
    reply = moderator.post("block_list", {"public_key": user.session_id.upper()})
    assert status(reply) == 200, reply
    assert user.session_id in moderator.get("block_list")["banned_members"]
    assert status(user.get("messages")) == 403
    assert status(moderator.delete(f"block_list/{user.session_id.upper()}")) == 200
    assert status(user.get("messages")) == 200


def test_ban_rejects_bad_session_id(join: Callable[..., Member], rooms: TwoRooms) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    assert status(moderator.post("block_list", {"public_key": "05abc"})) == 400
    assert status(moderator.post("block_list", {})) == 400


def test_non_moderator_cannot_ban(join: Callable[..., Member], rooms: TwoRooms) -> None:
    user, other = join(rooms.a), join(rooms.a)
    assert status(user.post("block_list", {"public_key": other.session_id})) == 403
    assert status(user.post("ban_and_delete_all", {"public_key": other.session_id})) == 403
    assert status(user.delete(f"block_list/{other.session_id}")) == 403
    assert status(other.get("messages")) == 200


def test_ban_and_delete_all(join: Callable[..., Member], rooms: TwoRooms) -> None:
    moderator = join(rooms.a, rooms.moderator_of_a)
    spammer, bystander = join(rooms.a), join(rooms.a)
    spam = [spammer.post_message()["server_id"] for _ in range(3)]
    kept = bystander.post_message()["server_id"]
    cursor = moderator.deletions("limit=1")
    after = cursor[0]["id"] if cursor else 0

    reply = moderator.post("ban_and_delete_all", {"public_key": spammer.session_id})
    assert status(reply) == 200, reply

    visible = moderator.messages()
    assert all(m["public_key"] != spammer.session_id for m in visible)
    assert kept in [m["server_id"] for m in visible]
    deleted = sorted(
        d["deleted_message_id"] for d in moderator.deletions(f"from_server_id={after}")
    )
    assert deleted == spam
    assert spammer.session_id in moderator.get("block_list")["banned_members"]
    assert status(spammer.get("messages")) == 403
    assert status(spammer.try_post_message(b"again")) == 403
