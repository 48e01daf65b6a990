"""Errors a client may be told about, as one tree.

    OpenGroupError                 any failure with a meaning for the client
    ├── BadInput          400      malformed or out-of-range input
    ├── Unauthenticated   401      token missing, unknown or expired: clients re-authenticate
    ├── Forbidden         403      valid token, not allowed (banned, not a moderator)
    ├── NotFound          404      unknown room, message or file
    ├── NotAcceptable     406      modern API: a room image that is no file of the room
    ├── TooLarge          413      body or file over its limit
    ├── RateLimited       429      too many posts
    ├── StorageBusy       503      the writers' lock was not free within its bound: retry
    ├── RetryableConflict 503      a deadlock or serialization failure (retried first)
    └── StorageFailure    507      storage really unavailable: disk full, read-only, the
                                   database file or server unreachable or lost

Rules and the store raise these; the API edge turns them into a status code through
`status_for`. Anything else is a bug (a SQL error included): logged with its traceback,
answered with a bare 500.
"""

from __future__ import annotations


class OpenGroupError(Exception):
    """A failure the client may be told about; the message is safe to show."""

    reason = "error"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or self.reason)
        self.detail = detail or self.reason


class BadInput(OpenGroupError):
    reason = "bad request"


class Unauthenticated(OpenGroupError):
    reason = "authentication required"


class Forbidden(OpenGroupError):
    reason = "forbidden"


class NotFound(OpenGroupError):
    reason = "not found"


class NotAcceptable(OpenGroupError):
    """Only the modern API answers 406 (SOGS-API.md 7.2): legacy clients never see it."""

    reason = "not acceptable"


class TooLarge(OpenGroupError):
    reason = "too large"


class RateLimited(OpenGroupError):
    reason = "rate limited"


class StorageFailure(OpenGroupError):
    reason = "storage unavailable"


class StorageBusy(OpenGroupError):
    """Waited the bounded time for the database's writers' lock; nothing was written."""

    reason = "storage busy, retry later"
    retry_after_seconds = 1


class RetryableConflict(OpenGroupError):
    """The database aborted the transaction to resolve a conflict (deadlock, serialization
    failure): nothing was written, and running it again is safe."""

    reason = "conflicting writes, retry later"
    retry_after_seconds = 1


ERROR_STATUS: dict[type[OpenGroupError], int] = {
    BadInput: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    NotAcceptable: 406,
    TooLarge: 413,
    RateLimited: 429,
    StorageBusy: 503,
    RetryableConflict: 503,
    StorageFailure: 507,
}


def status_for(error: OpenGroupError) -> int:
    for cls in type(error).__mro__:
        if cls in ERROR_STATUS:
            return ERROR_STATUS[cls]
    return 500
