"""An unknown room (valid syntax) wherever a room is named: 404, and nothing is created anywhere
(no token, no activity row, no file row, no file on disk). The autouse `nothing_changes` fixture
compares every table and DATA_DIR/files before and after each test."""

from __future__ import annotations

import pytest

from opengroup.crypto import SessionKeys

from .catalogue import ROOM_HEADER_ENDPOINTS, build_request, endpoint_id
from .conftest import (
    TRANSPORTS,
    Env,
    assert_no_problems,
    assert_poll_entry_rejected,
    assert_status,
    b64,
    status_problem,
)

# Syntactically valid ids that name no room; `legacy` is reserved for paths, never a room.
UNKNOWN_ROOMS = ["nosuchroom", "legacy", "main_", "m" * 64]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("entry", ROOM_HEADER_ENDPOINTS, ids=endpoint_id)
def test_unknown_room_in_room_header(
    env: Env, transport: str, entry: tuple[str, str, str | None, object]
) -> None:
    problems = []
    for room in UNKNOWN_ROOMS:
        method, endpoint, token, body = entry
        endpoint, headers, body = build_request(env, endpoint, token, body, room)
        reply = env.client(transport).request(method, endpoint, body=body, headers=headers)
        if problem := status_problem(reply, 404):
            problems.append(f"Room {room!r}: {problem}")
    assert_no_problems(problems)


@pytest.mark.parametrize("room", UNKNOWN_ROOMS)
def test_challenge_for_a_new_user_in_an_unknown_room(env: Env, transport: str, room: str) -> None:
    newcomer = SessionKeys.generate()
    reply = env.client(transport).request(
        "GET", f"auth_token_challenge?public_key={newcomer.session_id}", headers={"Room": room}
    )
    assert_status(reply, 404)


@pytest.mark.parametrize("room", UNKNOWN_ROOMS)
@pytest.mark.parametrize(
    ("method", "form"),
    [("GET", "rooms/{id}"), ("GET", "rooms/{id}/image"), ("POST", "rooms/{id}/image")],
)
def test_unknown_room_in_path(env: Env, transport: str, method: str, form: str, room: str) -> None:
    body = {"file": b64(b"image")} if method == "POST" else None
    headers = {"Room": "main", "Authorization": env.mod_token} if method == "POST" else {}
    reply = env.client(transport).request(method, form.format(id=room), body=body, headers=headers)
    assert_status(reply, 404)


@pytest.mark.parametrize("room", UNKNOWN_ROOMS)
def test_unknown_room_id_in_add_moderator_body(env: Env, transport: str, room: str) -> None:
    reply = env.client(transport).request(
        "POST",
        "moderators",
        body={"public_key": env.outsider.session_id, "room_id": room},
        headers={"Room": "main", "Authorization": env.mod_token},
    )
    assert_status(reply, 404)


@pytest.mark.parametrize("room", UNKNOWN_ROOMS)
@pytest.mark.parametrize("token", ["main-token", "empty", "null", "garbage"])
def test_unknown_room_in_compact_poll(env: Env, transport: str, room: str, token: str) -> None:
    auth = {"main-token": env.user_token, "empty": "", "null": None, "garbage": "zz"}[token]
    entry = {"room_id": room, "auth_token": auth, "from_message_server_id": None}
    reply = env.client(transport).request("POST", "compact_poll", body={"requests": [entry]})
    assert_poll_entry_rejected(reply, 404)
    assert reply["status_code"] == 200, "an unknown room is this entry's 404, not the poll's"
    assert reply["results"][0]["room_id"] == room, reply


def test_unknown_rooms_among_known_in_compact_poll(env: Env, transport: str) -> None:
    entries = [{"room_id": "main", "auth_token": env.user_token}] + [
        {"room_id": room, "auth_token": env.user_token} for room in UNKNOWN_ROOMS
    ]
    reply = env.client(transport).request("POST", "compact_poll", body={"requests": entries})
    assert_status(reply, 200)
    results = reply["results"]
    assert [r["room_id"] for r in results] == ["main", *UNKNOWN_ROOMS], reply
    assert results[0]["status_code"] == 200 and results[0]["messages"], results[0]
    for result in results[1:]:
        assert result["status_code"] == 404, result
        assert result["messages"] == result["deletions"] == result["moderators"] == [], result
