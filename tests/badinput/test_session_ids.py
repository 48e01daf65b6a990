"""Invalid Session IDs (PROTOCOL.md 2: anything but 05 + 64 hex is a 400) wherever one is given."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from .conftest import TRANSPORTS, Env, assert_no_problems, assert_status, status_problem

HEX64 = "ab" * 32
BAD_SESSION_IDS = [
    pytest.param("06" + HEX64, id="wrong-prefix"),
    pytest.param(HEX64 + "05", id="prefix-at-end"),
    pytest.param("05" + HEX64[:63], id="65-chars"),
    pytest.param("05" + HEX64 + "a", id="67-chars"),
    pytest.param("05" + "g" * 64, id="non-hex"),
    pytest.param("05" + HEX64[:62] + "é", id="non-ascii"),
    pytest.param("", id="empty"),
    pytest.param("05", id="prefix-only"),
    pytest.param(HEX64, id="no-prefix"),
    pytest.param(" 05" + HEX64, id="leading-space"),
    pytest.param("05" + HEX64 + "\n", id="trailing-newline"),
    # The same X25519 key as "05" + "11" * 31 + "00": a second id for one person (issue 16).
    pytest.param("05" + "11" * 31 + "80", id="bit-255-set"),
]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("session_id", BAD_SESSION_IDS)
def test_auth_token_challenge(env: Env, transport: str, session_id: str) -> None:
    reply = env.client(transport).request(
        "GET", f"auth_token_challenge?public_key={quote(session_id)}", headers={"Room": "main"}
    )
    assert_status(reply, 400)


def test_auth_token_challenge_without_public_key(env: Env, transport: str) -> None:
    for endpoint in ("auth_token_challenge", "auth_token_challenge?other=1"):
        reply = env.client(transport).request("GET", endpoint, headers={"Room": "main"})
        assert_status(reply, 400)


@pytest.mark.parametrize(
    ("endpoint", "token"),
    [
        ("claim_auth_token", "pending"),
        ("moderators", "mod"),
        ("block_list", "mod"),
        ("ban_and_delete_all", "mod"),
    ],
)
def test_in_body(env: Env, transport: str, endpoint: str, token: str) -> None:
    auth = env.pending_token if token == "pending" else env.mod_token
    problems = []
    for param in BAD_SESSION_IDS:
        (session_id,) = param.values
        body: dict[str, object] = {"public_key": session_id}
        if endpoint == "moderators":
            body["room_id"] = "main"
        reply = env.client(transport).request(
            "POST", endpoint, body=body, headers={"Room": "main", "Authorization": auth}
        )
        if problem := status_problem(reply, 400):
            problems.append(f"{param.id} {session_id!r}: {problem}")
    assert_no_problems(problems)


@pytest.mark.parametrize(
    "session_id",
    [p for p in BAD_SESSION_IDS if p.id not in ("empty", "trailing-newline", "leading-space")],
)
@pytest.mark.parametrize("collection", ["moderators", "block_list"])
def test_in_delete_path(env: Env, transport: str, collection: str, session_id: str) -> None:
    reply = env.client(transport).request(
        "DELETE",
        f"{collection}/{quote(session_id)}",
        headers={"Room": "main", "Authorization": env.mod_token},
    )
    assert_status(reply, 400)
