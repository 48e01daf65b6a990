"""POST compact_poll: one request for every room a client follows."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest

from opengroup.crypto import SessionKeys

from .conftest import CheckedClient, Member, Server, is_int, status

RESULT_KEYS = {"room_id", "status_code", "messages", "deletions", "moderators"}


@pytest.fixture(scope="module")
def poll_room(server: Server) -> tuple[str, SessionKeys]:
    """A room with a moderator."""
    room = server.new_room("Poll Room")
    moderator = SessionKeys.generate()
    server.add_moderator(moderator.session_id, room)
    return room, moderator


def check_result(result: dict[str, Any], room_id: str, expected_status: int) -> None:
    """Every result is the full object, even on error (Android fails the whole poll without)."""
    assert set(result) >= RESULT_KEYS, result
    assert result["room_id"] == room_id
    assert is_int(result["status_code"]) and result["status_code"] == expected_status, result
    for key in ("messages", "deletions", "moderators"):
        assert isinstance(result[key], list), (key, result)
    if expected_status != 200:
        assert result["messages"] == result["deletions"] == result["moderators"] == []


def poll(client: CheckedClient, *requests: dict[str, Any]) -> list[dict[str, Any]]:
    reply = client.compact_poll(list(requests))
    assert status(reply) == 200, reply
    assert set(reply) == {"status_code", "results"}
    assert len(reply["results"]) == len(requests)
    return list(reply["results"])


def test_poll_returns_messages_deletions_and_moderators(
    client: CheckedClient, join: Callable[..., Member], poll_room: tuple[str, SessionKeys]
) -> None:
    room, moderator = poll_room
    member = join(room)
    before = member.deletions("limit=1")
    deletion_cursor = before[0]["id"] if before else 0
    first, second, third = (member.post_message() for _ in range(3))
    assert status(member.delete(f"messages/{second['server_id']}")) == 200

    (result,) = poll(
        client,
        {
            "room_id": room,
            "auth_token": member.token,
            "from_message_server_id": first["server_id"] - 1,
            "from_deletion_server_id": deletion_cursor,
        },
    )
    check_result(result, room, 200)
    assert result["messages"] == [first, third]
    assert [d["deleted_message_id"] for d in result["deletions"]] == [second["server_id"]]
    assert set(result["deletions"][0]) == {"id", "deleted_message_id"}
    assert moderator.session_id in result["moderators"]

    (later,) = poll(
        client,
        {
            "room_id": room,
            "auth_token": member.token,
            "from_message_server_id": third["server_id"],
            "from_deletion_server_id": result["deletions"][-1]["id"],
        },
    )
    check_result(later, room, 200)
    assert later["messages"] == [] and later["deletions"] == []


@pytest.mark.parametrize("style", ["missing", "null"])
def test_poll_without_cursors(
    client: CheckedClient, join: Callable[..., Member], style: str
) -> None:
    """Desktop and iOS omit missing cursors; Android sends them as null."""
    member = join()
    posted = member.post_message()
    entry: dict[str, Any] = {"room_id": "main", "auth_token": member.token}
    if style == "null":
        entry |= {"from_message_server_id": None, "from_deletion_server_id": None}
    (result,) = poll(client, entry)
    check_result(result, "main", 200)
    ids = [m["server_id"] for m in result["messages"]]
    assert posted["server_id"] in ids
    assert ids[0] == max(ids) == posted["server_id"]


def test_poll_mixing_good_and_bad_rooms(
    server: Server, client: CheckedClient, join: Callable[..., Member]
) -> None:
    good = join("main")
    posted = good.post_message()
    banned = join("main")
    server.ban(banned.session_id, "main")

    results = poll(
        client,
        {
            "room_id": "main",
            "auth_token": good.token,
            "from_message_server_id": posted["server_id"] - 1,
        },
        {"room_id": "nosuchroom", "auth_token": good.token},
        {"room_id": "main", "auth_token": os.urandom(48).hex()},
        {"room_id": "main", "auth_token": ""},
        {"room_id": "main", "auth_token": banned.token, "from_message_server_id": None},
        {"room_id": "main"},
    )
    check_result(results[0], "main", 200)
    assert [m["server_id"] for m in results[0]["messages"]] == [posted["server_id"]]
    check_result(results[1], "nosuchroom", 404)
    check_result(results[2], "main", 401)
    check_result(results[3], "main", 401)
    check_result(results[4], "main", 403)
    check_result(results[5], "main", 401)


def test_poll_sent_without_headers(client: CheckedClient, join: Callable[..., Member]) -> None:
    member = join()
    posted = member.post_message()
    entry = {
        "room_id": "main",
        "auth_token": member.token,
        "from_message_server_id": posted["server_id"] - 1,
    }
    for headers in ({}, {"Room": "nonexistent"}, None):
        reply = client.request("POST", "compact_poll", body={"requests": [entry]}, headers=headers)
        assert status(reply) == 200, (headers, reply)
        check_result(reply["results"][0], "main", 200)
        assert reply["results"][0]["messages"] == [posted]


def test_poll_many_rooms_with_one_token_each(
    client: CheckedClient, join: Callable[..., Member], poll_room: tuple[str, SessionKeys]
) -> None:
    room, _ = poll_room
    keys = SessionKeys.generate()
    in_main, in_room = join("main", keys), join(room, keys)
    results = poll(
        client,
        {"room_id": "main", "auth_token": in_main.token},
        {"room_id": room, "auth_token": in_room.token},
        {"room_id": room, "auth_token": in_main.token},  # a token of another room
    )
    check_result(results[0], "main", 200)
    check_result(results[1], room, 200)
    check_result(results[2], room, 401)


def test_empty_poll(client: CheckedClient) -> None:
    assert poll(client) == []


@pytest.mark.parametrize(
    "body", [{}, {"requests": "main"}, {"requests": [{"room_id": 5, "auth_token": ""}]}]
)
def test_malformed_poll_is_400(client: CheckedClient, body: dict[str, Any]) -> None:
    reply = client.request("POST", "compact_poll", body=body, headers={})
    assert status(reply) == 400


def test_a_moderator_of_the_room_and_of_the_server_is_listed_once(
    client: CheckedClient,
    server: Server,
    join: Callable[..., Member],
    poll_room: tuple[str, SessionKeys],
    global_moderator: SessionKeys,
) -> None:
    room, moderator = poll_room
    server.add_moderator(global_moderator.session_id, room)
    member = join(room)
    (result,) = poll(client, {"room_id": room, "auth_token": member.token})
    check_result(result, room, 200)
    listed = result["moderators"]
    assert listed.count(global_moderator.session_id) == 1, listed
    assert moderator.session_id in listed
    assert listed == sorted(listed)
    assert sorted(member.get("moderators")["moderators"]) == listed
