"""Moderation by user through the modern API (SOGS-API.md 7.7, 7.2): bans (room, every
room, global, timed), unbans, moderator and admin grants with Desktop's bodies, delete-all;
all keyed by the root id, so 05 and 15 forms of a person are one."""

from __future__ import annotations

import json
import os
import time

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient
from tests.support.spec import spec_file

from .conftest import Member, Server, b64, sogs_post, status

VECTORS = json.loads(spec_file("modern-client-vectors.json").read_text())


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Moderated")


@pytest.fixture
def admin(server: Server, sogs: SogsClient, room: str) -> BlindedUser:
    user = BlindedUser.generate()
    server.cli("moderators", "add", user.session_id, room, "--admin")
    return user


def post_body(sogs: SogsClient, user: BlindedUser) -> dict[str, str]:
    data = os.urandom(12)
    return {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))}


def can_post(sogs: SogsClient, room: str, user: BlindedUser) -> int:
    return sogs.post(f"/room/{room}/message", post_body(sogs, user), user=user).code


def test_desktops_ban_and_delete_all_sequence(
    server: Server, sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    spammer = BlindedUser.generate()
    sogs_post(sogs, room, spammer)
    legacy = Member.join(server.client("onion"), room)
    blinded = spammer.blinded_id(sogs.server_pk)
    items = [
        {"method": "POST", "path": f"/user/{blinded}/ban", "json": {"rooms": [room]}},
        {"method": "DELETE", "path": f"/room/{room}/all/{blinded}"},
    ]
    reply = sogs.batch(items, user=admin, sequence=True)
    assert [item["code"] for item in reply.json] == [200, 200]
    assert [item["body"] for item in reply.json] == [{}, {}]
    assert can_post(sogs, room, spammer) == 403
    rows = sogs.get(f"/room/{room}/messages/since/0?t=r", user=admin).json
    assert rows == [] or all(row.get("deleted") for row in rows)
    assert legacy.messages() == []
    unban = sogs.batch(
        [{"method": "POST", "path": f"/user/{blinded}/unban", "json": {"rooms": [room]}}],
        user=admin,
    )
    assert unban.json[0]["code"] == 200
    assert can_post(sogs, room, spammer) == 201


def test_delete_all_takes_legacy_and_modern_posts_of_both_forms(
    server: Server, sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    person = BlindedUser.generate()
    # The same person posts through the legacy API with their 05 id and through the modern
    # API with their 15 id. (A 2021 client's X25519 key is the Ed25519 key's twin.)
    keys = SessionKeys.from_private_bytes(person.x25519_private)
    assert keys.session_id == person.session_id
    legacy = Member.join(server.client("onion"), room, keys)
    legacy_post = legacy.post_message()
    modern_post = sogs_post(sogs, room, person)
    bystander = sogs_post(sogs, room, BlindedUser.generate())
    reply = sogs.request("DELETE", f"/room/{room}/all/{person.session_id}", user=admin)
    assert (reply.code, reply.json) == (200, {})
    rows = sogs.get(f"/room/{room}/messages/since/0?t=r", user=admin).json
    assert [row["id"] for row in rows if not row.get("deleted")] == [bystander["id"]]
    deleted = {d["deleted_message_id"] for d in legacy.deletions()}
    assert deleted == {legacy_post["server_id"], modern_post["id"]}
    again = sogs.request("DELETE", f"/room/{room}/all/{person.session_id}", user=admin)
    assert (again.code, again.json) == (200, {})


def test_delete_all_permissions(sogs: SogsClient, room: str) -> None:
    user, other = BlindedUser.generate(), BlindedUser.generate()
    sogs_post(sogs, room, user)
    target = user.blinded_id(sogs.server_pk)
    assert sogs.request("DELETE", f"/room/{room}/all/{target}").code == 401
    assert sogs.request("DELETE", f"/room/{room}/all/{target}", user=other).code == 403
    assert sogs.request("DELETE", f"/room/{room}/all/{target}", user=user).code == 200
    assert sogs.request("DELETE", f"/room/nosuch/all/{target}", user=user).code == 404


def test_a_timed_ban_is_lifted_by_the_job(
    server: Server, sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    user = BlindedUser.generate()
    body = {"rooms": [room], "timeout": 1}
    reply = sogs.post(f"/user/{user.blinded_id(sogs.server_pk)}/ban", body, user=admin)
    assert reply.code == 200
    assert can_post(sogs, room, user) == 403
    deadline = time.time() + 30
    while can_post(sogs, room, user) == 403:
        assert time.time() < deadline, "the timed ban was not lifted"
        time.sleep(1)


def test_ban_rules(server: Server, sogs: SogsClient, room: str, admin: BlindedUser) -> None:
    mod, user = BlindedUser.generate(), BlindedUser.generate()
    server.add_moderator(mod.session_id, room)
    to = f"/user/{user.session_id}/ban"
    assert sogs.post(to, {"rooms": [room]}, user=user).code == 403  # not a moderator
    assert sogs.post(f"/user/{mod.session_id}/ban", {"rooms": [room]}, user=admin).code == 403
    assert sogs.post(f"/user/{admin.session_id}/ban", {"rooms": [room]}, user=admin).code == 403
    assert sogs.post(to, {"rooms": ["nosuchroom"]}, user=admin).code == 404
    assert sogs.post(to, {"global": True}, user=admin).code == 403  # not a global moderator
    for bad in ({}, {"rooms": []}, {"rooms": [room], "global": True}, {"rooms": room},
                {"rooms": [room], "timeout": "soon"}, {"global": "yes"}):  # fmt: skip
        assert sogs.post(to, bad, user=admin).code == 400, bad
    assert sogs.post("/user/05abc/ban", {"rooms": [room]}, user=admin).code == 404
    # Banned as a 05 id by a moderator who signs with 15: the 15 form of the user is banned.
    assert sogs.post(to, {"rooms": ["*"]}, user=mod).code == 200
    assert can_post(sogs, room, user) == 403
    assert sogs.get(f"/room/{room}", user=user).code == 404


def test_global_ban_answers_banned_before_the_signature(server: Server, sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    legacy = Member.join(server.client("onion"), "main")
    server.cli("bans", "add", user.session_id, "--global")
    server.cli("bans", "add", legacy.session_id, "--global")
    reply = sogs.get("/capabilities", user=user)
    assert (reply.code, reply.text) == (403, "Banned")
    bad = user.sogs_headers(sogs.server_pk, "GET", "/elsewhere")
    assert sogs.request("GET", "/capabilities", headers=bad).code == 403
    assert status(legacy.get("messages")) == 403
    server.cli("bans", "remove", user.session_id, "--global")
    assert sogs.get("/capabilities", user=user).code == 200


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"admin": True, "moderator": True}, (True, True)),
        ({"admin": True}, (True, True)),
        ({"moderator": True}, (True, True)),  # an admin stays admin
        ({"admin": False, "moderator": True}, (True, False)),
        ({"admin": False, "moderator": False}, (False, False)),
        ({"moderator": False}, (False, False)),
    ],
)
def test_moderator_grants(
    sogs: SogsClient,
    room: str,
    admin: BlindedUser,
    body: dict[str, bool],
    expected: tuple[bool, bool],
) -> None:
    user = BlindedUser.generate()
    target = user.blinded_id(sogs.server_pk)
    first = sogs.post(f"/user/{target}/moderator", {"rooms": [room], "admin": True}, user=admin)
    assert first.code == 200 and room in first.json["info_updates"]
    reply = sogs.post(f"/user/{target}/moderator", {"rooms": [room], **body}, user=admin)
    assert reply.code == 200
    info = sogs.get(f"/room/{room}", user=user).json
    assert (info.get("moderator", False), info.get("admin", False)) == expected


