"""The endpoints that take a Room header, each with credentials and a body that would succeed
in room `main`: the bad-room tests swap only the room."""

from __future__ import annotations

from .conftest import Env, b64

# (method, endpoint, token, body); "{name}" and "MSG" are filled in from the Env.
ROOM_HEADER_ENDPOINTS = [
    ("GET", "auth_token_challenge?public_key={outsider}", None, None),
    ("POST", "claim_auth_token", "pending", {"public_key": "{pending}"}),
    ("DELETE", "auth_token", "user", None),
    ("POST", "messages", "user", "MESSAGE"),
    ("GET", "messages", "user", None),
    ("POST", "delete_messages", "user", {"ids": ["MSG"]}),
    ("DELETE", "messages/{msg}", "user", None),
    ("GET", "deleted_messages", "user", None),
    ("GET", "moderators", "mod", None),
    ("POST", "moderators", "mod", {"public_key": "{outsider}", "room_id": "main"}),
    ("DELETE", "moderators/{mod}", "mod", None),
    ("GET", "block_list", "mod", None),
    ("POST", "block_list", "mod", {"public_key": "{outsider}"}),
    ("DELETE", "block_list/{outsider}", "mod", None),
    ("POST", "ban_and_delete_all", "mod", {"public_key": "{user}"}),
    ("GET", "member_count", "user", None),
    ("POST", "files", "user", {"file": b64(b"file")}),
    ("GET", "files/{file}", "user", None),
]
# POST rooms/:id/image is not here: it needs no Room (PROTOCOL.md 3 says it ignores the header).


def fill(text: str, env: Env) -> str:
    return text.format(
        outsider=env.outsider.session_id,
        pending=env.pending.session_id,
        user=env.user.session_id,
        mod=env.mod.session_id,
        msg=env.message_id,
        file=env.file_id,
    )


def build_request(
    env: Env, endpoint: str, token: str | None, body: object, room: str
) -> tuple[str, dict[str, str], object]:
    headers = {"Room": room}
    if token is not None:
        headers["Authorization"] = {
            "user": env.user_token,
            "mod": env.mod_token,
            "pending": env.pending_token,
        }[token]
    if body == "MESSAGE":
        body = env.message_body()
    elif isinstance(body, dict):
        body = {
            key: (
                fill(value, env)
                if isinstance(value, str)
                else [env.message_id if v == "MSG" else v for v in value]
                if isinstance(value, list)
                else value
            )
            for key, value in body.items()
        }
    return fill(endpoint, env), headers, body


def endpoint_id(entry: tuple[str, str, str | None, object]) -> str:
    return f"{entry[0]}-{entry[1].split('?')[0]}"
