"""The OpenAPI 3 document of the direct HTTP transport (`/legacy/*`), served at /openapi.json.

It is built from the routing table (`endpoints.routes.ROUTES`), so an endpoint cannot be added
without being described here: `OPERATIONS` must have one entry per route, and a test checks it.
Each operation lists every status code it can answer; every reply, errors included, is a JSON
object with an integer `status_code` equal to the HTTP status (PROTOCOL.md 1.1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from opengroup import __version__
from opengroup.api.legacy.routes import ROUTES

Schema = dict[str, Any]

SESSION_ID_PATTERN = "^05[0-9a-fA-F]{64}$"
ROOM_ID_PATTERN = "^[0-9a-z_]{2,64}$"
TOKEN_PATTERN = "^[0-9a-fA-F]{96}$"
BASE64_PATTERN = "^[A-Za-z0-9+/]*={0,2}$"

STATUS_TEXT = {
    200: "Success.",
    400: "Bad input: a malformed body, query, header or path value.",
    401: "Auth token missing, unknown or expired: authenticate again.",
    403: "Banned from this room, or a moderator is required.",
    404: "Unknown room, message or file.",
    413: "Body, message or file over its limit.",
    429: "Too many posts, or the daily upload quota is used up.",
    507: "The database or the data directory cannot be written (disk full, read only).",
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _integer(minimum: int | None = None) -> Schema:
    schema: Schema = {"type": "integer"}
    if minimum is not None:
        schema["minimum"] = minimum
    return schema


def _object(properties: Schema, required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _array(items: Schema) -> Schema:
    return {"type": "array", "items": items}


COMPONENTS: Schema = {
    "SessionId": {"type": "string", "pattern": SESSION_ID_PATTERN},
    "RoomId": {"type": "string", "pattern": ROOM_ID_PATTERN},
    "Base64": {"type": "string", "pattern": BASE64_PATTERN},
    "Error": _object(
        {"status_code": _integer(), "error": {"type": "string"}}, ("status_code", "error")
    ),
    "Room": _object(
        {
            "id": _ref("RoomId"),
            "name": {"type": "string"},
            "image_id": {"type": "string", "pattern": "^[0-9]+$"},
        },
        ("id", "name"),
    ),
    "Message": _object(
        {
            "server_id": _integer(1),
            "public_key": _ref("SessionId"),
            "timestamp": _integer(0),
            "data": _ref("Base64"),
            "signature": _ref("Base64"),
        },
        ("server_id", "public_key", "timestamp", "data", "signature"),
    ),
    "Deletion": _object(
        {"id": _integer(1), "deleted_message_id": _integer(1)}, ("id", "deleted_message_id")
    ),
    "PollRequest": _object(
        {
            "room_id": {"type": "string"},
            "auth_token": {"type": "string"},
            "from_message_server_id": {"type": "integer", "nullable": True},
            "from_deletion_server_id": {"type": "integer", "nullable": True},
        },
        ("room_id",),
    ),
    "PollResult": _object(
        {
            "room_id": {"type": "string"},
            "status_code": _integer(),
            "error": {"type": "string"},
            "messages": _array(_ref("Message")),
            "deletions": _array(_ref("Deletion")),
            "moderators": _array(_ref("SessionId")),
        },
        ("room_id", "status_code", "messages", "deletions", "moderators"),
    ),
    "Challenge": _object(
        {"ciphertext": _ref("Base64"), "ephemeral_public_key": _ref("Base64")},
        ("ciphertext", "ephemeral_public_key"),
    ),
}

_PUBLIC_KEY_BODY = _object({"public_key": _ref("SessionId")}, ("public_key",))
_FILE_BODY = _object({"file": _ref("Base64")}, ("file",))
_CURSOR = {"name": "from_server_id", "in": "query", "schema": _integer(0)}
_LIMIT = {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}}


@dataclass(frozen=True, slots=True)
class Operation:
    """One endpoint as a client sees it. `needs`: "" (nothing), "room" (Room header only),
    "basic" (Room + Authorization), "mod" (the same, and a moderator)."""

    summary: str
    reply: Schema = field(default_factory=dict)
    needs: str = ""
    body: Schema | None = None
    query: tuple[Schema, ...] = ()
    extra_statuses: tuple[int, ...] = ()

    def statuses(self, path_params: bool) -> list[int]:
        codes = {200, 507}
        if path_params or self.needs or self.body is not None or self.query:
            codes |= {400, 404}
        if self.needs in ("basic", "mod"):
            codes |= {401, 403}
        if self.body is not None:
            codes.add(413)
        return sorted(codes | set(self.extra_statuses))


OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "rooms"): Operation("List the rooms.", {"rooms": _array(_ref("Room"))}),
    ("GET", "rooms/{room_id}"): Operation("One room.", {"room": _ref("Room")}),
    ("GET", "rooms/{room_id}/image"): Operation(
        "The room's image, base64 (404 if it has none).", {"result": _ref("Base64")}
    ),
    ("POST", "rooms/{room_id}/image"): Operation(
        "Set the room's image (moderator of that room).",
        {"room_id": _ref("RoomId")},
        needs="mod",
        body=_FILE_BODY,
    ),
    ("GET", "auth_token_challenge"): Operation(
        "A fresh auth token, encrypted to the user's key.",
        {"challenge": _ref("Challenge")},
        needs="room",
        query=(
            {"name": "public_key", "in": "query", "required": True, "schema": _ref("SessionId")},
        ),
        extra_statuses=(403,),
    ),
    ("POST", "claim_auth_token"): Operation(
        "Make a pending token valid.", needs="basic", body=_PUBLIC_KEY_BODY
    ),
    ("DELETE", "auth_token"): Operation("Revoke the token sent.", needs="basic"),
    ("POST", "compact_poll"): Operation(
        "Messages, deletions and moderators of many rooms at once.",
        {"results": _array(_ref("PollResult"))},
        body=_object({"requests": _array(_ref("PollRequest"))}, ("requests",)),
    ),
    ("GET", "member_count"): Operation(
        "Users active in the room in the last 7 days.",
        {"member_count": _integer(0)},
        needs="basic",
    ),
    ("POST", "messages"): Operation(
        "Post a message signed by the sender.",
        {"message": _ref("Message")},
        needs="basic",
        body=_object(
            {
                "data": _ref("Base64"),
                "signature": _ref("Base64"),
                "timestamp": {"type": "number"},
                "public_key": {"type": "string"},
            },
            ("data", "signature"),
        ),
        extra_statuses=(429,),
    ),
    ("GET", "messages"): Operation(
        "Messages after a cursor (ascending), or the latest (newest first).",
        {"messages": _array(_ref("Message"))},
        needs="basic",
        query=(_CURSOR, _LIMIT),
    ),
    ("POST", "delete_messages"): Operation(
        "Delete messages, all or nothing.",
        needs="basic",
        body=_object({"ids": _array(_integer())}, ("ids",)),
    ),
    ("DELETE", "messages/{server_id}"): Operation("Delete one message.", needs="basic"),
    ("GET", "deleted_messages"): Operation(
        "Deletions after a cursor, or the latest.",
        {"ids": _array(_ref("Deletion"))},
        needs="basic",
        query=(_CURSOR, _LIMIT),
    ),
    ("GET", "moderators"): Operation(
        "The room's moderators.", {"moderators": _array(_ref("SessionId"))}, needs="basic"
    ),
    ("POST", "moderators"): Operation(
        "Make a user moderator of a room (moderator of that room).",
        needs="basic",
        body=_object({"public_key": _ref("SessionId"), "room_id": _ref("RoomId")}),
    ),
    ("DELETE", "moderators/{session_id}"): Operation("Remove a moderator.", needs="mod"),
    ("GET", "block_list"): Operation(
        "Users banned from the room.", {"banned_members": _array(_ref("SessionId"))}, needs="basic"
    ),
    ("POST", "block_list"): Operation("Ban a user.", needs="mod", body=_PUBLIC_KEY_BODY),
    ("DELETE", "block_list/{session_id}"): Operation("Lift a ban.", needs="mod"),
    ("POST", "ban_and_delete_all"): Operation(
        "Ban a user and delete all their messages.", needs="mod", body=_PUBLIC_KEY_BODY
    ),
    ("POST", "files"): Operation(
        "Upload a file to the room; returns its id.",
        {"result": _integer(2**31)},
        needs="basic",
        body=_FILE_BODY,
        extra_statuses=(429,),
    ),
    ("GET", "files/{file_id}"): Operation(
        "A file of this room, base64.", {"result": _ref("Base64")}, needs="basic"
    ),
}

_PATH_PARAMS: dict[str, Schema] = {
    "room_id": _ref("RoomId"),
    "session_id": _ref("SessionId"),
    "server_id": _integer(0),
    "file_id": _integer(0),
}


def _parameters(pattern: str, operation: Operation) -> list[Schema]:
    params: list[Schema] = []
    for segment in pattern.split("/"):
        if segment.startswith("{"):
            name = segment[1:-1]
            params.append(
                {"name": name, "in": "path", "required": True, "schema": _PATH_PARAMS[name]}
            )
    if operation.needs:
        params.append({"name": "Room", "in": "header", "required": True, "schema": _ref("RoomId")})
    if operation.needs in ("basic", "mod"):
        params.append(
            {
                "name": "Authorization",
                "in": "header",
                "required": True,
                "description": "The auth token of this room, 96 hex characters.",
                "schema": {"type": "string", "pattern": TOKEN_PATTERN},
            }
        )
    params.extend(operation.query)
    return params


def _responses(operation: Operation, path_params: bool) -> Schema:
    responses: Schema = {}
    for status in operation.statuses(path_params):
        if status == 200:
            schema = _object(
                {"status_code": {"type": "integer", "enum": [200]}, **operation.reply},
                ("status_code", *operation.reply),
            )
        else:
            schema = _ref("Error")
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": {"application/json": {"schema": schema}},
        }
    return responses


def openapi_document() -> Schema:
    paths: Schema = {}
    for route in ROUTES:
        operation = OPERATIONS[(route.method, route.pattern)]
        path_params = "{" in route.pattern
        spec: Schema = {
            "operationId": f"{route.method.lower()}_{route.pattern.replace('/', '_')}".replace(
                "{", ""
            ).replace("}", ""),
            "summary": operation.summary,
            "parameters": _parameters(route.pattern, operation),
            "responses": _responses(operation, path_params),
        }
        if operation.body is not None:
            spec["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": operation.body}},
            }
        paths.setdefault(f"/legacy/{route.pattern}", {})[route.method.lower()] = spec
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "opengroup: Session open group API v2 (direct HTTP)",
            "version": __version__,
            "description": (
                "The v2 API as direct HTTP under /legacy/. Real clients send the same requests "
                "inside v3 onion envelopes to POST /loki/v3/lsrpc. Every reply is a JSON object "
                "whose integer status_code equals the HTTP status."
            ),
        },
        "paths": paths,
        "components": {"schemas": COMPONENTS},
    }
