"""GET /capabilities (SOGS-API.md 7.1)."""

from __future__ import annotations

import orjson

from opengroup.api.request import Call
from opengroup.api.sogs.replies import JSON, SogsReply


def server_capabilities(blinding_required: bool) -> list[str]:
    return sorted({"sogs", "reactions", *(("blind",) if blinding_required else ())})


def get_capabilities(call: Call) -> object:
    have = server_capabilities(call.ctx.config.require_blind_keys)
    required = call.request.query.get("required")
    if required:
        missing = [name for name in required.split(",") if name and name not in have]
        if missing:
            return SogsReply(412, JSON, orjson.dumps({"capabilities": have, "missing": missing}))
    return {"capabilities": have}
