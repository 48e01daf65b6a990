"""POST messages, GET messages, POST delete_messages, DELETE messages/:id, GET deleted_messages."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from opengroup.crypto import SessionKeys, sign_session_message

from .conftest import (
    TRANSPORTS,
    CheckedClient,
    Member,
    Server,
    b64,
    is_int,
    signed_body,
    status,
    unb64,
)

MESSAGE_KEYS = {"server_id", "public_key", "timestamp", "data", "signature"}
DELETION_KEYS = {"id", "deleted_message_id"}
PAGE = 256


def check_message(message: dict[str, object]) -> None:
    assert set(message) == MESSAGE_KEYS, message
    assert is_int(message["server_id"]) and 0 < message["server_id"] < 2**31  # type: ignore[operator]
    assert is_int(message["timestamp"]) and message["timestamp"] >= 2**31  # type: ignore[operator]
    assert isinstance(message["public_key"], str) and len(message["public_key"]) == 66
    assert len(unb64(message["signature"])) == 64  # type: ignore[arg-type]
    unb64(message["data"])  # type: ignore[arg-type]


def check_deletion(deletion: dict[str, object]) -> None:
    assert set(deletion) == DELETION_KEYS, deletion
    assert is_int(deletion["id"]) and is_int(deletion["deleted_message_id"])


def deletion_cursor(member: Member) -> int:
    """The newest deletion id in the member's room (0 if none)."""
    newest = member.deletions("limit=1")
    return int(newest[0]["id"]) if newest else 0


# ------------------------------------------------------------------------------ posting


def test_post_message_reply_shape(join: Callable[..., Member]) -> None:
    member = join()
    data = os.urandom(120)
    signature = sign_session_message(member.keys.private, data)
    before = int(time.time() * 1000)
    reply = member.post(
        "messages",
        {
            "data": b64(data),
            "signature": b64(signature),
            "timestamp": 1234567890,  # the client's clock: the server must replace it
            "public_key": member.session_id,
        },
    )
    after = int(time.time() * 1000)
    assert status(reply) == 200, reply
    assert set(reply) == {"status_code", "message"}
    message = reply["message"]
    check_message(message)
    assert message["public_key"] == member.session_id
    assert message["data"] == b64(data)
    assert message["signature"] == b64(signature)
    assert before - 1000 <= message["timestamp"] <= after + 1000


