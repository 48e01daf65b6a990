"""Operator tasks beyond the API: backup, restore, and import from the Rust-era server.

Plain Python over the store; `ops_commands.py` turns them into commands and prints their reports.
A refusal is an `OperationRefused` whose message says what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from opengroup.config import Config
from opengroup.crypto import CryptoError, ServerKeys
from opengroup.errors import BadInput, OpenGroupError
from opengroup.rules.ids import check_new_room_id, parse_session_id
from opengroup.rules.tokens import hash_token
from opengroup.runtime.bootstrap import open_context
from opengroup.store import BlobStore, Database, rust_import
from opengroup.store import backup as backup_store
from opengroup.store import rooms as room_store
from opengroup.store.migrate import migrate
from opengroup.usecases.context import DAY

BACKUP_FORMAT = 1
MANIFEST = "backup.json"
BACKUP_DB = "opengroup.db"
BACKUP_KEY = "key.pem"
BACKUP_FILES = "files"
RUST_KEY = "x25519_private_key.pem"


_PASSWORD_NOTE = "  (the password is not printed: give it in PGPASSWORD=… or ~/.pgpass)\n"


class OperationRefused(OpenGroupError):
    """An operator command that will not run as asked; the message says why and what to do."""

    reason = "refused"


# -- small helpers -------------------------------------------------------------------------


def is_empty_dir(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def load_key(path: Path) -> ServerKeys:
    try:
        return ServerKeys.from_pem(path.read_bytes())
    except FileNotFoundError:
        raise OperationRefused(f"key file {path} does not exist") from None
    except CryptoError as error:
        raise OperationRefused(f"{path} is not an X25519 PEM private key: {error}") from None


def write_key(path: Path, keys: ServerKeys) -> None:
    """Write a private key file (mode 0600); never over an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(keys.to_pem())
        handle.flush()
        os.fsync(handle.fileno())


def file_names(directory: Path) -> list[str]:
    """Stored files (named by their integer id); temporaries and other names left out."""
    try:
        return [name for name in os.listdir(directory) if name.isdigit()]
    except FileNotFoundError:
        return []


def copy_file(source: Path, dest: Path) -> int | None:
    """Copy one file (bytes and times); its size, or None if it vanished meanwhile."""
    try:
        shutil.copy2(source, dest)
    except FileNotFoundError:
        return None
    return dest.stat().st_size


# -- backup ----------------------------------------------------------------------------------


@dataclass(slots=True)
class BackupReport:
    dest: Path
    database: str  # "sqlite" or "postgresql"
    public_key: str
    rooms: int = 0
    messages: int = 0
    files: int = 0
    file_bytes: int = 0
    dropped_files: int = 0  # deleted by the server while the backup ran: left out
    seconds: float = 0.0
    hint: str | None = None


