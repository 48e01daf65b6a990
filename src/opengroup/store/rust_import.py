"""Reading a Rust-era server's data directory (session-open-group-server 0.1.x) and writing it
into this server's database and files. The layout is in ../shared/spec/rust-0.1-schema.sql.

Ids stay what they were: room ids (unless the operator renames one), message server_ids
(per room, as here), deletion ids (the cursor clients poll with) and file ids. The room
counters are set to the highest imported ids, so new posts continue after them; seqnos are
given as migration 0002 gives them (message seqno = highest deletion id + server_id, the room's
counter after the highest), so a new deletion's id, its seqno, is above every imported one.

Everything is written in one transaction; file bytes are staged first and unlinked again if
that transaction fails. Session IDs are checked by a function the caller passes in (the rules
live outside the store).
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from .database import Database, Tx, dialect_insert, insert_ignoring_duplicates
from .files import FILE_ID_MAX, FILE_ID_MIN, BlobStore
from .messages import posted_of_ms
from .schema import (
    bans,
    deletions,
    files,
    messages,
    moderators,
    rooms,
    server_meta,
    tokens,
    user_activity,
)

BATCH = 1000
MAX_DB_INTEGER = 2**63 - 1
# Rust-era timestamps are seconds, but some versions wrote milliseconds: past this it is ms.
_SECONDS_CEILING = 10_000_000_000
ROOM_TABLES = (
    "messages",
    "deleted_messages",
    "moderators",
    "block_list",
    "tokens",
    "files",
    "user_activity",
)

SessionIdCheck = Callable[[object], str | None]  # a valid, lowercased Session ID or None
TokenHash = Callable[[bytes], bytes]  # how tokens are stored (rules.tokens.hash_token)


class RustImportError(RuntimeError):
    """The Rust data directory cannot be read as one."""


@dataclass(frozen=True, slots=True)
class RustRoom:
    rust_id: str  # the id in the Rust server: its rooms/<id>.db and files/<id>_files/
    room_id: str  # the id here (the same unless renamed)
    name: str
    db_path: Path
    files_dir: Path
    image_path: Path | None


@dataclass(slots=True)
class RoomReport:
    room_id: str
    rust_id: str
    messages: int = 0
    deleted_messages: int = 0
    deletions: int = 0
    files: int = 0
    file_bytes: int = 0
    image: bool = False
    moderators: int = 0
    bans: int = 0
    tokens: int = 0
    users: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def as_seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = float(value)
    return seconds / 1000 if seconds > _SECONDS_CEILING else seconds


# -- reading the Rust directory ------------------------------------------------------------------


def open_readonly(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as error:
        raise RustImportError(f"cannot read {path} as an SQLite database: {error}") from error
    return conn


def read_room_list(source: Path) -> list[tuple[str, str]]:
    """(id, name) of every room in database.db's `main` table."""
    path = source / "database.db"
    if not path.is_file():
        raise RustImportError(
            f"{source} has no database.db: not the data directory of a Rust-era server"
        )
    conn = open_readonly(path)
    try:
        rows = conn.execute("SELECT id, name FROM main ORDER BY id").fetchall()
    except sqlite3.Error as error:
        raise RustImportError(f"{path}: no readable table 'main' ({error})") from error
    finally:
        conn.close()
    return [(str(room_id), str(name) if name else str(room_id)) for room_id, name in rows]


# -- the target must be new ------------------------------------------------------------------


def existing_data(tx: Tx) -> list[str]:
    """What this server already holds that an import would mix with (empty: may import).

    An empty room `main` (created on first start) does not count: the import replaces it.
    """
    found = []
    for label, table in (
        ("messages", messages),
        ("files", files),
        ("auth tokens", tokens),
        ("moderators", moderators),
        ("bans", bans),
        ("active users", user_activity),
    ):
        count = int(tx.execute(select(func.count()).select_from(table)).scalar_one())
        if count:
            found.append(f"{count} {label}")
    room_ids = list(tx.execute(select(rooms.c.id).order_by(rooms.c.id)).scalars())
    others = [room_id for room_id in room_ids if room_id != "main"]
    if others:
        found.append("rooms " + ", ".join(others))
    return found


# -- writing -----------------------------------------------------------------------------------


def _rows(conn: sqlite3.Connection, table: str, query: str) -> Iterator[tuple[Any, ...]]:
    try:
        yield from conn.execute(query)
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return
        raise RustImportError(f"cannot read table {table}: {error}") from error


def _batched(tx: Tx, table: Any, rows: Iterator[dict[str, Any]]) -> int:
    count, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            tx.execute(insert(table), batch)
            count, batch = count + len(batch), []
    if batch:
        tx.execute(insert(table), batch)
        count += len(batch)
    return count


@dataclass(slots=True)
class _Staged:
    """File bytes written during the import: unlinked again if the transaction fails."""

    blobs: BlobStore
    published: list[int] = field(default_factory=list)

    def add(self, file_id: int, source: Path) -> int:
        temp = self.blobs.write_temp(source.read_bytes())
        try:
            size = temp.stat().st_size
            self.blobs.publish(temp, file_id)
        except BaseException:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise
        self.published.append(file_id)
        return size

    def undo(self) -> None:
        self.blobs.unlink(self.published)


