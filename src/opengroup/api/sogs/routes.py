"""The modern API's routing table (SOGS-API.md 7): every endpoint, once. Requests that carry
X-SOGS headers are authenticated before their handler runs (§3); a batch's sub-requests
inherit the batch's signer."""

from __future__ import annotations

from opengroup.api.request import RETRY_SOON, ApiRequest, Call
from opengroup.api.routing import Route, Router
from opengroup.api.sogs import (
    batch,
    capabilities,
    files,
    inbox,
    messages,
    permissions,
    pins,
    reactions,
    rooms,
    users,
)
from opengroup.api.sogs.replies import Created, Raw, SogsReply, json_reply, text_reply
from opengroup.crypto.request_auth import SogsAuthError
from opengroup.usecases.context import ServerContext
from opengroup.usecases.identity import authenticate


def _batch(call: Call) -> object:
    return batch.run_batch(call, lambda sub: SOGS.dispatch(call.ctx, sub), stop_at_failure=False)


def _sequence(call: Call) -> object:
    return batch.run_batch(call, lambda sub: SOGS.dispatch(call.ctx, sub), stop_at_failure=True)


ROUTES: tuple[Route, ...] = (
    Route("GET", "capabilities", capabilities.get_capabilities),
    Route("POST", "batch", _batch, writes=True),
    Route("POST", "sequence", _sequence, writes=True),
    Route("GET", "rooms", rooms.list_rooms),
    Route("GET", "room/{room}", rooms.get_room),
    Route("PUT", "room/{room}", rooms.update_room, writes=True),
    Route("GET", "room/{room}/pollInfo/{info_updates}", rooms.poll_info),
    Route("GET", "room/{room}/messages/since/{seqno}", messages.since),
    Route("GET", "room/{room}/messages/recent", messages.recent),
    Route("GET", "room/{room}/messages/before/{id}", messages.before),
    Route("GET", "room/{room}/message/{id}", messages.get_one),
    Route("POST", "room/{room}/message", messages.post, writes=True),
    Route("PUT", "room/{room}/message/{id}", messages.edit, writes=True),
    Route("DELETE", "room/{room}/message/{id}", messages.delete, writes=True),
    Route("PUT", "room/{room}/reaction/{id}/{emoji:path}", reactions.add, writes=True),
    Route("DELETE", "room/{room}/reaction/{id}/{emoji:path}", reactions.remove, writes=True),
    Route("DELETE", "room/{room}/reactions/{id}", reactions.clear, writes=True),
    Route("DELETE", "room/{room}/reactions/{id}/{emoji:path}", reactions.clear, writes=True),
    Route("GET", "room/{room}/reactors/{id}/{emoji:path}", reactions.list_reactors),
    Route("DELETE", "room/{room}/all/{session_id}", users.delete_all, writes=True),
    Route("POST", "user/{session_id}/ban", users.ban, writes=True),
    Route("POST", "user/{session_id}/unban", users.unban, writes=True),
    Route("POST", "user/{session_id}/moderator", users.moderator, writes=True),
    Route("GET", "room/{room}/permissions", permissions.list_all),
    Route("GET", "room/{room}/permissions/{session_id}", permissions.get_one),
    Route("POST", "room/{room}/permissions/{session_id}", permissions.set_one, writes=True),
    Route("POST", "room/{room}/pin/{id}", pins.pin, writes=True),
    Route("POST", "room/{room}/unpin/all", pins.unpin_all, writes=True),
    Route("POST", "room/{room}/unpin/{id}", pins.unpin, writes=True),
    Route("POST", "room/{room}/file", files.upload, heavy=True, writes=True),
    Route("GET", "room/{room}/file/{id}", files.download, heavy=True),
    Route("GET", "room/{room}/file/{id}/{name:path}", files.download, heavy=True),
    Route("POST", "inbox/{session_id}", inbox.send, writes=True),
    Route("GET", "inbox", inbox.inbox),
    Route("GET", "inbox/since/{id}", inbox.inbox_since),
    Route("GET", "outbox", inbox.outbox),
    Route("GET", "outbox/since/{id}", inbox.outbox_since),
    Route("DELETE", "inbox", inbox.clear, writes=True),
)


def _success(route: Route, result: object) -> SogsReply:
    if isinstance(result, SogsReply):
        return result
    if isinstance(result, Raw):
        return SogsReply(result.status_code, result.content_type, result.body, result.headers)
    if isinstance(result, Created):
        return json_reply(result.value, 201)
    return json_reply(result)


def _failure(status: int, detail: str) -> SogsReply:
    # 503: the writers' lock or a conflict; the client may try again at once.
    return text_reply(status, detail, RETRY_SOON if status == 503 else None)


def _authenticate(ctx: ServerContext, request: ApiRequest) -> SogsReply | None:
    """§3.4 before the endpoint, once per request (a batch's items inherit its result)."""
    if request.authenticated:
        return None
    endpoint = "/" + request.path + ("?" + request.raw_query if request.raw_query else "")
    try:
        request.user = authenticate(
            ctx, request.headers, request.method, endpoint, request.body or b""
        )
    except SogsAuthError as error:
        return text_reply(error.status, error.text)
    request.authenticated = True
    return None


SOGS = Router("sogs", ROUTES, _success, _failure, prepare=_authenticate)
