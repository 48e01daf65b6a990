"""GET auth_token_challenge, POST claim_auth_token, DELETE auth_token. Parse, call the use case
(usecases/legacy_tokens.py), shape."""

from __future__ import annotations

import base64

from opengroup.api.legacy.headers import room_header, token_header
from opengroup.api.legacy.parsing import json_object
from opengroup.api.request import Call, Reply
from opengroup.rules.ids import parse_session_id
from opengroup.rules.tokens import parse_token
from opengroup.usecases import legacy_tokens


def challenge(call: Call) -> Reply:
    session_id = parse_session_id(call.request.query.get("public_key"))
    offered = legacy_tokens.challenge(call.ctx, room_header(call), session_id)
    return {
        "challenge": {
            "ciphertext": base64.b64encode(offered.ciphertext).decode(),
            "ephemeral_public_key": base64.b64encode(offered.ephemeral_public_key).decode(),
        }
    }


def claim(call: Call) -> Reply:
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    # The token's form is checked before the Room header (a 401 before a 400, as always).
    token = parse_token(token_header(call))
    legacy_tokens.claim(call.ctx, room_header(call), session_id, token)
    return {}


def revoke(call: Call) -> Reply:
    legacy_tokens.revoke(call.ctx, room_header(call), token_header(call))
    return {}
