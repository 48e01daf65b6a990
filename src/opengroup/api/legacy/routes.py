"""The legacy API's routing table (PROTOCOL.md): every v2 endpoint, once. Every transport
dispatches through `LEGACY`."""

from __future__ import annotations

from opengroup.api.legacy import auth, files, messages, moderation, polling, rooms
from opengroup.api.request import ApiRequest, ApiResponse
from opengroup.api.routing import Route, Router
from opengroup.usecases.context import ServerContext

ROUTES: tuple[Route, ...] = (
    Route("GET", "rooms", rooms.list_rooms),
    Route("GET", "rooms/{room_id}", rooms.get_room),
    Route("GET", "rooms/{room_id}/image", rooms.get_image, heavy=True),
    Route("POST", "rooms/{room_id}/image", rooms.set_image, heavy=True, writes=True),
    Route("GET", "auth_token_challenge", auth.challenge),
    Route("POST", "claim_auth_token", auth.claim, writes=True),
    Route("DELETE", "auth_token", auth.revoke, writes=True),
    Route("POST", "compact_poll", polling.compact_poll),
    Route("GET", "member_count", polling.member_count),
    Route("POST", "messages", messages.post_message, writes=True),
    Route("GET", "messages", messages.get_messages),
    Route("POST", "delete_messages", messages.delete_batch, writes=True),
    Route("DELETE", "messages/{server_id}", messages.delete_one, writes=True),
    Route("GET", "deleted_messages", messages.get_deletions),
    Route("GET", "moderators", moderation.list_moderators),
    Route("POST", "moderators", moderation.add_moderator, writes=True),
    Route("DELETE", "moderators/{session_id}", moderation.remove_moderator, writes=True),
    Route("GET", "block_list", moderation.list_bans),
    Route("POST", "block_list", moderation.ban, writes=True),
    Route("DELETE", "block_list/{session_id}", moderation.unban, writes=True),
    Route("POST", "ban_and_delete_all", moderation.ban_and_delete_all, writes=True),
    Route("POST", "files", files.upload, heavy=True, writes=True),
    Route("GET", "files/{file_id}", files.download, heavy=True),
)


def _legacy_success(route: Route, result: object) -> ApiResponse:
    assert isinstance(result, dict), route.pattern
    return ApiResponse(200, result)


def _legacy_failure(status: int, detail: str) -> ApiResponse:
    return ApiResponse(status, {"error": detail})


LEGACY = Router("legacy", ROUTES, _legacy_success, _legacy_failure)


def dispatch(ctx: ServerContext, request: ApiRequest) -> ApiResponse:
    """Run one request through the table (in-process: tests and the CLI's --get)."""
    return LEGACY.dispatch(ctx, request)