def test_desktops_add_and_remove_moderator_bodies(
    sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    user = BlindedUser.generate()
    target = user.blinded_id(sogs.server_pk)
    before = sogs.get(f"/room/{room}", user=admin).json["info_updates"]
    add = {"rooms": [room], "global": False, "visible": True, "admin": True, "moderator": True}
    reply = sogs.batch(
        [{"method": "POST", "path": f"/user/{target}/moderator", "json": add}], user=admin
    )
    assert reply.json[0]["code"] == 200
    assert reply.json[0]["body"]["info_updates"][room] > before
    info = sogs.get(f"/room/{room}", user=admin).json
    assert target in info["admins"]
    remove = dict(add, admin=False, moderator=False)
    reply = sogs.batch(
        [{"method": "POST", "path": f"/user/{target}/moderator", "json": remove}], user=admin
    )
    assert reply.json[0]["code"] == 200
    info = sogs.get(f"/room/{room}", user=admin).json
    assert target not in info["admins"] + info["moderators"]
    # Removed: every power gone at once.
    assert sogs.request("DELETE", f"/room/{room}/reactions/1", user=user).code == 403


def test_hidden_moderators_are_listed_only_to_moderators(
    sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    hidden = BlindedUser.generate()
    target = hidden.blinded_id(sogs.server_pk)
    body = {"rooms": [room], "moderator": True, "visible": False}
    assert sogs.post(f"/user/{target}/moderator", body, user=admin).code == 200
    public = sogs.get(f"/room/{room}", user=BlindedUser.generate()).json
    assert target not in public["moderators"] and "hidden_moderators" not in public
    seen_by_mod = sogs.get(f"/room/{room}", user=admin).json
    assert target in seen_by_mod["hidden_moderators"]
    assert sogs.get(f"/room/{room}", user=hidden).json["moderator"] is True


def test_a_moderator_of_room_a_cannot_act_in_room_b(
    server: Server, sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    other_room = server.new_room("Other")
    user = BlindedUser.generate()
    reply = sogs.post(f"/user/{user.session_id}/ban", {"rooms": [other_room]}, user=admin)
    assert reply.code == 403
    message = sogs_post(sogs, other_room, user)
    assert (
        sogs.request("DELETE", f"/room/{other_room}/message/{message['id']}", user=admin).code
        == 403
    )


def upload_image(sogs: SogsClient, room: str, user: BlindedUser) -> int:
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + bytes(20)
    reply = sogs.request("POST", f"/room/{room}/file", raw=png, user=user)
    assert reply.code == 201, reply.text
    return int(reply.json["id"])


def test_desktop_mod_action_bodies_answer_200(
    sogs: SogsClient, room: str, admin: BlindedUser
) -> None:
    """Desktop's recorded mod-action bodies, re-signed, with our room and ids."""
    user = BlindedUser.generate()
    message = sogs_post(sogs, room, user)
    sogs.request("PUT", f"/room/{room}/reaction/{message['id']}/🎉", user=user)
    target = user.blinded_id(sogs.server_pk)
    for action in VECTORS["batch"]["mod_actions"]:
        items = json.loads(action["body"])
        for item in items:
            segments = item["path"].split("/")
            if segments[1] == "room":
                segments[2] = room
            if segments[1] == "user":
                segments[2] = target
            if (
                segments[1] == "room"
                and len(segments) > 4
                and segments[3] in ("reactions", "message")
            ):
                segments[4] = str(message["id"])
            if segments[1] == "room" and len(segments) > 4 and segments[3] == "all":
                segments[4] = target
            item["path"] = "/".join(segments)
            if isinstance(item.get("json"), dict) and "rooms" in item["json"]:
                item["json"]["rooms"] = [room]
            if isinstance(item.get("json"), dict) and "image" in item["json"]:
                item["json"]["image"] = upload_image(sogs, room, admin)
        sequence = action["endpoint"] == "/sequence"
        reply = sogs.batch(items, user=admin, sequence=sequence)
        assert reply.code == 200, action["about"]
        assert reply.json[0]["code"] == 200, (action["about"], items, reply.json)


@pytest.mark.parametrize("action", ["ban", "unban", "moderator"])
def test_a_05_id_with_bit_255_set_is_refused(
    sogs: SogsClient, room: str, admin: BlindedUser, action: str
) -> None:
    """Issue 16, item 7: `05<key with bit 255 set>` is the same private key as the id with it
    clear; the modern API refuses it wherever an id is named, as the legacy API and CLI do."""
    non_canonical = "05" + "11" * 31 + "80"
    body: dict[str, object] = {"rooms": [room]}
    if action == "moderator":
        body["moderator"] = True
    reply = sogs.post(f"/user/{non_canonical}/{action}", body, user=admin)
    assert reply.code == 400, reply
