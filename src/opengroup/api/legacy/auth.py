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
from opengroup.rules.tokens import (
    hash_token,
    is_pending_token,
    parse_token,
    pending_token,
    pending_window,
)
from opengroup.store import auth as token_store
from opengroup.store import moderation as moderation_store

PENDING_TOKENS = b"pending auth tokens"


def challenge(call: Call) -> Reply:
    """The pending token is derived (rules/tokens.pending_token), never stored: asking again
    in the same window re-issues it, so nobody can evict another user's pending token."""
    ctx = call.ctx
    session_id = parse_session_id(call.request.query.get("public_key"))
    with ctx.db.read() as tx:
        room = access.header_room(call, tx)
        require_not_banned(moderation_store.is_banned(tx, room, session_id))
    secret = ctx.keys.derived_secret(PENDING_TOKENS)
    token = pending_token(secret, room.id, session_id, pending_window(ctx.clock()))
    try:
        ciphertext, ephemeral_public = make_auth_challenge(token, session_public_key(session_id))
    except CryptoError:
        raise BadInput("this session id is not a usable public key") from None
    return {
        "challenge": {
            "ciphertext": base64.b64encode(ciphertext).decode(),
            "ephemeral_public_key": base64.b64encode(ephemeral_public).decode(),
        }
    }


def claim(call: Call) -> Reply:
    ctx = call.ctx
    session_id = parse_session_id(json_object(call.request).get("public_key"))
    token = parse_token(call.request.header("authorization"))
    token_hash = hash_token(token)
    now = ctx.clock()
    with ctx.db.write() as tx:
        room = access.header_room(call, tx)
        record = token_store.find_token(tx, token_hash)
        if record is not None and (record.room_pk != room.pk or record.session_id != session_id):
            raise Unauthenticated("unknown auth token")
        live = record is not None and ctx.token_policy.is_live(
            record.claimed, record.created_at, record.last_used_at, now
        )
        # Not claimed yet (or expired): it must be what a challenge offered in the last windows.
        secret = ctx.keys.derived_secret(PENDING_TOKENS)
        if not live and not is_pending_token(secret, room.id, session_id, token, now):
            raise Unauthenticated("unknown auth token")
        require_not_banned(moderation_store.is_banned(tx, room, session_id))
        if record is None:
            token_store.add_claimed_token(tx, room, session_id, token_hash, now)
        if not live:
            token_store.touch_tokens(tx, [(token_hash, room.pk, session_id)], now)
    return {}


def revoke(call: Call) -> Reply:
    with call.ctx.db.write() as tx:
        access.basic(call, tx)
        token_store.revoke_token(tx, hash_token(parse_token(call.request.header("authorization"))))
    return {}
