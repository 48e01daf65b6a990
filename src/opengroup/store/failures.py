"""What a database error means for the client: the one place that sorts driver errors.

- StorageFailure (507): the storage is really unavailable: disk full, read-only, the file
  or the server unreachable, the connection lost.
- StorageBusy (503): a lock or a pool connection was not free within its bound.
- RetryableConflict (503 once retries are spent): the database aborted the transaction to
  resolve a conflict (deadlock, serialization failure); the router runs the handler again.
- None: anything else (a SQL typo, a constraint the code should have prevented) is a bug:
  the original error goes on, and the client gets a 500 with the traceback in the log.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sqlalchemy_errors

from ..errors import OpenGroupError, RetryableConflict, StorageBusy, StorageFailure

_SQLITE_UNAVAILABLE = (
    "disk is full",
    "readonly database",
    "unable to open database",
    "disk i/o error",
    "database disk image is malformed",
    "file is not a database",
)
_SQLITE_BUSY = ("database is locked", "database table is locked")
# PostgreSQL SQLSTATEs: 40001 serialization failure, 40P01 deadlock; 55P03 lock not
# available; class 08 connection exceptions, 53 insufficient resources (53100 disk full),
# 57P01-57P03 the server shutting down or not accepting connections, 25006 read-only.
_PG_CONFLICT = ("40001", "40P01")
_PG_BUSY = ("55P03",)
_PG_UNAVAILABLE_PREFIXES = ("08", "53", "57P", "25006", "58")


def classify(error: BaseException) -> OpenGroupError | None:
    """The client-facing error for a database error, or None for a bug."""
    if isinstance(error, OpenGroupError):
        return error
    if isinstance(error, sqlalchemy_errors.TimeoutError):
        return StorageBusy("database busy: no connection free in time")
    original = (
        getattr(error, "orig", None) if isinstance(error, sqlalchemy_errors.DBAPIError) else None
    )
    cause = original if isinstance(original, BaseException) else error
    if isinstance(cause, sqlite3.Error):
        return _classify_sqlite(cause)
    return _classify_postgres(cause, disconnected=_is_disconnect(error))


def _classify_sqlite(error: sqlite3.Error) -> OpenGroupError | None:
    text = str(error).lower()
    if any(marker in text for marker in _SQLITE_BUSY):
        return StorageBusy(f"database busy: {error}")
    if any(marker in text for marker in _SQLITE_UNAVAILABLE):
        return StorageFailure(f"database unavailable: {error}")
    return None


def _is_disconnect(error: BaseException) -> bool:
    return isinstance(error, sqlalchemy_errors.DBAPIError) and bool(error.connection_invalidated)


def _classify_postgres(error: BaseException, *, disconnected: bool) -> OpenGroupError | None:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if not isinstance(error, psycopg.Error):
        return None
    state = error.sqlstate or ""
    if state in _PG_CONFLICT:
        return RetryableConflict(f"database conflict: {state} {error}".strip())
    if state in _PG_BUSY:
        return StorageBusy(f"database busy: {error}")
    if (
        disconnected
        or state.startswith(_PG_UNAVAILABLE_PREFIXES)
        or (not state and isinstance(error, psycopg.OperationalError))
    ):
        return StorageFailure(f"database unavailable: {error}")
    return None
