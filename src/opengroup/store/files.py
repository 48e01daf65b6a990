"""Files: bytes on disk under DATA_DIR/files/<id>, one row each in the database.

A file and its row appear together or not at all: the bytes go to a temporary name first,
are renamed into place inside the transaction that inserts the row, and are unlinked again if
that transaction fails. A crash between rename and commit leaves a stray file, which
`BlobStore.remove_strays` deletes (only files older than the grace period, so an upload in
flight in another process is never touched).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, func, insert, select

from ..errors import NotFound, StorageFailure
from .database import Database, Tx
from .file_lifetimes import release_previous_image
from .rooms import Room, get_room, set_room_image
from .schema import files
from .schema import rooms as rooms_table

FILE_ID_MIN = 2**31  # Android <= 1.11.12 reads the id as a Long only from 2^31 up
FILE_ID_MAX = 2**53  # Desktop holds ids as JS numbers
_TEMP_PREFIX = ".upload-"
STRAY_GRACE_SECONDS = 600


@dataclass(slots=True)
class FileRecord:
    id: int
    room_pk: int
    size: int
    expires_at: float | None
    filename: str | None = None  # as given at upload (modern API), if any
    created_at: float = 0.0


class BlobStore:
    def head(self, file_id: int, size: int = 16) -> bytes:
        """The first bytes of a stored file (b"" if it is gone): enough to tell its type."""
        try:
            with self.path(file_id).open("rb") as handle:
                return handle.read(size)
        except OSError:
            return b""

    def __init__(self, root: Path) -> None:
        self.root = root

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, file_id: int) -> Path:
        return self.root / str(int(file_id))

    def write_temp(self, content: bytes) -> Path:
        temp = self.root / f"{_TEMP_PREFIX}{secrets.token_hex(8)}"
        try:
            with open(temp, "xb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as error:
            with contextlib.suppress(OSError):
                temp.unlink()
            raise StorageFailure(f"cannot write file: {error.strerror}") from error
        return temp

    def publish(self, temp: Path, file_id: int) -> None:
        os.replace(temp, self.path(file_id))

    def read(self, file_id: int) -> bytes | None:
        try:
            return self.path(file_id).read_bytes()
        except FileNotFoundError:
            return None

    def unlink(self, file_ids: Iterable[int]) -> None:
        for file_id in file_ids:
            with contextlib.suppress(FileNotFoundError):
                self.path(file_id).unlink()

    def names(self) -> list[str]:
        try:
            return os.listdir(self.root)
        except FileNotFoundError:
            return []

    def remove_strays(self, known_ids: set[int], now: float) -> int:
        """Delete files without a row, and abandoned temporaries, past the grace period."""
        removed = 0
        for name in self.names():
            stray = (
                name.startswith(_TEMP_PREFIX) or not name.isdigit() or int(name) not in known_ids
            )
            path = self.root / name
            try:
                if stray and path.is_file() and path.stat().st_mtime < now - STRAY_GRACE_SECONDS:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def store_file(
    db: Database,
    blobs: BlobStore,
    room: Room,
    content: bytes,
    uploader: str | None,
    now: float,
    expires_at: float | None,
    filename: str | None = None,
    check: Callable[[Tx], None] | None = None,
) -> int:
    """Write the bytes and their row atomically; returns the new file id. `check(tx)` runs
    first in the inserting transaction (e.g. a quota: it may raise to refuse the upload)."""
    temp = blobs.write_temp(content)
    file_id = 0
    try:
        with db.write() as tx:
            if check is not None:
                check(tx)
            file_id = _unused_file_id(tx)
            tx.execute(
                insert(files).values(
                    id=file_id,
                    room_pk=room.pk,
                    size=len(content),
                    uploader=uploader,
                    created_at=now,
                    expires_at=expires_at,
                    filename=filename,
                )
            )
            blobs.publish(temp, file_id)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        if file_id:
            blobs.unlink([file_id])
        raise
    return file_id


def _unused_file_id(tx: Tx) -> int:
    while True:
        candidate = FILE_ID_MIN + secrets.randbelow(FILE_ID_MAX - FILE_ID_MIN)
        if tx.execute(select(files.c.id).where(files.c.id == candidate)).first() is None:
            return candidate


def get_file(tx: Tx, room: Room, file_id: int, now: float) -> FileRecord | None:
    """The file `file_id` of this room, unless it has expired (404 at once, before any
    cleaner has run: SOGS-API.md 9)."""
    row = tx.execute(
        select(
            files.c.id,
            files.c.room_pk,
            files.c.size,
            files.c.expires_at,
            files.c.filename,
            files.c.created_at,
        ).where(files.c.id == file_id, files.c.room_pk == room.pk)
    ).first()
    record = FileRecord(*row) if row else None
    if record and record.expires_at is not None and record.expires_at <= now:
        return None
    return record


def all_file_ids(tx: Tx) -> set[int]:
    return set(tx.execute(select(files.c.id)).scalars())


def upload_bytes_since(tx: Tx, room: Room, uploader: str, since: float) -> int:
    """Inside a write transaction, the room's row is locked first (PostgreSQL; SQLite has one
    writer at a time), so that two uploads cannot both pass a quota on this sum."""
    tx.execute(select(rooms_table.c.pk).where(rooms_table.c.pk == room.pk).with_for_update())
    query = select(func.coalesce(func.sum(files.c.size), 0)).where(
        files.c.room_pk == room.pk, files.c.uploader == uploader, files.c.created_at >= since
    )
    return int(tx.execute(query).scalar_one())


def delete_file_rows(tx: Tx, file_ids: Iterable[int]) -> None:
    ids = list(file_ids)
    if ids:
        tx.execute(delete(files).where(files.c.id.in_(ids)))


def expired_file_ids(tx: Tx, now: float, limit: int = 1000) -> list[int]:
    query = (
        select(files.c.id)
        .where(files.c.expires_at.is_not(None), files.c.expires_at <= now)
        .limit(limit)
    )
    return list(tx.execute(query).scalars())


def prune_expired_files(db: Database, blobs: BlobStore, now: float | None = None) -> int:
    """Delete expired files, row first then bytes: a crash in between leaves only a stray."""
    now = time.time() if now is None else now
    removed = 0
    while True:
        with db.write() as tx:
            ids = expired_file_ids(tx, now)
            delete_file_rows(tx, ids)
        blobs.unlink(ids)
        removed += len(ids)
        if len(ids) < 1000:
            return removed


def replace_room_image(
    db: Database,
    blobs: BlobStore,
    room_id: str,
    content: bytes,
    uploader: str | None,
    now: float,
    *,
    previous_expiry_seconds: float | None = None,
) -> int:
    """Store `content` as the room's image (never expiring). The previous image is dropped at
    once, or, given `previous_expiry_seconds`, expires as an ordinary file (SOGS-API.md 9: a
    post may still show it)."""
    with db.read() as tx:
        room = get_room(tx, room_id)
    if room is None:
        raise NotFound("no such room")
    file_id = store_file(db, blobs, room, content, uploader, now, None)
    dropped: list[int] = []
    try:
        with db.write() as tx:
            current = get_room(tx, room_id)
            if current is None:
                raise NotFound("no such room")
            set_room_image(tx, current, file_id)
            previous = current.image_id
            if previous is not None and previous_expiry_seconds is None:
                delete_file_rows(tx, [previous])
                dropped.append(previous)
            elif previous is not None:
                release_previous_image(tx, current, previous, previous_expiry_seconds or 0.0)
    except BaseException:
        with contextlib.suppress(Exception), db.write() as tx:
            delete_file_rows(tx, [file_id])
        blobs.unlink([file_id])
        raise
    blobs.unlink(dropped)
    return file_id
