"""Who signed a modern request (SOGS-API.md 3-4): the X-SOGS checks with the outcomes of
§3.4's order, the nonce, and the user record. Nothing is written before the signature has
verified; a signed request takes one write transaction and nothing else."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opengroup.crypto.blinding import root_session_id
from opengroup.crypto.request_auth import (
    BANNED_TEXT,
    NONCE_REUSED_TEXT,
    TIMESTAMP_WINDOW,
    SogsAuthError,
    parse_sogs_credentials,
    signed_path,
    verify_request_signature,
)
from opengroup.store import moderation as moderation_store
from opengroup.store import users as user_store
from opengroup.usecases.context import ServerContext

# A nonce is kept until its request can no longer be accepted, plus this margin (§3.5).
NONCE_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class SignedUser:
    """The signer of a request: the id it signed as (15, or 05 for a 00 key) and its root
    05 id, by which bans, moderator grants and rate limits are keyed (§4.4)."""

    session_id: str
    root: str

    @property
    def blinded(self) -> bool:
        return not self.session_id.startswith("05")


def root_of(ctx: ServerContext, session_id: str) -> str:
    """The 05 id behind a 05 or 15 id (exact, §4.3); raises InvalidSessionId."""
    return root_session_id(session_id, ctx.keys.public)


def authenticate(
    ctx: ServerContext,
    headers: Mapping[str, str],
    method: str,
    endpoint: str,
    body: bytes,
) -> SignedUser | None:
    """The request's signer, or None when it carries no X-SOGS headers. Raises SogsAuthError
    with the exact status and text of the first §3.4 row that fails."""
    now = ctx.clock()
    credentials = parse_sogs_credentials(
        headers, now=now, blinding_required=ctx.config.require_blind_keys
    )
    if credentials is None:
        return None
    root = root_of(ctx, credentials.session_id)
    try:
        path, raw_query = signed_path(endpoint)
        verify_request_signature(credentials, ctx.keys.public, method, path, raw_query, body)
    except SogsAuthError:
        # Row 10 comes before row 11: a banned user's bad signature is still "Banned".
        with ctx.db.read_raw() as rtx:
            if moderation_store.is_globally_banned(rtx, root):
                raise SogsAuthError(403, BANNED_TEXT) from None
        raise
    # The signature is good (checked outside the writers' lock): the ban (row 10), the nonce
    # (row 12) and, on the signer's first request in this process, the user record in one
    # write transaction; later requests' last_active is recorded late (token_caches). A
    # banned user's request writes nothing, as if refused before its signature was looked at.
    expires = max(now, credentials.timestamp) + TIMESTAMP_WINDOW + NONCE_MARGIN_SECONDS
    session_id = credentials.session_id
    known = ctx.signers.row_known(session_id)
    with ctx.db.write_raw() as rtx:
        if moderation_store.is_globally_banned(rtx, root):
            raise SogsAuthError(403, BANNED_TEXT)
        if not user_store.record_nonce(rtx, session_id, credentials.nonce, expires):
            raise SogsAuthError(425, NONCE_REUSED_TEXT)
        if not known:
            user_store.upsert_user_seen(rtx, session_id, root, now)
    if known:
        ctx.signers.seen(session_id, now)  # last_active, written with the next flush
    else:
        ctx.signers.row_written(session_id)
    return SignedUser(session_id, root)
