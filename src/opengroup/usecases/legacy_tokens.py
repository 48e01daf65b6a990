"""Auth tokens of the 2021 API (PROTOCOL.md 3): a challenge that only the Session ID's
owner can open, the claim of the token it carries, and its revocation. The modern API has no
tokens (every request is signed), so nothing here is shared with it.

A pending token is derived (rules/tokens.pending_token), never stored: asking again in the
same window re-issues it, so nobody can evict another user's pending token, and challenges
for invented ids store nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from opengroup.crypto import CryptoError, make_auth_challenge, session_public_key
from opengroup.errors import BadInput, Unauthenticated
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
from opengroup.usecases.context import ServerContext
from opengroup.usecases.legacy_access import find_room, member, token_hash_of

PENDING_TOKENS = b"pending auth tokens"


@dataclass(frozen=True, slots=True)
class Challenge:
    """The pending token, encrypted to the Session ID's key with a one-time key."""

    ciphertext: bytes
    ephemeral_public_key: bytes


def challenge(ctx: ServerContext, room_id: str, session_id: str) -> Challenge:
    """404 for no such room, 403 for a user banned from it, 400 for an id that is no key."""
    with ctx.db.read() as tx:
        room = find_room(tx, room_id)
        require_not_banned(moderation_store.is_banned(tx, room, session_id))
    secret = ctx.keys.derived_secret(PENDING_TOKENS)
    token = pending_token(secret, room.id, session_id, pending_window(ctx.clock()))
    try:
        ciphertext, ephemeral_public = make_auth_challenge(token, session_public_key(session_id))
    except CryptoError:
        raise BadInput("this session id is not a usable public key") from None
    return Challenge(ciphertext, ephemeral_public)


def claim(ctx: ServerContext, room_id: str, session_id: str, token: bytes) -> None:
    """The token becomes `session_id`'s in the room: one a challenge offered in the last
    windows, or one they claimed already (claiming twice is a no-op that keeps it alive).
    401 for any other token, so no reply tells whether a token exists."""
    token_hash = hash_token(token)
    now = ctx.clock()
    with ctx.db.write() as tx:
        room = find_room(tx, room_id)
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


def revoke(ctx: ServerContext, room_id: str, token: str | None) -> None:
    """The caller's own token of the room stops working (401 unless it works now)."""
    with ctx.db.write() as tx:
        member(ctx, tx, room_id, token_hash_of(token))
        token_store.revoke_token(tx, hash_token(parse_token(token)))