def test_server_ids_increase(join: Callable[..., Member]) -> None:
    member = join()
    ids = [member.post_message()["server_id"] for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3


def test_public_key_comes_from_the_token(join: Callable[..., Member]) -> None:
    member = join()
    impostor = SessionKeys.generate().session_id
    reply = member.post("messages", signed_body(member.keys, b"who am i", public_key=impostor))
    assert status(reply) == 200, reply
    assert reply["message"]["public_key"] == member.session_id


def test_naming_the_signer_does_not_make_someone_elses_signature_valid(
    join: Callable[..., Member],
) -> None:
    """The server checks a post's signature against the sender the body names before its
    write transaction; the token's owner still decides who posts and whose signature counts."""
    member, alice = join(), SessionKeys.generate()
    data = b"signed by alice, posted with someone else's token"
    reply = member.post("messages", signed_body(alice, data, public_key=alice.session_id))
    assert status(reply) == 400, reply
    assert all(unb64(m["data"]) != data for m in member.messages())


def test_the_named_sender_may_be_upper_case(join: Callable[..., Member]) -> None:
    member = join()
    named = "05" + member.session_id[2:].upper()
    reply = member.post("messages", signed_body(member.keys, b"shouting", public_key=named))
    assert status(reply) == 200, reply
    assert reply["message"]["public_key"] == member.session_id


def test_post_without_public_key_or_timestamp(join: Callable[..., Member]) -> None:
    """iOS omits public_key; timestamp is optional."""
    member = join()
    reply = member.post("messages", signed_body(member.keys, b"from iOS"))
    assert status(reply) == 200, reply
    check_message(reply["message"])
    assert reply["message"]["public_key"] == member.session_id


@pytest.mark.parametrize(
    "data",
    [bytes(range(256)), b"\x00" * 10, "naïve 🎉 ünïcode".encode(), os.urandom(5000)],
    ids=["all-bytes", "zeros", "utf8", "random-5000"],
)
def test_data_comes_back_byte_identical(
    client: CheckedClient, join: Callable[..., Member], data: bytes
) -> None:
    member = join()
    posted = member.post_message(data)
    assert unb64(posted["data"]) == data

    fetched = member.messages(f"from_server_id={posted['server_id'] - 1}")
    assert fetched[0]["server_id"] == posted["server_id"]
    assert unb64(fetched[0]["data"]) == data
    assert fetched[0]["signature"] == posted["signature"]

    polled = client.compact_poll(
        [
            {
                "room_id": "main",
                "auth_token": member.token,
                "from_message_server_id": posted["server_id"] - 1,
            }
        ]
    )["results"][0]
    assert polled["messages"][0]["server_id"] == posted["server_id"]
    assert unb64(polled["messages"][0]["data"]) == data


def test_invalid_signature_is_rejected_and_not_stored(join: Callable[..., Member]) -> None:
    member = join()
    data = b"tampered"
    wrong = sign_session_message(member.keys.private, b"something else")
    for signature in (wrong, os.urandom(64), bytes(64)):
        reply = member.post("messages", {"data": b64(data), "signature": b64(signature)})
        assert status(reply) == 400, reply
        assert "message" not in reply
    other = sign_session_message(SessionKeys.generate().private, data)
    assert status(member.post("messages", {"data": b64(data), "signature": b64(other)})) == 400
    assert all(m["public_key"] != member.session_id for m in member.messages())


def test_signature_of_wrong_length_is_400(join: Callable[..., Member]) -> None:
    member = join()
    data = b"short sig"
    signature = sign_session_message(member.keys.private, data)
    reply = member.post("messages", {"data": b64(data), "signature": b64(signature[:63])})
    assert status(reply) == 400


def test_invalid_signature_accepted_without_verification(
    lenient_server: Server, transport: str
) -> None:
    with lenient_server.client(transport) as og:
        member = Member.join(og)
        data = b"unsigned " + os.urandom(8)
        reply = member.post("messages", {"data": b64(data), "signature": b64(bytes(64))})
        assert status(reply) == 200, reply
        assert unb64(member.messages()[0]["data"]) == data


# ------------------------------------------------------------------------------ reading


def test_messages_without_cursor_are_newest_first(join: Callable[..., Member]) -> None:
    member = join()
    posted = [member.post_message()["server_id"] for _ in range(3)]
    messages = member.messages()
    for message in messages:
        check_message(message)
    ids = [m["server_id"] for m in messages]
    assert ids == sorted(ids, reverse=True)
    assert ids[:3] == posted[::-1]


def test_messages_from_cursor_are_ascending(join: Callable[..., Member]) -> None:
    member = join()
    posted = [member.post_message()["server_id"] for _ in range(3)]
    assert member.message_ids(f"from_server_id={posted[0] - 1}") == posted
    assert member.message_ids(f"from_server_id={posted[0]}") == posted[1:]
    assert member.message_ids(f"from_server_id={posted[-1]}") == []
    assert member.message_ids(f"from_server_id={posted[0] - 1}&limit=2") == posted[:2]


def test_paging_in_a_room_of_260_messages(lenient_server: Server) -> None:
    """limit defaults to 256 and is capped at 256, for GET messages and compact_poll.

    On the lenient server (no practical rate limit) so that one user can post 260 messages;
    paging does not depend on that setting. One test for both transports: the room is built once.
    """
    room = lenient_server.new_room("Busy Room")
    with lenient_server.client("legacy") as og:
        poster = Member.join(og, room)
        ids = [poster.post_message(b"m%d" % n)["server_id"] for n in range(260)]
    newest_first = sorted(ids, reverse=True)
    oldest_first = sorted(ids)

    for transport in TRANSPORTS:
        with lenient_server.client(transport) as og:
            member = Member.join(og, room)
            assert member.message_ids() == newest_first[:PAGE], transport
            assert member.message_ids("limit=1000") == newest_first[:PAGE], transport
            assert member.message_ids("limit=10") == newest_first[:10], transport
            assert member.message_ids("from_server_id=0") == oldest_first[:PAGE], transport
            assert member.message_ids("from_server_id=0&limit=999") == oldest_first[:PAGE]
            assert member.message_ids(f"from_server_id={oldest_first[-5]}") == oldest_first[-4:]

            # A client back after two weeks polls without cursors: the latest 256.
            result = og.compact_poll([{"room_id": room, "auth_token": member.token}])
            polled = [m["server_id"] for m in result["results"][0]["messages"]]
            assert sorted(polled) == oldest_first[-PAGE:], transport
            result = og.compact_poll(
                [{"room_id": room, "auth_token": member.token, "from_message_server_id": 0}]
            )
            polled = [m["server_id"] for m in result["results"][0]["messages"]]
            assert polled == oldest_first[:PAGE], transport


def test_bad_cursor_or_limit_is_400(join: Callable[..., Member]) -> None:
    member = join()
    for query in ("from_server_id=abc", "from_server_id=-1", "limit=abc", "limit=0"):
        assert status(member.get(f"messages?{query}")) == 400, query


# ------------------------------------------------------------------------------ deleting


def test_delete_own_message_by_id(client: CheckedClient, join: Callable[..., Member]) -> None:
    member = join()
    cursor = deletion_cursor(member)
    keep, gone = member.post_message(), member.post_message()

    reply = member.delete(f"messages/{gone['server_id']}")
    assert status(reply) == 200, reply

    remaining = member.message_ids(f"from_server_id={keep['server_id'] - 1}")
    assert remaining == [keep["server_id"]]
    assert gone["server_id"] not in member.message_ids()

    deletions = member.deletions(f"from_server_id={cursor}")
    for deletion in deletions:
        check_deletion(deletion)
    assert [d["deleted_message_id"] for d in deletions] == [gone["server_id"]]
    assert deletions[0]["id"] > cursor

    polled = client.compact_poll(
        [
            {
                "room_id": "main",
                "auth_token": member.token,
                "from_message_server_id": keep["server_id"] - 1,
                "from_deletion_server_id": cursor,
            }
        ]
    )["results"][0]
    assert [m["server_id"] for m in polled["messages"]] == [keep["server_id"]]
    assert polled["deletions"] == deletions


def test_delete_own_messages_in_a_batch(join: Callable[..., Member]) -> None:
    member = join()
    cursor = deletion_cursor(member)
    posted = [member.post_message()["server_id"] for _ in range(3)]
    reply = member.post("delete_messages", {"ids": posted[:2]})
    assert status(reply) == 200, reply
    assert member.message_ids(f"from_server_id={posted[0] - 1}") == [posted[2]]
    deleted = sorted(d["deleted_message_id"] for d in member.deletions(f"from_server_id={cursor}"))
    assert deleted == posted[:2]


def test_deleting_twice_is_a_no_op(join: Callable[..., Member]) -> None:
    member = join()
    cursor = deletion_cursor(member)
    message = member.post_message()
    assert status(member.delete(f"messages/{message['server_id']}")) == 200
    assert status(member.delete(f"messages/{message['server_id']}")) == 200
    assert status(member.post("delete_messages", {"ids": [message["server_id"]]})) == 200
    deleted = [d["deleted_message_id"] for d in member.deletions(f"from_server_id={cursor}")]
    assert deleted == [message["server_id"]]


def test_deletions_without_cursor_are_newest_first(join: Callable[..., Member]) -> None:
    member = join()
    posted = [member.post_message()["server_id"] for _ in range(3)]
    for server_id in posted:
        assert status(member.delete(f"messages/{server_id}")) == 200
    newest = member.deletions()
    ids = [d["id"] for d in newest]
    assert ids == sorted(ids, reverse=True)
    assert [d["deleted_message_id"] for d in newest[:3]] == posted[::-1]
    assert len(member.deletions("limit=2")) == 2


def test_delete_unknown_message_is_404(join: Callable[..., Member]) -> None:
    member = join()
    assert status(member.delete(f"messages/{2**31 - 1}")) == 404
    assert status(member.post("delete_messages", {"ids": [2**31 - 1]})) == 404


def test_batch_with_an_unknown_id_deletes_nothing(join: Callable[..., Member]) -> None:
    member = join()
    message = member.post_message()
    reply = member.post("delete_messages", {"ids": [message["server_id"], 2**31 - 1]})
    assert status(reply) == 404
    assert message["server_id"] in member.message_ids()


def test_delete_messages_rejects_bad_bodies(join: Callable[..., Member]) -> None:
    member = join()
    for body in ({}, {"ids": "1"}, {"ids": ["1"]}, {"ids": [1.5]}):
        assert status(member.post("delete_messages", body)) == 400, body
    assert status(member.delete("messages/abc")) == 400
