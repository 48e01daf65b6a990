"""Wrong JSON types in every body field of every POST endpoint, bad base64, signatures of the
wrong length, bodies that are not JSON objects and bad query parameters: each a 400 (never a
500), through both transports, with nothing written.

Every request carries credentials that would make the valid version of it succeed (a
moderator's token where one is needed), so a missing check shows up as a write."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from opengroup.crypto import sign_session_message

from .conftest import (
    TRANSPORTS,
    Env,
    assert_no_problems,
    assert_poll_entry_rejected,
    assert_status,
    b64,
    poll_entry_problem,
    status_problem,
)

MISSING = object()  # the field is left out
MESSAGE_ID = object()  # replaced by the id of a real message of `env.user`


@dataclass(frozen=True)
class Post:
    endpoint: str
    auth: str  # "user", "mod", "pending" or "none"
    body: Callable[[Env], dict[str, Any]]

    def headers(self, env: Env) -> dict[str, str]:
        token = {
            "user": env.user_token,
            "mod": env.mod_token,
            "pending": env.pending_token,
        }.get(self.auth)
        return {} if token is None else {"Room": "main", "Authorization": token}


POSTS: dict[str, Post] = {
    "messages": Post("messages", "user", lambda env: env.message_body()),
    "claim_auth_token": Post(
        "claim_auth_token", "pending", lambda env: {"public_key": env.pending.session_id}
    ),
    "compact_poll": Post(
        "compact_poll",
        "none",
        lambda env: {
            "requests": [
                {
                    "room_id": "main",
                    "auth_token": env.user_token,
                    "from_message_server_id": 0,
                    "from_deletion_server_id": 0,
                }
            ]
        },
    ),
    "delete_messages": Post("delete_messages", "user", lambda env: {"ids": [env.message_id]}),
    "moderators": Post(
        "moderators", "mod", lambda env: {"public_key": env.outsider.session_id, "room_id": "main"}
    ),
    "block_list": Post("block_list", "mod", lambda env: {"public_key": env.outsider.session_id}),
    "ban_and_delete_all": Post(
        "ban_and_delete_all", "mod", lambda env: {"public_key": env.user.session_id}
    ),
    "files": Post("files", "user", lambda env: {"file": b64(b"file content")}),
    "rooms/main/image": Post("rooms/main/image", "mod", lambda env: {"file": b64(b"image")}),
}

NOT_A_STRING = [5, 0, -1, 1.5, True, False, [], ["x"], {}, {"a": "b"}]
REQUIRED_STRING = [*NOT_A_STRING, None, MISSING]
NOT_AN_INT = ["5", "", 1.5, 1.0, True, False, [], [1], {}, {"id": 1}]

# (endpoint, field, wrong values)
FIELD_CASES: list[tuple[str, str, list[Any]]] = [
    ("messages", "data", REQUIRED_STRING),
    ("messages", "signature", REQUIRED_STRING),
    ("messages", "timestamp", ["abc", "1600000000000", True, False, [], [1], {}]),
    ("messages", "public_key", NOT_A_STRING),
    ("claim_auth_token", "public_key", REQUIRED_STRING),
    (
        "delete_messages",
        "ids",
        [
            "1",
            5,
            1.5,
            True,
            None,
            MISSING,
            {},
            {"ids": [1]},
            [True],
            [False],
            ["1"],
            [1.5],
            [1.0],
            [[1]],
            [None],
            [{}],
            [MESSAGE_ID, True],
            [MESSAGE_ID, "x"],
            [MESSAGE_ID, [MESSAGE_ID]],
            [MESSAGE_ID, 2.0],
        ],
    ),
    ("moderators", "public_key", REQUIRED_STRING),
    ("moderators", "room_id", REQUIRED_STRING),
    ("block_list", "public_key", REQUIRED_STRING),
    ("ban_and_delete_all", "public_key", REQUIRED_STRING),
    ("files", "file", REQUIRED_STRING),
    ("rooms/main/image", "file", REQUIRED_STRING),
]

POLL_FIELD_CASES: list[tuple[str, list[Any]]] = [
    ("room_id", REQUIRED_STRING),
    ("auth_token", NOT_A_STRING),
    ("from_message_server_id", NOT_AN_INT),
    ("from_deletion_server_id", NOT_AN_INT),
]


def value_id(value: Any) -> str:
    if value is MISSING:
        return "missing"
    if value is MESSAGE_ID:
        return "MSG"
    if isinstance(value, list):
        return "[" + ",".join(value_id(v) for v in value) + "]"
    return f"{type(value).__name__}:{value!r}"[:30]


def resolve(value: Any, env: Env) -> Any:
    if value is MESSAGE_ID:
        return env.message_id
    if isinstance(value, list):
        return [resolve(v, env) for v in value]
    return value


def with_field(body: dict[str, Any], field: str, value: Any, env: Env) -> dict[str, Any]:
    changed = {key: val for key, val in body.items() if key != field}
    if value is not MISSING:
        changed[field] = resolve(value, env)
    return changed


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def send(env: Env, transport: str, post: Post, body: Any = None, raw: str | None = None) -> Any:
    return env.client(transport).request(
        "POST", post.endpoint, body=body, raw_body=raw, headers=post.headers(env)
    )


# ---------------------------------------------------------------------------- wrong types


@pytest.mark.parametrize(
    ("endpoint", "field", "values"),
    [pytest.param(*case, id=f"{case[0]}.{case[1]}") for case in FIELD_CASES],
)
def test_wrong_type_in_body_field(
    env: Env, transport: str, endpoint: str, field: str, values: list[Any]
) -> None:
    post = POSTS[endpoint]
    problems = []
    for value in values:
        body = with_field(post.body(env), field, value, env)
        if problem := status_problem(send(env, transport, post, body), 400):
            problems.append(f"{field}={value_id(value)}: {problem}")
    assert_no_problems(problems)


POLL_CASES = [
    pytest.param({"requests": value}, id=f"requests={value_id(value)}")
    for value in ["main", 5, True, None, {}, {"room_id": "main"}]
] + [
    pytest.param({"requests": [entry]}, id=f"entry={value_id(entry)}")
    for entry in [5, "main", None, True, [], ["main", "token"]]
]


@pytest.mark.parametrize("body", [*POLL_CASES, pytest.param({}, id="requests-missing")])
def test_compact_poll_wrong_requests(env: Env, transport: str, body: dict[str, Any]) -> None:
    reply = send(env, transport, POSTS["compact_poll"], body)
    if isinstance(body.get("requests"), list):
        assert_poll_entry_rejected(reply, 400)
    else:
        assert_status(reply, 400)


@pytest.mark.parametrize(
    ("field", "values"), POLL_FIELD_CASES, ids=[c[0] for c in POLL_FIELD_CASES]
)
def test_compact_poll_wrong_type_in_entry(
    env: Env, transport: str, field: str, values: list[Any]
) -> None:
    post = POSTS["compact_poll"]
    problems = []
    for value in values:
        entry = with_field(post.body(env)["requests"][0], field, value, env)
        reply = send(env, transport, post, {"requests": [entry]})
        if problem := poll_entry_problem(reply, 400):
            problems.append(f"{field}={value_id(value)}: {problem}")
    assert_no_problems(problems)


def test_controls_succeed_with_the_same_credentials(env: Env, transport: str) -> None:
    """The credentials used above are good: a harmless valid request with each works."""
    client = env.client(transport)
    for token in (env.user_token, env.mod_token):
        reply = client.request(
            "GET", "moderators", headers={"Room": "main", "Authorization": token}
        )
        assert_status(reply, 200)
    reply = send(env, transport, POSTS["compact_poll"], POSTS["compact_poll"].body(env))
    assert_status(reply, 200)
    assert reply["results"][0]["status_code"] == 200, reply


# ---------------------------------------------------------------------------- base64


BAD_BASE64 = [
    "abc",  # length not a multiple of 4
    "YWJjZA",  # padding missing
    "YWJj====",  # padding too long
    "YWJ=ZA==",  # padding in the middle
    "=",
    "YW Jj",
    " YWJj",
    "@@@@",
    "YWJj\n",
    "-_-_",  # urlsafe alphabet
    "\u00ffWJj",
]


@pytest.mark.parametrize(
    ("endpoint", "field"),
    [
        ("messages", "data"),
        ("messages", "signature"),
        ("files", "file"),
        ("rooms/main/image", "file"),
    ],
)
def test_bad_base64(env: Env, transport: str, endpoint: str, field: str) -> None:
    post = POSTS[endpoint]
    problems = []
    for encoded in BAD_BASE64:
        body = with_field(post.body(env), field, encoded, env)
        if problem := status_problem(send(env, transport, post, body), 400):
            problems.append(f"{field}={encoded!r}: {problem}")
    assert_no_problems(problems)


def test_urlsafe_signature_of_real_bytes(env: Env, transport: str) -> None:
    """A real signature written in the URL-safe alphabet is not standard base64."""
    data = b"hello"
    for _ in range(64):
        signature = sign_session_message(env.user.private, data)
        urlsafe = base64.urlsafe_b64encode(signature).decode()
        if "-" in urlsafe or "_" in urlsafe:
            break
    body = {**env.message_body(data), "signature": urlsafe}
    assert_status(send(env, transport, POSTS["messages"], body), 400)


@pytest.mark.parametrize("length", [0, 1, 32, 63, 65, 66, 96, 128])
def test_signature_of_wrong_length(env: Env, transport: str, length: int) -> None:
    real = sign_session_message(env.user.private, b"hello")
    signature = (real * 3)[:length]
    body = {**env.message_body(b"hello"), "signature": b64(signature)}
    assert_status(send(env, transport, POSTS["messages"], body), 400)


# ---------------------------------------------------------------------------- not an object


NOT_AN_OBJECT = [
    "not json",
    "{",
    '{"data": ',
    "[]",
    '["data", "signature"]',
    '"a string"',
    "42",
    "true",
    "",
    "null",
    "{}}",
    "\ufeff{}",
]


@pytest.mark.parametrize("endpoint", list(POSTS))
def test_body_not_a_json_object(env: Env, transport: str, endpoint: str) -> None:
    problems = []
    for raw in NOT_AN_OBJECT:
        if problem := status_problem(send(env, transport, POSTS[endpoint], raw=raw), 400):
            problems.append(f"body {raw!r}: {problem}")
    assert_no_problems(problems)


# ---------------------------------------------------------------------------- query


BAD_QUERIES = [
    "limit=abc",
    "limit=1.5",
    "limit=-1",
    "from_server_id=-1",
    "from_server_id=abc",
    "from_server_id=1e3",
    "from_server_id=1&limit=abc",
]


@pytest.mark.parametrize("endpoint", ["messages", "deleted_messages"])
def test_bad_query_parameter(env: Env, transport: str, endpoint: str) -> None:
    problems = []
    for query in BAD_QUERIES:
        reply = env.client(transport).request(
            "GET", f"{endpoint}?{query}", headers={"Room": "main", "Authorization": env.user_token}
        )
        if problem := status_problem(reply, 400):
            problems.append(f"?{query}: {problem}")
    assert_no_problems(problems)


# ---------------------------------------------------------------------------- huge integers

HUGE = [2**63, 2**64 - 1, 10**30]


@pytest.mark.parametrize("endpoint", ["messages", "deleted_messages"])
@pytest.mark.parametrize("number", HUGE)
def test_huge_from_server_id(env: Env, transport: str, endpoint: str, number: int) -> None:
    """Past the database's 64-bit integers: refused (400) or simply nothing newer (200)."""
    reply = env.client(transport).request(
        "GET",
        f"{endpoint}?from_server_id={number}",
        headers={"Room": "main", "Authorization": env.user_token},
    )
    assert_status(reply, 200, 400)
    if reply["status_code"] == 200:
        assert reply.get("messages", reply.get("ids")) == [], reply


