"""Auth tokens: 48 random bytes, sent as lowercase hex, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ..errors import Unauthenticated

TOKEN_BYTES = 48
PENDING_TOKEN_SECONDS = 600
# Writing "last used" on every poll would make each poll a write; once per interval is enough
# to keep a 7-day expiry and a 7-day member count accurate.
TOKEN_TOUCH_INTERVAL_SECONDS = 300


def new_token() -> bytes:
    return secrets.token_bytes(TOKEN_BYTES)


def pending_token(secret: bytes, room_id: str, session_id: str, window: int) -> bytes:
    """The token a challenge offers `session_id` in `room_id` during one PENDING_TOKEN_SECONDS
    window. Derived, not stored: asking again re-issues the same token (nobody can evict a
    user's pending token by asking for challenges in their name), and challenges for invented
    ids store nothing. Only the id's owner can decrypt the challenge that carries it."""
    message = f"{room_id}\0{session_id}\0{window}".encode()
    return hmac.digest(secret, message, "sha384")


def pending_window(now: float) -> int:
    return int(now // PENDING_TOKEN_SECONDS)


def is_pending_token(
    secret: bytes, room_id: str, session_id: str, token: bytes, now: float
) -> bool:
    """Whether `token` is the one offered in this window or the last: a challenge can be
    claimed for 10 to 20 minutes."""
    window = pending_window(now)
    return any(
        hmac.compare_digest(token, pending_token(secret, room_id, session_id, w))
        for w in (window, window - 1)
    )


def hash_token(token: bytes) -> bytes:
    return hashlib.sha256(token).digest()


def parse_token(value: str | None) -> bytes:
    """The Authorization header's hex token as bytes; 401 when missing or malformed.

    bytes.fromhex instead of a regex: every room of every poll comes through here."""
    if not value or len(value) != 2 * TOKEN_BYTES:
        raise Unauthenticated("missing or malformed auth token")
    try:
        token = bytes.fromhex(value)
    except ValueError:
        raise Unauthenticated("missing or malformed auth token") from None
    if len(token) != TOKEN_BYTES:  # fromhex skips whitespace between bytes
        raise Unauthenticated("missing or malformed auth token")
    return token


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    expiry_seconds: float
    pending_seconds: float = PENDING_TOKEN_SECONDS

    def is_live(self, claimed: bool, created_at: float, last_used_at: float, now: float) -> bool:
        """A claimed token lives until unused for the expiry; a pending one for 10 minutes."""
        if claimed:
            return last_used_at + self.expiry_seconds > now
        return created_at + self.pending_seconds > now

    def needs_touch(self, last_used_at: float, now: float) -> bool:
        # A short expiry (tests, strict operators) needs "last used" refreshed well within it.
        interval = min(TOKEN_TOUCH_INTERVAL_SECONDS, self.expiry_seconds / 4)
        return last_used_at + interval <= now
