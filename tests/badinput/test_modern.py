"""Bad input to the modern API (SOGS-API.md), through onion v4 and direct HTTP: a clear 4xx
as short text, never a 500 or a traceback, and nothing written (the autouse snapshot)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient, SogsReply

from .conftest import Env, assert_no_problems

TEXT = "text/plain; charset=utf-8"


@pytest.fixture(scope="module")
def people(env: Env) -> dict[str, BlindedUser]:
    """A member and an admin of `main` who have signed requests here before."""
    member, admin = BlindedUser.generate(), BlindedUser.generate()
    added = env.server.cli("moderators", "add", admin.session_id, "main", "--admin")
    assert added.returncode == 0, added.stderr
    client = SogsClient(env.server.base_url, env.server_public, transport="http")
    for user in (member, admin):
        assert client.get("/capabilities", user=user).code == 200
    data = b"modern message"
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(member.sign_post(data, env.server_public)).decode(),
    }
    posted = client.post("/room/main/message", body, user=member)
    assert posted.code == 201, posted.text
    client.close()
    return {"member": member, "admin": admin, "message": posted.json["id"]}  # type: ignore[dict-item]


@pytest.fixture(params=["v4", "http"])
def sogs(request: pytest.FixtureRequest, env: Env) -> Iterator[SogsClient]:
    client = SogsClient(env.server.base_url, env.server_public, transport=request.param)
    yield client
    client.close()


def problem(reply: SogsReply, allowed: tuple[int, ...], what: str) -> str | None:
    if reply.code not in allowed:
        return f"{what}: expected {allowed}, got {reply.code} {reply.raw[:200]!r}"
    if reply.content_type != TEXT:
        return f"{what}: error as {reply.content_type!r}, not short text"
    if b"Traceback" in reply.raw:
        return f"{what}: traceback"
    return None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def signed_post(user: BlindedUser, server_pk: bytes, **extra: Any) -> dict[str, Any]:
    data = os.urandom(12)
    return {"data": b64(data), "signature": b64(user.sign_post(data, server_pk)), **extra}


def test_bad_message_bodies(env: Env, sogs: SogsClient, people: dict[str, Any]) -> None:
    member: BlindedUser = people["member"]
    pk = env.server_public
    good = signed_post(member, pk)
    bodies: list[tuple[object, tuple[int, ...]]] = [
        ({}, (400,)),
        ([good], (400,)),
        ("text", (400,)),
        ({"signature": good["signature"]}, (400,)),
        ({"data": good["data"]}, (400,)),
        ({"data": "%%%", "signature": good["signature"]}, (400,)),
        ({"data": good["data"], "signature": b64(os.urandom(63))}, (400,)),
        ({"data": good["data"], "signature": b64(os.urandom(64))}, (400,)),
        ({**good, "files": "1"}, (400,)),
        ({**good, "files": [True]}, (400,)),
        ({**good, "files": [-1]}, (400,)),
        ({**good, "files": ["1e3"]}, (400,)),
        ({**good, "whisper_to": member.blinded_id(pk)}, (400, 403)),
        ({**good, "whisper_mods": True}, (400, 403)),
        ({"data": 7, "signature": good["signature"]}, (400,)),
        (signed_post(member, pk, data=b64(os.urandom(70_000))), (400, 413)),
    ]
    problems = []
    for body, allowed in bodies:
        for method, path in (
            ("POST", "/room/main/message"),
            ("PUT", f"/room/main/message/{people['message']}"),
        ):
            reply = sogs.request(method, path, body, user=member)
            problems.append(problem(reply, allowed, f"{method} {body!r:.80}"))
    raw = sogs.request("POST", "/room/main/message", raw=b"\xff\xfe{", user=member)
    problems.append(problem(raw, (400,), "not JSON"))
    assert_no_problems([p for p in problems if p])


def test_bad_ids_rooms_and_queries(sogs: SogsClient, people: dict[str, Any]) -> None:
    member: BlindedUser = people["member"]
    cases: list[tuple[str, str, tuple[int, ...]]] = [
        ("GET", "/room/nosuchroom", (404,)),
        ("GET", "/room/nosuchroom/pollInfo/0", (404,)),
        ("GET", "/room/main/pollInfo/x", (404,)),
        ("GET", "/room/main/messages/since/-1", (404,)),
        ("GET", "/room/main/messages/since/99999999999999999999", (404,)),
        ("GET", "/room/main/messages/recent?limit=ten", (400,)),
        ("GET", "/room/main/messages/recent?reactors=1.5", (400,)),
        ("GET", "/room/main/message/0x10", (404,)),
        ("DELETE", "/room/main/message/999999", (404,)),
        ("DELETE", "/room/main/message/abc", (404,)),
        ("PUT", "/room/main/reaction/999999/👍", (404,)),
        ("PUT", f"/room/main/reaction/{people['message']}/{'x' * 13}", (400,)),
        ("DELETE", f"/room/main/reactions/{people['message']}", (403,)),
        ("GET", "/room/main/reactors/abc/👍", (404,)),
        ("GET", "/room/main/nosuchthing", (404,)),
        ("PATCH", "/room/main", (400, 404, 405)),  # v4: an unknown method is a bad payload
        ("GET", "/inbox/since/x", (404,)),
    ]
    problems = []
    for method, path, allowed in cases:
        reply = sogs.request(method, path, user=member)
        if reply.code == 405 and reply.content_type != TEXT:
            problems.append(f"{method} {path}: 405 without text")
            continue
        problems.append(problem(reply, allowed, f"{method} {path}"))
    assert_no_problems([p for p in problems if p])


def test_bad_moderation_bodies(env: Env, sogs: SogsClient, people: dict[str, Any]) -> None:
    admin: BlindedUser = people["admin"]
    member: BlindedUser = people["member"]
    target = f"/user/{BlindedUser.generate().session_id}"
    bans: list[tuple[object, tuple[int, ...]]] = [
        ({}, (400,)),
        ({"rooms": []}, (400,)),
        ({"rooms": "main"}, (400,)),
        ({"rooms": [5]}, (400,)),
        ({"rooms": ["main"], "global": True}, (400,)),
        ({"rooms": ["main"], "timeout": "1h"}, (400,)),
        ({"rooms": ["main"], "timeout": -5}, (400,)),
        ({"rooms": ["nosuchroom"]}, (404,)),
        ({"global": True}, (403,)),
    ]
    problems = []
    for body, allowed in bans:
        for action in ("ban", "unban"):
            reply = sogs.post(f"{target}/{action}", body, user=admin)
            if action == "unban" and body == {"rooms": ["main"], "timeout": "1h"}:
                continue  # unban ignores a timeout
            if action == "unban" and body == {"rooms": ["main"], "timeout": -5}:
                continue
            problems.append(problem(reply, allowed, f"{action} {body!r}"))
    for body, allowed in [
        ({"rooms": ["main"]}, (400,)),
        ({"rooms": ["main"], "admin": True, "moderator": False}, (400,)),
        ({"rooms": ["main"], "admin": "yes"}, (400,)),
        ({"rooms": ["main"], "moderator": True, "visible": 1}, (400,)),
        ({"global": True, "moderator": True}, (403,)),
    ]:
        reply = sogs.post(f"{target}/moderator", body, user=admin)
        problems.append(problem(reply, allowed, f"moderator {body!r}"))
    reply = sogs.post(f"{target}/ban", {"rooms": ["main"]}, user=member)
    problems.append(problem(reply, (403,), "ban by a member"))
    reply = sogs.post("/user/05xyz/ban", {"rooms": ["main"]}, user=admin)
    problems.append(problem(reply, (404,), "ban of a malformed id"))
    reply = sogs.request("DELETE", f"/room/main/all/{people['member'].session_id}")
    problems.append(problem(reply, (401,), "anonymous delete-all"))
    reply = sogs.post(f"/room/main/permissions/{member.session_id}", {"write": "no"}, user=admin)
    problems.append(problem(reply, (400,), "permission override"))
    assert_no_problems([p for p in problems if p])


def test_bad_batches_and_dms(env: Env, sogs: SogsClient, people: dict[str, Any]) -> None:
    member: BlindedUser = people["member"]
    problems = []
    post = {"method": "POST", "path": "/room/main/message"}
    good = {**post, "json": signed_post(member, env.server_public)}
    batches: list[object] = [
        [],
        {},
        [{"method": "GET"}],
        [{"method": "GET", "path": "/batch"}],
        [{**post, "b64": "!!"}],
        [good, {"method": "TRACE", "path": "/capabilities"}],
    ]
    for body in batches:
        reply = sogs.request("POST", "/batch", body, user=member)
        problems.append(problem(reply, (400,), f"batch {body!r:.80}"))
    to = f"/inbox/{people['admin'].blinded_id(env.server_public)}"
    for body in ({}, {"message": ""}, {"message": "%%"}, {"message": 5}, [1]):
        problems.append(problem(sogs.post(to, body, user=member), (400,), f"dm {body!r}"))
    stranger = BlindedUser.generate().blinded_id(env.server_public)
    reply = sogs.post(f"/inbox/{stranger}", {"message": "AAAA"}, user=member)
    problems.append(problem(reply, (404,), "dm to a stranger"))
    assert_no_problems([p for p in problems if p])


@pytest.mark.parametrize(
    "broken",
    [
        {"X-SOGS-Nonce": ""},
        {"X-SOGS-Pubkey": "15" + "00" * 32},
        {"X-SOGS-Pubkey": "ff" * 33},
        {"X-SOGS-Nonce": "short"},
        {"X-SOGS-Signature": b64(os.urandom(10))},
        {"X-SOGS-Timestamp": "yesterday"},
        {"X-SOGS-Timestamp": "100"},
        {"X-SOGS-Signature": b64(os.urandom(64))},
    ],
)
def test_bad_auth_headers_write_nothing(
    env: Env, sogs: SogsClient, people: dict[str, Any], broken: dict[str, str]
) -> None:
    member: BlindedUser = people["member"]
    raw = orjson.dumps(signed_post(member, env.server_public))
    headers = member.sogs_headers(env.server_public, "POST", "/room/main/message", raw)
    headers.update(broken)
    reply = sogs.request("POST", "/room/main/message", raw=raw, headers=headers)
    found = problem(reply, (400, 401, 425), f"headers {broken}")
    assert found is None, found
