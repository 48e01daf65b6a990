"""The modern API's routing table (SOGS-API.md 7): every endpoint, once."""

from __future__ import annotations

from opengroup.api.routing import Route, Router
from opengroup.api.sogs import capabilities
from opengroup.api.sogs.replies import Created, Raw, SogsReply, json_reply, text_reply

ROUTES: tuple[Route, ...] = (Route("GET", "capabilities", capabilities.get_capabilities),)


def _success(route: Route, result: object) -> SogsReply:
    if isinstance(result, SogsReply):
        return result
    if isinstance(result, Raw):
        return SogsReply(result.status_code, result.content_type, result.body, result.headers)
    if isinstance(result, Created):
        return json_reply(result.value, 201)
    return json_reply(result)


def _failure(status: int, detail: str) -> SogsReply:
    return text_reply(status, detail)


SOGS = Router("sogs", ROUTES, _success, _failure)
