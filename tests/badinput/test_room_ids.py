"""Malformed room ids (PROTOCOL.md 3: [0-9a-z_], 2-64 characters, not all digits) in the Room
header, in `rooms/<id>` paths and in compact_poll entries: a 400 or 404, never a 200 or 500."""

from __future__ import annotations

from urllib.parse import quote

import orjson
import pytest

from .catalogue import ROOM_HEADER_ENDPOINTS, build_request, endpoint_id
from .conftest import (
    TRANSPORTS,
    Env,
    assert_no_problems,
    assert_status,
    b64,
    poll_entry_problem,
    raw_http,
    status_problem,
)

# (id, value as sent in a header or JSON string)
BAD_ROOM_IDS = {
    "slash": "a/b",
    "dotdot": "..",
    "percent-2F": "a%2Fb",
    "nul": "ma\x00in",
    "65-chars": "a" * 65,
    "uppercase": "MAIN",
    "mixed-case": "Main",
    "all-digits": "123",
    "empty": "",
    "one-char": "a",
    "dash": "bad-id",
    "space": "ma in",
    "unicode": "maín",
    "trailing-newline": "main\n",
}


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# ---------------------------------------------------------------------------- Room header


@pytest.mark.parametrize("entry", ROOM_HEADER_ENDPOINTS, ids=endpoint_id)
def test_bad_room_header(
    env: Env, transport: str, entry: tuple[str, str, str | None, object]
) -> None:
    problems = []
    for name, room in BAD_ROOM_IDS.items():
        if transport == "legacy" and not (room.isascii() and room.isprintable()):
            room = quote(room)  # not sendable in an HTTP header: send it percent-encoded
        method, endpoint, token, body = entry
        endpoint, headers, body = build_request(env, endpoint, token, body, room)
        reply = env.client(transport).request(method, endpoint, body=body, headers=headers)
        if problem := status_problem(reply, 400, 404):
            problems.append(f"Room {name} {room!r}: {problem}")
    assert_no_problems(problems)


def test_room_header_controls(env: Env, transport: str) -> None:
    """The reads of the list above succeed with Room: main, so the refusals are about the id."""
    for method, endpoint, token, body in ROOM_HEADER_ENDPOINTS:
        if method == "GET" and token is not None:
            path, headers, _ = build_request(env, endpoint, token, body, "main")
            reply = env.client(transport).request(method, path, headers=headers)
            assert_status(reply, 200)


# ---------------------------------------------------------------------------- rooms/<id> paths

# Room ids as they appear in a path (percent-encoded where a raw byte cannot be sent).
PATH_IDS = {
    "slash": "a/b",
    "percent-2F": "a%2Fb",
    "percent-2F-main": "main%2F",
    "dotdot": "..",
    "dotdot-encoded": "%2E%2E",
    "dotdot-slash": "..%2Fmain",
    "nul": "%00",
    "nul-in-main": "ma%00in",
    "65-chars": "a" * 65,
    "uppercase": "MAIN",
    "all-digits": "123",
    "one-char": "a",
    "space": "ma%20in",
    "unicode": "ma%C3%ADn",
    "bad-utf8": "ma%FFin",
    "empty": "",
}
PATH_FORMS = [
    ("GET", "rooms/{id}"),
    ("GET", "rooms/{id}/image"),
    ("POST", "rooms/{id}/image"),
]


@pytest.mark.parametrize("room_path", list(PATH_IDS.values()), ids=list(PATH_IDS))
def test_bad_room_in_path_onion(env: Env, room_path: str) -> None:
    problems = []
    for method, form in PATH_FORMS:
        body = {"file": b64(b"image")} if method == "POST" else None
        headers = {"Room": "main", "Authorization": env.mod_token} if method == "POST" else {}
        endpoint = form.format(id=room_path)
        reply = env.client("onion").request(method, endpoint, body=body, headers=headers)
        if problem := status_problem(reply, 400, 404):
            problems.append(f"{method} {endpoint}: {problem}")
    assert_no_problems(problems)


@pytest.mark.parametrize(
    "room", ["ma\x00in", "a\\b", "ma#in"], ids=["raw-nul", "backslash", "hash"]
)
def test_raw_bytes_in_onion_endpoint(env: Env, room: str) -> None:
    """The onion endpoint is a JSON string: it can carry bytes no HTTP path could."""
    reply = env.client("onion").request("GET", f"rooms/{room}/image")
    assert_status(reply, 400, 404)


@pytest.mark.parametrize("room_path", list(PATH_IDS.values()), ids=list(PATH_IDS))
def test_bad_room_in_path_legacy(env: Env, room_path: str) -> None:
    """Sent byte for byte (no client-side normalisation of `..` or `%2F`)."""
    problems = []
    for method, form in PATH_FORMS:
        body = orjson.dumps({"file": b64(b"image")}) if method == "POST" else b""
        headers = {"Room": "main", "Authorization": env.mod_token} if method == "POST" else {}
        if body:
            headers["Content-Type"] = "application/json"
        target = "/legacy/" + form.format(id=room_path)
        status, content = raw_http(env.server.port, method, target, headers, body)
        try:
            reply = orjson.loads(content)
        except orjson.JSONDecodeError:
            problems.append(f"{method} {target}: HTTP {status}, not JSON: {content[:200]!r}")
            continue
        if reply.get("status_code") != status:
            problems.append(f"{method} {target}: HTTP {status} but {reply!r}"[:500])
        elif problem := status_problem(reply, 400, 404):
            problems.append(f"{method} {target}: {problem}")
    assert_no_problems(problems)


# ---------------------------------------------------------------------------- compact_poll


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
def test_bad_room_in_compact_poll(env: Env, transport: str, with_token: bool) -> None:
    problems = []
    for name, room in BAD_ROOM_IDS.items():
        entry = {"room_id": room, "auth_token": env.user_token if with_token else ""}
        reply = env.client(transport).request("POST", "compact_poll", body={"requests": [entry]})
        if problem := poll_entry_problem(reply, 400, 404):
            problems.append(f"room_id {name} {room!r}: {problem}")
    assert_no_problems(problems)


def test_bad_room_next_to_a_good_one_in_compact_poll(env: Env, transport: str) -> None:
    """A bad entry fails on its own (or the whole poll is a 400): never a 200 for it."""
    entries = [
        {"room_id": "main", "auth_token": env.user_token},
        {"room_id": "a/b", "auth_token": env.user_token},
        {"room_id": "MAIN", "auth_token": env.user_token},
    ]
    reply = env.client(transport).request("POST", "compact_poll", body={"requests": entries})
    assert_status(reply, 200, 400)
    if reply["status_code"] == 200:
        statuses = [result["status_code"] for result in reply["results"]]
        assert statuses[0] == 200 and all(s in (400, 404) for s in statuses[1:]), reply