@pytest.mark.parametrize("number", HUGE[:2])  # orjson refuses integers over 64 bits itself
@pytest.mark.parametrize("field", ["from_message_server_id", "from_deletion_server_id"])
def test_huge_poll_cursor(env: Env, transport: str, field: str, number: int) -> None:
    post = POSTS["compact_poll"]
    entry = {**post.body(env)["requests"][0], field: number}
    reply = send(env, transport, post, {"requests": [entry]})
    assert_status(reply, 200, 400)
    if reply["status_code"] == 200:
        assert reply["results"][0]["status_code"] in (200, 400), reply


@pytest.mark.parametrize("number", HUGE[:2])
def test_huge_id_in_delete_messages(env: Env, transport: str, number: int) -> None:
    reply = send(env, transport, POSTS["delete_messages"], {"ids": [env.message_id, number]})
    assert_status(reply, 400, 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "messages/{n}"), ("GET", "files/{n}")],
)
@pytest.mark.parametrize("number", [2**63, 9_999_999_999_999_999_999, 10**30])
def test_huge_id_in_path(env: Env, transport: str, method: str, path: str, number: int) -> None:
    reply = env.client(transport).request(
        method,
        path.format(n=number),
        headers={"Room": "main", "Authorization": env.user_token},
    )
    assert_status(reply, 400, 404)


@pytest.mark.parametrize(("method", "path"), [("DELETE", "messages/{n}"), ("GET", "files/{n}")])
def test_non_integer_id_in_path(env: Env, transport: str, method: str, path: str) -> None:
    problems = []
    for text in ["-1", "1.5", "abc", "%2D1", "\u0661", "1e3", ""]:
        reply = env.client(transport).request(
            method, path.format(n=text), headers={"Room": "main", "Authorization": env.user_token}
        )
        if problem := status_problem(reply, 400, 404):
            problems.append(f"{path.format(n=text)!r}: {problem}")
    assert_no_problems(problems)
