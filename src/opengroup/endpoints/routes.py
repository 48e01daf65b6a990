"""The routing table: every v2 endpoint, once. Every transport dispatches through `dispatch`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from ..context import ServerContext
from ..errors import NotFound, OpenGroupError, StorageFailure, status_for
from ..metrics import record_api_request
from . import auth, files, messages, moderation, polling, rooms
from .call import ApiRequest, ApiResponse, Call, Reply

log = logging.getLogger("opengroup.endpoints")

Handler = Callable[[Call], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str  # segments separated by "/"; "{name}" captures one segment
    handler: Handler
    # Moves megabytes (files, room images): run in a worker thread, never on the event loop.
    heavy: bool = False

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.pattern.split("/"))


ROUTES: tuple[Route, ...] = (
    Route("GET", "rooms", rooms.list_rooms),
    Route("GET", "rooms/{room_id}", rooms.get_room),
    Route("GET", "rooms/{room_id}/image", rooms.get_image, heavy=True),
    Route("POST", "rooms/{room_id}/image", rooms.set_image, heavy=True),
    Route("GET", "auth_token_challenge", auth.challenge),
    Route("POST", "claim_auth_token", auth.claim),
    Route("DELETE", "auth_token", auth.revoke),
    Route("POST", "compact_poll", polling.compact_poll),
    Route("GET", "member_count", polling.member_count),
    Route("POST", "messages", messages.post_message),
    Route("GET", "messages", messages.get_messages),
    Route("POST", "delete_messages", messages.delete_batch),
    Route("DELETE", "messages/{server_id}", messages.delete_one),
    Route("GET", "deleted_messages", messages.get_deletions),
    Route("GET", "moderators", moderation.list_moderators),
    Route("POST", "moderators", moderation.add_moderator),
    Route("DELETE", "moderators/{session_id}", moderation.remove_moderator),
    Route("GET", "block_list", moderation.list_bans),
    Route("POST", "block_list", moderation.ban),
    Route("DELETE", "block_list/{session_id}", moderation.unban),
    Route("POST", "ban_and_delete_all", moderation.ban_and_delete_all),
    Route("POST", "files", files.upload, heavy=True),
    Route("GET", "files/{file_id}", files.download, heavy=True),
)


def _index(routes: tuple[Route, ...]) -> dict[tuple[str, int, str], list[Route]]:
    """Routes by (method, segment count, first segment): one dict lookup finds the candidates."""
    index: dict[tuple[str, int, str], list[Route]] = {}
    for route in routes:
        segments = route.segments
        index.setdefault((route.method, len(segments), segments[0]), []).append(route)
    return index


_ROUTE_INDEX = _index(ROUTES)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    segments = path.lstrip("/").split("/")
    for route in _ROUTE_INDEX.get((method, len(segments), segments[0]), ()):
        params: dict[str, str] = {}
        for expected, actual in zip(route.segments, segments, strict=True):
            if expected.startswith("{"):
                params[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                break
        else:
            return route, params
    return None


def is_heavy(request: ApiRequest) -> bool:
    found = match(request.method, request.path)
    return found is not None and found[0].heavy


def dispatch(ctx: ServerContext, request: ApiRequest) -> ApiResponse:
    """Run one request through the table. Never raises: every outcome is a response."""
    started = time.perf_counter()
    pattern: str | None = None
    try:
        found = match(request.method, request.path)
        if found is None:
            raise NotFound(f"no endpoint {request.method} {request.path}")
        route, params = found
        pattern = route.pattern
        response = ApiResponse(200, route.handler(Call(ctx, request, params)))
    except StorageFailure as error:
        # The client is told 507; the operator must hear why (disk full, read-only, locked).
        log.error("storage failure in %s %s: %s", request.method, request.path, error.detail)
        response = ApiResponse(status_for(error), {"error": error.detail})
    except OpenGroupError as error:
        response = ApiResponse(status_for(error), {"error": error.detail})
    except Exception:
        log.exception("internal error in %s %s", request.method, request.path)
        response = ApiResponse(500, {"error": "internal server error"})
    elapsed = time.perf_counter() - started
    record_api_request(pattern, request.method, request.transport, response.status_code, elapsed)
    return response


def headers_from(raw: Mapping[str, object]) -> dict[str, str]:
    """Header names are case-insensitive; Android sends digit-only values as numbers and
    true/false as booleans: turn every value back into the string the client meant."""
    converted: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            continue
        else:
            text = str(value)
        converted[str(name).lower()] = text
    return converted
