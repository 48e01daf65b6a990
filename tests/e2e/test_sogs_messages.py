"""Modern messages (SOGS-API.md 6, 7.3) on the data model both APIs share: the seqno
arithmetic of since/recent/before, posts, edits and deletes, permissions, and the same
messages seen through the legacy API."""

from __future__ import annotations

import os
from typing import Any

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import Member, Server, b64, sogs_post, status, unb64


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Modern room")


def since(
    client: SogsClient, room: str, user: BlindedUser, seqno: int, query: str = "t=r&reactors=5"
) -> list[dict[str, Any]]:
    reply = client.get(f"/room/{room}/messages/since/{seqno}?{query}", user=user)
    assert reply.code == 200, reply.text
    return list(reply.json)


def test_post_answers_201_with_the_full_row(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    data = os.urandom(70)
    row = sogs_post(sogs, room, user, data)
    assert set(row) >= {"id", "seqno", "session_id", "posted", "data", "signature", "reactions"}
    assert row["session_id"] == user.blinded_id(sogs.server_pk)
    assert unb64(row["data"]) == data and row["reactions"] == {}
    assert isinstance(row["posted"], float) and isinstance(row["id"], int) and row["id"] > 0


def test_seqno_arithmetic_of_post_edit_delete(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    first = sogs_post(sogs, room, user)
    second = sogs_post(sogs, room, user)
    assert second["seqno"] == first["seqno"] + 1 and second["id"] > first["id"]
    cursor = second["seqno"]
    assert since(sogs, room, user, cursor) == []
    new_data = os.urandom(30)
    edited = sogs.request(
        "PUT", f"/room/{room}/message/{first['id']}",
        {"data": b64(new_data), "signature": b64(user.sign_post(new_data, sogs.server_pk))},
        user=user,
    )  # fmt: skip
    assert (edited.code, edited.json) == (200, {})
    rows = since(sogs, room, user, cursor)
    assert [(r["id"], r["seqno"]) for r in rows] == [(first["id"], cursor + 1)]
    assert unb64(rows[0]["data"]) == new_data and "edited" in rows[0]
    deleted = sogs.request("DELETE", f"/room/{room}/message/{second['id']}", user=user)
    assert (deleted.code, deleted.json) == (200, {})
    rows = since(sogs, room, user, cursor + 1)
    assert len(rows) == 1 and rows[0]["deleted"] is True and rows[0]["data"] is None
    assert rows[0]["seqno"] == cursor + 2 and rows[0]["id"] == second["id"]
    # A client that never had the deleted message gets no tombstone for it.
    assert [r["id"] for r in since(sogs, room, user, first["seqno"])] == [first["id"]]
    recent = sogs.get(f"/room/{room}/messages/recent", user=user).json
    assert [r["id"] for r in recent] == [first["id"]]


def test_recent_and_before_are_newest_first_and_limited(sogs: SogsClient, room: str) -> None:
    users = [BlindedUser.generate() for _ in range(2)]
    ids = [sogs_post(sogs, room, users[i % 2])["id"] for i in range(6)]
    reader = BlindedUser.generate()
    recent = sogs.get(f"/room/{room}/messages/recent?limit=4", user=reader).json
    assert [r["id"] for r in recent] == ids[::-1][:4]
    before = sogs.get(f"/room/{room}/messages/before/{ids[3]}?limit=2", user=reader).json
    assert [r["id"] for r in before] == [ids[2], ids[1]]
    one = sogs.get(f"/room/{room}/message/{ids[0]}", user=reader)
    assert one.code == 200 and one.json["id"] == ids[0]
    assert sogs.get(f"/room/{room}/message/999999", user=reader).code == 404
    assert sogs.get(f"/room/{room}/messages/recent?limit=abc", user=reader).code == 400
    # since with a limit: exactly `limit` rows means "poll again from the highest seqno"
    page = since(sogs, room, reader, 0, "limit=4")
    assert len(page) == 4
    rest = since(sogs, room, reader, page[-1]["seqno"], "limit=4")
    assert [r["id"] for r in page + rest] == ids


def test_anonymous_readers_can_read_but_not_post(sogs: SogsClient, room: str) -> None:
    poster = BlindedUser.generate()
    sogs_post(sogs, room, poster)
    assert sogs.get(f"/room/{room}/messages/recent").code == 200
    data = os.urandom(10)
    body = {"data": b64(data), "signature": b64(poster.sign_post(data, sogs.server_pk))}
    reply = sogs.post(f"/room/{room}/message", body)
    assert (reply.code, reply.text) == (401, "X-SOGS-* request authentication required")


def test_bad_posts_are_400_and_store_nothing(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    data = os.urandom(20)
    good_signature = b64(user.sign_post(data, sogs.server_pk))
    bad_bodies: list[object] = [
        {},
        {"signature": good_signature},
        {"data": "not base64!", "signature": good_signature},
        {"data": b64(data), "signature": b64(os.urandom(63))},
        {"data": b64(data), "signature": b64(os.urandom(64))},  # does not verify
        {"data": b64(data), "signature": good_signature, "files": ["x"]},
        {"data": b64(data), "signature": good_signature, "files": 5},
        {"data": 5, "signature": good_signature},
        [1, 2],
    ]
    for body in bad_bodies:
        reply = sogs.post(f"/room/{room}/message", body, user=user)
        assert reply.code == 400 and reply.content_type == "text/plain; charset=utf-8", body
    raw = sogs.request("POST", f"/room/{room}/message", raw=b"{not json", user=user)
    assert raw.code == 400
    assert sogs.get(f"/room/{room}/messages/recent", user=user).json == []
    files_as_strings = {"data": b64(data), "signature": good_signature, "files": ["12", 13]}
    assert sogs.post(f"/room/{room}/message", files_as_strings, user=user).code == 201


def test_unknown_room_and_bad_ids(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    assert sogs.get("/room/nosuchroom/messages/recent", user=user).code == 404
    assert sogs.get("/room/main/messages/since/abc", user=user).code == 404
    assert sogs.get("/room/main/message/-1", user=user).code == 404
    assert sogs.get("/room/MAIN", user=user).code == 404  # tokens match exactly as stored


def test_only_the_author_edits_and_author_or_moderator_deletes(
    server: Server, sogs: SogsClient, room: str
) -> None:
    author, other, moderator = (BlindedUser.generate() for _ in range(3))
    message = sogs_post(sogs, room, author)
    data = os.urandom(10)
    edit = {"data": b64(data), "signature": b64(other.sign_post(data, sogs.server_pk))}
    reply = sogs.request("PUT", f"/room/{room}/message/{message['id']}", edit, user=other)
    assert reply.code == 403
    assert sogs.request("DELETE", f"/room/{room}/message/{message['id']}", user=other).code == 403
    # Granted by the operator as a 05 id, acting with its 15 key (keyed by root, §4.4).
    server.add_moderator(moderator.session_id, room)
    reply = sogs.request("DELETE", f"/room/{room}/message/{message['id']}", user=moderator)
    assert reply.code == 200
    assert sogs.request("DELETE", f"/room/{room}/message/{message['id']}", user=author).code == 404
    info = sogs.get(f"/room/{room}", user=moderator).json
    # Listed by the 15 id once the person has used it here, never by a computed root (§4.4).
    assert info["moderator"] is True
    assert info["moderators"] == [moderator.blinded_id(sogs.server_pk)]
    assert "default_write" in info


def test_a_ban_given_as_05_catches_the_15_id(server: Server, sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    sogs_post(sogs, room, user)
    server.ban(user.session_id, room)
    data = os.urandom(10)
    body = {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))}
    assert sogs.post(f"/room/{room}/message", body, user=user).code == 403
    assert sogs.get(f"/room/{room}", user=user).code == 404
    poll = sogs.get(f"/room/{room}/pollInfo/0", user=user)
    assert (poll.code, poll.text) == (403, "This endpoint requires room message 'read' permission")
    server.unban(user.session_id, room)
    assert sogs.post(f"/room/{room}/message", body, user=user).code == 201


def test_rate_limit_counts_posts_per_person(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    for _ in range(5):
        sogs_post(sogs, room, user)
    data = os.urandom(10)
    body = {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk))}
    assert sogs.post(f"/room/{room}/message", body, user=user).code == 429


def test_a_legacy_post_is_seen_by_a_modern_poll_and_back(
    server: Server, sogs: SogsClient, room: str
) -> None:
    legacy = Member.join(server.client("onion"), room)
    legacy_message = legacy.post_message(os.urandom(33))
    reader = BlindedUser.generate()
    rows = since(sogs, room, reader, 0)
    assert [(r["id"], r["session_id"]) for r in rows] == [
        (legacy_message["server_id"], legacy.session_id)
    ]
    assert rows[0]["posted"] == pytest.approx(legacy_message["timestamp"] / 1000, abs=0.001)
    modern = sogs_post(sogs, room, reader)
    seen = {m["server_id"]: m for m in legacy.messages()}
    assert seen[modern["id"]]["public_key"] == reader.blinded_id(sogs.server_pk)
    assert seen[modern["id"]]["data"] == modern["data"]
    # A modern deletion is a legacy deletion, its id the seqno it took (§1.2), and back.
    sogs.request("DELETE", f"/room/{room}/message/{modern['id']}", user=reader)
    deletions = legacy.deletions()
    assert [d["deleted_message_id"] for d in deletions] == [modern["id"]]
    legacy.delete(f"messages/{legacy_message['server_id']}")
    rows = since(sogs, room, reader, modern["seqno"])
    assert [r["id"] for r in rows if r.get("deleted")] == [
        modern["id"],
        legacy_message["server_id"],
    ]
    assert max(d["id"] for d in legacy.deletions()) == max(r["seqno"] for r in rows)


def test_legacy_compact_poll_sees_modern_posts(server: Server, sogs: SogsClient, room: str) -> None:
    legacy = Member.join(server.client("onion"), room)
    poster = BlindedUser.generate()
    posted = sogs_post(sogs, room, poster)
    reply = legacy.client.compact_poll([{"room_id": room, "auth_token": legacy.token}])
    assert status(reply) == 200
    messages = reply["results"][0]["messages"]
    assert [m["server_id"] for m in messages] == [posted["id"]]


def test_05_posts_verify_as_xeddsa_when_unblinded_keys_are_allowed(server: Server) -> None:
    """With blinding off, a 00 key signs for its 05 id, and posts are checked as XEdDSA."""
    del server
    keys = SessionKeys.generate()
    assert keys.session_id.startswith("05")