def import_rooms(
    db: Database,
    blobs: BlobStore,
    sources: Sequence[RustRoom],
    now: float,
    file_expiry_seconds: float,
    session_id: SessionIdCheck,
    token_hash: TokenHash,
) -> list[RoomReport]:
    """Import every room in one transaction; refuses (RustImportError) if data appeared."""
    staged = _Staged(blobs)
    try:
        with db.write() as tx:
            already = existing_data(tx)
            if already:
                raise RustImportError("this server already has data: " + ", ".join(already))
            tx.execute(delete(rooms).where(rooms.c.id == "main"))  # empty: existing_data
            insert_ignoring_duplicates(
                tx, server_meta, {"key": "initialised", "value": str(now)}
            )  # room 'main' is not to be created on the next start
            used_ids = {int(i) for i in tx.execute(select(files.c.id)).scalars()}
            checks = _Checks(session_id, token_hash, now, file_expiry_seconds)
            reports = [_import_room(tx, staged, source, checks, used_ids) for source in sources]
    except BaseException:
        staged.undo()
        raise
    return reports


@dataclass(frozen=True, slots=True)
class _Checks:
    session_id: SessionIdCheck
    token_hash: TokenHash
    now: float
    file_expiry_seconds: float


def _import_room(
    tx: Tx, staged: _Staged, source: RustRoom, checks: _Checks, used_file_ids: set[int]
) -> RoomReport:
    now = checks.now
    report = RoomReport(source.room_id, source.rust_id)
    room_pk = int(
        tx.execute(
            insert(rooms)
            .values(id=source.room_id, name=source.name, created_at=now)
            .returning(rooms.c.pk)
        ).scalar_one()
    )
    conn = open_readonly(source.db_path)
    try:
        message_seq = _import_messages(tx, conn, room_pk, report, checks.session_id)
        deletion_seq = _import_deletions(tx, conn, room_pk, report)
        tx.execute(
            update(rooms)
            .where(rooms.c.pk == room_pk)
            .values(
                message_seq=message_seq,
                deletion_seq=deletion_seq,
                seqno=deletion_seq + message_seq,
            )
        )
        tx.execute(  # imported with seqnos = server_id: move them above the deletion ids
            update(messages)
            .where(messages.c.room_pk == room_pk)
            .values(
                seqno=messages.c.server_id + deletion_seq,
                seqno_data=messages.c.server_id + deletion_seq,
                seqno_creation=messages.c.server_id + deletion_seq,
            )
        )
        _import_people(tx, conn, room_pk, report, checks)
        _import_files(tx, conn, staged, source, room_pk, report, checks, used_file_ids)
    finally:
        conn.close()
    if source.image_path is not None and source.image_path.is_file():
        image_id = _new_file_id(used_file_ids)
        size = staged.add(image_id, source.image_path)
        tx.execute(
            insert(files).values(
                id=image_id,
                room_pk=room_pk,
                size=size,
                uploader=None,
                created_at=now,
                expires_at=None,
            )
        )
        tx.execute(update(rooms).where(rooms.c.pk == room_pk).values(image_id=image_id))
        report.image = True
    return report


def _import_messages(
    tx: Tx, conn: sqlite3.Connection, room_pk: int, report: RoomReport, session_id: SessionIdCheck
) -> int:
    """Messages with their ids; deleted ones (is_deleted, or named by a deletion) as deleted
    rows without content. Returns the highest id."""
    deleted_ids = {
        int(row[0])
        for row in _rows(
            conn, "deleted_messages", "SELECT deleted_message_id FROM deleted_messages"
        )
        if isinstance(row[0], int)
    }
    highest = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal highest
        query = (
            "SELECT id, public_key, timestamp, data, signature, is_deleted FROM messages "
            "ORDER BY id"
        )
        for server_id, public_key, timestamp, data, signature, is_deleted in _rows(
            conn, "messages", query
        ):
            if not isinstance(server_id, int) or not 0 < server_id <= MAX_DB_INTEGER:
                report.skip("message with an unusable id")
                continue
            highest = max(highest, server_id)
            sender = session_id(public_key)
            deleted = bool(is_deleted) or server_id in deleted_ids
            if not deleted and (
                sender is None or not isinstance(data, str) or not isinstance(signature, str)
            ):
                report.skip("message without sender, data or signature: imported as deleted")
                deleted = True
            when = timestamp if isinstance(timestamp, int) and not deleted else 0
            if deleted:
                report.deleted_messages += 1
            else:
                report.messages += 1
            yield {
                "room_pk": room_pk,
                "server_id": server_id,
                "session_id": sender or "",
                "timestamp": when,
                "data": "" if deleted else data,
                "signature": "" if deleted else signature,
                "deleted": deleted,
                "seqno": server_id,
                "seqno_data": server_id,
                "seqno_creation": server_id,
                "posted": posted_of_ms(when),
            }

    _batched(tx, messages, rows())
    return highest


