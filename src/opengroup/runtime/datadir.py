"""The data directory as the CLI and the server find it, so that nobody works on the wrong server:

- is it one? (`opengroup init`, or a first `opengroup serve`, makes it: key, database, room main)
- which database does it use? `DATA_DIR/database-url` (mode 0600) remembers the database
  `opengroup serve` last ran on ("" is SQLite in the directory); CLI commands without a
  database URL use it, and refuse one that names another database;
- is a server running on it? `DATA_DIR/run/server.lock` is locked (flock) by the `serve`
  process for as long as it runs, and says where it listens: a second `serve` is refused, and
  `opengroup url` can build join URLs from that address when `base_url` is not set.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from opengroup.config import Config, hide_password

DATABASE_URL_FILE = "database-url"
LOCK_FILE = Path("run") / "server.lock"
SQLITE_FILE = "opengroup.db"


class DataDirError(Exception):
    """The data directory is not what the command needs; the message says what to do."""


def _init_hint(config: Config) -> str:
    return f"create one with `opengroup init --data-dir {config.data_dir}`"


def require_initialised(config: Config) -> None:
    """Refuse a missing or empty data directory (or one without its key or SQLite database)."""
    path = config.data_path
    if not path.is_dir():
        raise DataDirError(
            f"no data directory at {path} (check --data-dir or data_dir), or {_init_hint(config)}"
        )
    missing = []
    if not config.key_path.is_file():
        missing.append(f"key {config.key_path}")
    if not config.database_url and not (path / SQLITE_FILE).is_file():
        missing.append(f"database {path / SQLITE_FILE}")
    if missing:
        raise DataDirError(
            f"{path} is not an opengroup data directory (no {' and no '.join(missing)}): "
            f"check --data-dir, or {_init_hint(config)}"
        )


def is_data_dir(path: Path) -> bool:
    """Has `init` or `serve` made this directory (its SQLite database, or the database it
    remembers)?"""
    return (path / SQLITE_FILE).exists() or (path / DATABASE_URL_FILE).exists()


# -- the database a data directory uses ------------------------------------------------------


def _default_sqlite_url(config: Config) -> str:
    return replace(config, database_url="").sqlalchemy_url


def _as_remembered(config: Config) -> str:
    """What the directory remembers: "" for SQLite in the directory itself, else the URL."""
    url = config.database_url
    return "" if not url or url == _default_sqlite_url(config) else url


def remembered_database_url(data_path: Path) -> str | None:
    """The database `serve` last used here ("": SQLite in the directory); None if not known."""
    try:
        return (data_path / DATABASE_URL_FILE).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def remember_database_url(config: Config) -> None:
    """Write DATA_DIR/database-url (0600: a PostgreSQL URL may hold a password), atomically."""
    wanted = _as_remembered(config)
    if remembered_database_url(config.data_path) == wanted:
        return
    path = config.data_path / DATABASE_URL_FILE
    temporary = path.with_name(f".{DATABASE_URL_FILE}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(wanted + "\n")
    os.replace(temporary, path)


def _shown(url: str) -> str:
    return hide_password(url) if url else "SQLite in the data directory"


def with_remembered_database(config: Config, *, serving: bool = False) -> Config:
    """`config` on the database its data directory uses.

    No database URL given: the remembered one. One given that names another database: refused,
    unless `serving` (`opengroup serve --database-url` is how an operator moves a server; it
    then remembers the new one)."""
    remembered = remembered_database_url(config.data_path)
    if remembered is None:
        return config
    if not config.database_url:
        return replace(config, database_url=remembered)
    given = _as_remembered(config)
    if given != remembered and not serving:
        raise DataDirError(
            f"{config.data_path} is served from {_shown(remembered)}, but this command was given "
            f"{_shown(given)} (--database-url, OPENGROUP_DATABASE_URL or the config file): "
            "give the server's database, or none"
        )
    return config


# -- the running server's lock ---------------------------------------------------------------


class ServerLock:
    """DATA_DIR/run/server.lock, locked by the serving process (its workers are its children)."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle

    def record(self, **details: Any) -> None:
        """Write who holds the lock and where it listens (read by `opengroup url`)."""
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps({"pid": os.getpid(), **details}) + "\n")
        self._handle.flush()

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


def lock_for_serving(config: Config) -> ServerLock:
    """Lock the data directory for this server, or refuse: another one serves it."""
    path = config.data_path / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = last_server(config.data_path).get("pid", "?")
        handle.close()
        raise DataDirError(
            f"another server (pid {pid}) is running on {config.data_path}: stop it first, or "
            "run one server with --workers N"
        ) from None
    lock = ServerLock(handle)
    lock.record()
    return lock


def last_server(data_path: Path) -> dict[str, Any]:
    """What the last (or running) server wrote into its lock file: pid, listening address."""
    try:
        details = json.loads((data_path / LOCK_FILE).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return details if isinstance(details, dict) else {}


def server_running(data_path: Path) -> bool:
    """Is a server holding this data directory's lock right now?"""
    try:
        with (data_path / LOCK_FILE).open() as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False