def backup(config: Config, dest: Path) -> BackupReport:
    """Copy the database (a consistent snapshot), the files it names and the key to `dest`.

    Safe while the server runs. Files are copied twice over: first everything present, then
    the snapshot is taken, then what it names and the first pass missed is copied and what it
    does not name is dropped. A file the server deleted in between (expiry, a replaced room
    image) is left out of the copy together with its row, so the backup is consistent.
    """
    started = time.monotonic()
    if not is_empty_dir(dest):
        raise OperationRefused(f"{dest} is not empty: back up into a new or empty directory")
    if not config.key_path.exists():
        raise OperationRefused(
            f"no key at {config.key_path}: is {config.data_path} the data directory of a server "
            "that has run?"
        )
    keys = load_key(config.key_path)
    source_db = backup_store.sqlite_file(config.sqlalchemy_url)
    report = BackupReport(dest, "sqlite" if source_db else "postgresql", keys.public_hex)
    files_dest = dest / BACKUP_FILES
    files_dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o700)  # it holds the private key

    # 1. Everything present now.
    copied: dict[int, int] = {}
    for name in file_names(config.files_path):
        size = copy_file(config.files_path / name, files_dest / name)
        if size is not None:
            copied[int(name)] = size

    # 2. The database snapshot, and the files it names.
    if source_db is not None:
        copy_path = dest / BACKUP_DB
        try:
            backup_store.copy_sqlite(source_db, copy_path)
        except backup_store.BackupFailed as error:
            raise OperationRefused(str(error)) from error
        wanted = set(backup_store.file_sizes_in_copy(copy_path))
    else:
        db = Database(config.sqlalchemy_url)
        try:
            wanted = backup_store.file_ids_in(db)
            counts = backup_store.counts_in(db)
            report.rooms, report.messages = counts.rooms, counts.messages
        finally:
            db.dispose()
        dump = dest / "opengroup.pgdump"
        url = backup_store.libpq_url(config.sqlalchemy_url)
        report.hint = (
            "the database is PostgreSQL: files and key are copied; dump the database now with\n"
            f"  pg_dump --format=custom --file {dump} '{url}'\n"
            + _PASSWORD_NOTE * backup_store.has_password(config.sqlalchemy_url)
            + "and restore it with pg_restore --no-owner --dbname URL (before opengroup restore)"
        )

    # 3. Top up what the first pass missed; drop what the snapshot does not name.
    missing: set[int] = set()
    for file_id in wanted - set(copied):
        size = copy_file(config.files_path / str(file_id), files_dest / str(file_id))
        if size is None:
            missing.add(file_id)
        else:
            copied[file_id] = size
    for file_id in set(copied) - wanted:
        (files_dest / str(file_id)).unlink()
        del copied[file_id]
    if source_db is not None:
        backup_store.drop_files_from_copy(dest / BACKUP_DB, missing)
        counts = backup_store.counts_in_copy(dest / BACKUP_DB)
        report.rooms, report.messages = counts.rooms, counts.messages
    report.dropped_files = len(missing)
    report.files, report.file_bytes = len(copied), sum(copied.values())

    write_key(dest / BACKUP_KEY, keys)
    report.seconds = time.monotonic() - started
    manifest = {
        "format": BACKUP_FORMAT,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "database": report.database,
        "public_key": report.public_key,
        "rooms": report.rooms,
        "messages": report.messages,
        "files": report.files,
        "file_bytes": report.file_bytes,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return report


# -- restore ---------------------------------------------------------------------------------


@dataclass(slots=True)
class RestoreReport:
    data_dir: Path
    public_key: str
    database: str
    files: int = 0
    hint: str | None = None


def restore(config: Config, source: Path) -> RestoreReport:
    """Restore a backup into an empty data directory (the server must not be running on it)."""
    if not source.is_dir():
        raise OperationRefused(f"{source} is not a directory")
    if not (source / MANIFEST).is_file() and not (source / BACKUP_KEY).is_file():
        raise OperationRefused(
            f"{source} is not a backup (no {MANIFEST}, no {BACKUP_KEY}): give a directory "
            "made by `opengroup backup`"
        )
    manifest: dict[str, object] = {}
    if (source / MANIFEST).is_file():
        try:
            manifest = json.loads((source / MANIFEST).read_text())
        except ValueError as error:
            raise OperationRefused(f"{source / MANIFEST} is damaged: {error}") from None
    if not isinstance(manifest, dict):
        raise OperationRefused(f"{source / MANIFEST} is damaged: not a JSON object")
    backup_format = manifest.get("format", BACKUP_FORMAT)
    if not isinstance(backup_format, int) or backup_format > BACKUP_FORMAT:
        raise OperationRefused(f"{source} was made by a newer opengroup (format {backup_format})")
    keys = load_key(source / BACKUP_KEY)
    data_dir = config.data_path
    if not is_empty_dir(data_dir):
        raise OperationRefused(
            f"data directory {data_dir} is not empty: restore only into a new or empty one"
        )
    target_db = backup_store.sqlite_file(config.sqlalchemy_url)
    source_db = source / BACKUP_DB
    report = RestoreReport(data_dir, keys.public_hex, "sqlite" if target_db else "postgresql")
    if target_db is None:
        if source_db.exists():
            raise OperationRefused(
                f"{source} holds an SQLite database but database_url points at PostgreSQL: "
                "restore without database_url"
            )
        report.hint = (
            "the database is PostgreSQL: files and key are restored; load the dump with\n"
            f"  pg_restore --no-owner --dbname '{backup_store.libpq_url(config.sqlalchemy_url)}' "
            f"{source / 'opengroup.pgdump'}"
            + ("\n" + _PASSWORD_NOTE.rstrip())
            * backup_store.has_password(config.sqlalchemy_url)
        )
    else:
        if not source_db.is_file():
            kind = manifest.get("database", "unknown")
            raise OperationRefused(
                f"{source} has no {BACKUP_DB} (backup of a {kind} database): to restore it, set "
                "database_url to the PostgreSQL database and load the dump with pg_restore"
            )
        if target_db.exists():
            raise OperationRefused(f"database {target_db} already exists")
    if config.key_path.exists() and load_key(config.key_path).public != keys.public:
        raise OperationRefused(
            f"key file {config.key_path} exists with another key: the restored server must keep "
            f"its own ({keys.public_hex}); move that file away or use private_key_file"
        )

    data_dir.mkdir(parents=True, exist_ok=True)
    if not config.key_path.exists():
        write_key(config.key_path, keys)
    if target_db is not None:
        target_db.parent.mkdir(parents=True, exist_ok=True)
        try:
            backup_store.copy_sqlite(source_db, target_db)
        except backup_store.BackupFailed as error:
            raise OperationRefused(str(error)) from error
    config.files_path.mkdir(parents=True, exist_ok=True)
    for name in file_names(source / BACKUP_FILES):
        if copy_file(source / BACKUP_FILES / name, config.files_path / name) is not None:
            report.files += 1
    if target_db is not None:
        # Migrate now (a backup by an older version) and prove the result opens.
        open_context(replace(config, create_main_room=False)).close()
    return report


# -- import from the Rust-era server ---------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    public_key: str
    rooms: list[rust_import.RoomReport] = field(default_factory=list)
    removed_main: bool = False
    seconds: float = 0.0


_UNSAFE_PATH_PART = re.compile(r"[/\\\x00]|^\.\.?$")


def plan_rust_import(
    source: Path, renames: Mapping[str, str], skips: set[str]
) -> list[rust_import.RustRoom]:
    """The rooms to import and where their data is; refuses with every problem listed."""
    listed = rust_import.read_room_list(source)
    known = {room_id for room_id, _ in listed}
    unknown = sorted((set(renames) | skips) - known)
    if unknown:
        raise OperationRefused(f"no room {', '.join(map(repr, unknown))} in {source}")
    plan: list[rust_import.RustRoom] = []
    problems: list[str] = []
    targets: dict[str, str] = {}
    for rust_id, name in listed:
        if rust_id in skips:
            continue
        if _UNSAFE_PATH_PART.search(rust_id):
            problems.append(f"room id {rust_id!r} cannot be a file name; --skip it")
            continue
        room_id = renames.get(rust_id, rust_id)
        try:
            check_new_room_id(room_id)
        except BadInput as error:
            hint = (
                f"pass --rename {rust_id}=NEW_ID (its members join again with the new URL) "
                f"or --skip {rust_id}"
                if rust_id == room_id
                else "choose another NEW_ID"
            )
            problems.append(f"{error.detail}: {hint}")
            continue
        if room_id in targets:
            problems.append(f"rooms {targets[room_id]!r} and {rust_id!r} would both be {room_id!r}")
            continue
        targets[room_id] = rust_id
        db_path = source / "rooms" / f"{rust_id}.db"
        if not db_path.is_file():
            problems.append(f"room {rust_id!r} has no database {db_path}: --skip it")
            continue
        image = source / "files" / rust_id
        plan.append(
            rust_import.RustRoom(
                rust_id=rust_id,
                room_id=room_id,
                name=name.strip()[:256] or room_id,
                db_path=db_path,
                files_dir=source / "files" / f"{rust_id}_files",
                image_path=image if image.is_file() else None,
            )
        )
    if problems:
        raise OperationRefused("cannot import as is:\n  " + "\n  ".join(problems))
    return plan


def _session_id_or_none(value: object) -> str | None:
    try:
        return parse_session_id(value)
    except BadInput:
        return None


def import_rust(
    config: Config,
    source: Path,
    renames: Mapping[str, str] | None = None,
    skips: set[str] | None = None,
    now: float | None = None,
) -> ImportReport:
    """Import a Rust-era data directory into this (new) server, key included."""
    started = time.monotonic()
    now = time.time() if now is None else now
    if not source.is_dir():
        raise OperationRefused(f"{source} is not a directory")
    try:
        plan = plan_rust_import(source, renames or {}, skips or set())
    except rust_import.RustImportError as error:
        raise OperationRefused(str(error)) from error
    rust_key_path = source / RUST_KEY
    if not rust_key_path.is_file():
        raise OperationRefused(
            f"{source} has no {RUST_KEY}: without the Rust server's key every join URL would "
            "change (its public key is part of them)"
        )
    rust_keys = load_key(rust_key_path)
    if config.key_path.exists():
        ours = load_key(config.key_path)
        if ours.public != rust_keys.public:
            raise OperationRefused(
                f"this server already has a different key ({config.key_path}, public key "
                f"{ours.public_hex}); the Rust server's is {rust_keys.public_hex}. Importing "
                "would change every join URL: import into a new, empty data directory"
            )
    config.data_path.mkdir(parents=True, exist_ok=True)
    db = Database(config.sqlalchemy_url)
    try:
        migrate(db)
        with db.read() as tx:
            already = rust_import.existing_data(tx)
            has_main = room_store.get_room(tx, "main") is not None
        if already:
            raise OperationRefused(
                "this server already has data (" + ", ".join(already) + "): import-rust needs "
                "a new, empty data directory"
            )
        if not config.key_path.exists():
            write_key(config.key_path, rust_keys)
        blobs = BlobStore(config.files_path)
        blobs.ensure()
        try:
            reports = rust_import.import_rooms(
                db,
                blobs,
                plan,
                now,
                config.file_expiry_days * DAY,
                _session_id_or_none,
                hash_token,
            )
        except rust_import.RustImportError as error:
            raise OperationRefused(str(error)) from error
    finally:
        db.dispose()
    return ImportReport(
        public_key=rust_keys.public_hex,
        rooms=reports,
        removed_main=has_main and all(room.room_id != "main" for room in plan),
        seconds=time.monotonic() - started,
    )


# -- rooms stats -----------------------------------------------------------------------------

_WINDOW = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_window(text: str) -> float:
    """`90s`, `30m`, `1h`, `7d`, `2w` or plain seconds."""
    match = _WINDOW.fullmatch(text.strip().lower())
    if not match or float(match.group(1)) <= 0:
        raise BadInput(f"invalid window {text!r}: use e.g. 30m, 1h, 7d")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