def _import_deletions(tx: Tx, conn: sqlite3.Connection, room_pk: int, report: RoomReport) -> int:
    """Deletion rows with their ids (a message may be named twice: kept, as clients saw it)."""
    highest = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal highest
        query = "SELECT id, deleted_message_id FROM deleted_messages ORDER BY id"
        for deletion_id, message_id in _rows(conn, "deleted_messages", query):
            if not isinstance(deletion_id, int) or not isinstance(message_id, int):
                report.skip("deletion with an unusable id")
                continue
            highest = max(highest, deletion_id)
            yield {"room_pk": room_pk, "id": deletion_id, "message_id": message_id}

    report.deletions = _batched(tx, deletions, rows())
    return highest


def _import_people(
    tx: Tx,
    conn: sqlite3.Connection,
    room_pk: int,
    report: RoomReport,
    checks: _Checks,
) -> None:
    session_id, now = checks.session_id, checks.now
    for table, target in (("moderators", moderators), ("block_list", bans)):
        seen: set[str] = set()
        for (public_key,) in _rows(conn, table, f"SELECT public_key FROM {table}"):
            sender = session_id(public_key)
            if sender is None:
                report.skip(f"{table} entry with an invalid session id")
            elif sender not in seen:
                seen.add(sender)
                tx.execute(
                    insert(target).values(room_pk=room_pk, session_id=sender, named_as=sender)
                )
        if table == "moderators":
            report.moderators = len(seen)
        else:
            report.bans = len(seen)

    # Claimed tokens, stored as SHA-256 of the token bytes like ours: clients stay logged in.
    # Their "last used" is the import, so each lives token_expiry_days from now unless used.
    for public_key, timestamp, token in _rows(
        conn, "tokens", "SELECT public_key, timestamp, token FROM tokens"
    ):
        sender = session_id(public_key)
        token_bytes = _token_bytes(token)
        if sender is None or token_bytes is None:
            report.skip("token with an invalid session id or value")
            continue
        created = as_seconds(timestamp) or now
        result = tx.execute(
            dialect_insert(tx, tokens)
            .values(
                token_hash=checks.token_hash(token_bytes),
                room_pk=room_pk,
                session_id=sender,
                claimed=True,
                created_at=min(created, now),
                last_used_at=now,
            )
            .on_conflict_do_nothing()
        )
        report.tokens += int(result.rowcount or 0)

    activity: dict[str, float] = {}
    for public_key, last_active in _rows(
        conn, "user_activity", "SELECT public_key, last_active FROM user_activity"
    ):
        sender, seconds = session_id(public_key), as_seconds(last_active)
        if sender is None or seconds is None:
            report.skip("user_activity entry with an invalid session id or time")
            continue
        activity[sender] = max(activity.get(sender, 0.0), min(seconds, now))
    report.users = _batched(
        tx,
        user_activity,
        (
            {"room_pk": room_pk, "session_id": sender, "last_active": seconds}
            for sender, seconds in activity.items()
        ),
    )


def _token_bytes(token: object) -> bytes | None:
    if isinstance(token, bytes):
        token = token.decode("ascii", errors="replace")
    if not isinstance(token, str) or not token:
        return None
    try:
        return bytes.fromhex(token)
    except ValueError:
        return None


def _import_files(
    tx: Tx,
    conn: sqlite3.Connection,
    staged: _Staged,
    source: RustRoom,
    room_pk: int,
    report: RoomReport,
    checks: _Checks,
    used_ids: set[int],
) -> None:
    now, file_expiry_seconds = checks.now, checks.file_expiry_seconds
    for raw_id, timestamp in _rows(conn, "files", "SELECT id, timestamp FROM files"):
        try:
            file_id = int(str(raw_id).strip())
        except ValueError:
            report.skip("file with a non-numeric id")
            continue
        if not 0 < file_id <= MAX_DB_INTEGER:
            report.skip("file with an id out of range")
            continue
        uploaded = as_seconds(timestamp)
        if uploaded is None:
            report.skip("file without a timestamp")
            continue
        expires_at = uploaded + file_expiry_seconds
        if expires_at <= now:
            report.skip("file already expired")
            continue
        path = source.files_dir / str(raw_id).strip()
        if not path.is_file():
            report.skip("file row without its bytes")
            continue
        if file_id in used_ids:
            report.skip("file id already used by another room")
            continue
        used_ids.add(file_id)
        size = staged.add(file_id, path)
        tx.execute(
            insert(files).values(
                id=file_id,
                room_pk=room_pk,
                size=size,
                uploader=None,
                created_at=uploaded,
                expires_at=expires_at,
            )
        )
        report.files += 1
        report.file_bytes += size


def _new_file_id(used: set[int]) -> int:
    while True:
        candidate = FILE_ID_MIN + secrets.randbelow(FILE_ID_MAX - FILE_ID_MIN)
        if candidate not in used:
            used.add(candidate)
            return candidate
