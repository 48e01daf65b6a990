"""Copying the database for `opengroup backup` and `opengroup restore`.

SQLite is copied with its online backup API in one step: the copy is one consistent snapshot
(in WAL mode the server keeps writing meanwhile). The copy is then switched out of WAL mode,
so a backup's database is a single self-contained file, and checked with `quick_check`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from .database import SQLITE_BUSY_TIMEOUT_MS, Database, normalise_url
from .files import all_file_ids
from .schema import files, messages, rooms


class BackupFailed(RuntimeError):
    """The database could not be copied, or the copy is damaged."""


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for other databases (and in-memory SQLite)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def copy_sqlite(source: Path, dest: Path) -> None:
    """A consistent copy of the live database `source` at `dest` (which must not exist)."""
    if not source.is_file():
        raise BackupFailed(f"database {source} does not exist")
    if dest.exists():
        raise BackupFailed(f"{dest} already exists")
    src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)  # pages=-1: the whole database in one step, under one read lock
            dst.execute("PRAGMA journal_mode = DELETE")
            verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    except sqlite3.Error as error:
        dest.unlink(missing_ok=True)
        raise BackupFailed(f"cannot copy database {source}: {error}") from error
    finally:
        src.close()
    if verdict != "ok":
        raise BackupFailed(f"the copy of {source} fails its integrity check: {verdict}")


def _connect_copy(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def file_sizes_in_copy(path: Path) -> dict[int, int]:
    """Every file row of a copied database: id -> size."""
    conn = _connect_copy(path)
    try:
        query = f"SELECT {files.c.id.name}, {files.c.size.name} FROM {files.name}"
        return {int(file_id): int(size) for file_id, size in conn.execute(query)}
    finally:
        conn.close()


def drop_files_from_copy(path: Path, file_ids: set[int]) -> None:
    """Forget files whose bytes could not be copied (deleted by the server meanwhile)."""
    if not file_ids:
        return
    conn = _connect_copy(path)
    try:
        conn.execute("BEGIN")
        for file_id in file_ids:
            conn.execute(
                f"UPDATE {rooms.name} SET {rooms.c.image_id.name} = NULL "
                f"WHERE {rooms.c.image_id.name} = ?",
                (file_id,),
            )
            conn.execute(f"DELETE FROM {files.name} WHERE {files.c.id.name} = ?", (file_id,))
        conn.execute("COMMIT")
    finally:
        conn.close()


@dataclass(frozen=True, slots=True)
class Counts:
    rooms: int
    messages: int
    files: int


def counts_in_copy(path: Path) -> Counts:
    conn = _connect_copy(path)
    try:
        return Counts(
            *(
                int(conn.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0])
                for table in (rooms, messages, files)
            )
        )
    finally:
        conn.close()


def libpq_url(url: str) -> str:
    """The database URL as pg_dump and pg_restore take it, without the password (never
    printed: libpq reads it from PGPASSWORD or ~/.pgpass), and without SQLAlchemy's options."""
    parsed = make_url(normalise_url(url)).set(drivername="postgresql", password=None)
    return parsed.render_as_string(hide_password=False)


def has_password(url: str) -> bool:
    return make_url(normalise_url(url)).password is not None


def counts_in(db: Database) -> Counts:
    """Rooms, messages and files of a (PostgreSQL) database, as a backup reports them."""
    with db.read() as tx:
        return Counts(
            *(
                int(tx.execute(select(func.count()).select_from(table)).scalar_one())
                for table in (rooms, messages, files)
            )
        )


def file_ids_in(db: Database) -> set[int]:
    """The files a (non-SQLite) database knows, for copying their bytes."""
    with db.read() as tx:
        return all_file_ids(tx)
