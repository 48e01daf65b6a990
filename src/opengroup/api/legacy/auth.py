"""GET auth_token_challenge, POST claim_auth_token, DELETE auth_token."""

from __future__ import annotations

import base64

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import json_object
from opengroup.api.request import Call, Reply
from opengroup.crypto import CryptoError, make_auth_challenge, session_public_key
from opengroup.errors import BadInput, Unauthenticated
from opengroup.rules.ids import parse_session_id
from opengroup.rules.permissions import require_not_banned
from opengroup.rules.tokens import hash_token, new_token, parse_token
from opengroup.store import auth as token_store
from opengroup.store import moderation as moderation_store


def challenge(call: Call) -> Reply:
    ctx = call.ctx
    session_id = parse_session_id(call.request.query.get("public_key"))
    token = new_token()
    try:
        ciphertext, ephemeral_public = make_auth_challenge(token, session_public_key(session_id))
    except CryptoError:
        raise BadInput("this session id is not a usable public key") from None
    with ctx.db.write() as tx:
        room = access.header_room(call, tx)
        require_not_banned(moderation_store.is_banned(tx, room, session_id))
        token_store.add_pending_token(
            tx, room, session_id, hash_token(token), ctx.clock(), ctx.config.max_pending_tokens
        )
    return {
        "challenge": {
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "ephemeral_public_key": base64.b64encode(ephemeral_public).decode(),
        }
    }


def claim(call: Call) -> Reply:
    ctx = call.ctx
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    token_hash = hash_token(parse_token(call.request.header("authorization")))
    with ctx.db.write() as tx:
        room = access.header_room(call, tx)
        record = token_store.find_token(tx, token_hash)
        if record is None or record.room_pk != room.pk or record.session_id != session_id:
            raise Unauthenticated("unknown auth token")
        require_not_banned(moderation_store.is_banned(tx, room, session_id))
        if not record.claimed:
            if record.created_at + ctx.token_policy.pending_seconds <= ctx.clock():
                raise Unauthenticated("auth token expired before it was claimed")
            token_store.claim_token(tx, token_hash, ctx.clock())
            token_store.touch_tokens(tx, [(token_hash, room.pk, session_id)], ctx.clock())
    return {}


def revoke(call: Call) -> Reply:
    with call.ctx.db.write() as tx:
        access.basic(call, tx)
        token_store.revoke_token(tx, hash_token(parse_token(call.request.header("authorization"))))
    return {}
