"""What every operator command shares: --data-dir, --config and --database-url, one-line errors
with exit status 2, and the server context the command works through (only on a data directory
that exists: runtime/datadir.py)."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from opengroup.config import DEFAULTS, SETTINGS, Config, ConfigError, load_config
from opengroup.crypto import CryptoError
from opengroup.crypto.keyfile import KeyFileError
from opengroup.errors import OpenGroupError
from opengroup.rules.ids import parse_room_id
from opengroup.runtime.bootstrap import open_context
from opengroup.runtime.datadir import DataDirError, require_initialised, with_remembered_database
from opengroup.store.migrate import SchemaTooNew
from opengroup.usecases import rooms as room_cases
from opengroup.usecases.context import ServerContext
from opengroup.usecases.rooms import Room

log = logging.getLogger("opengroup")
F = TypeVar("F", bound=Callable[..., Any])
USAGE_ERROR = 2
_OPERATOR_ERRORS = (
    OpenGroupError,
    ConfigError,
    KeyFileError,
    CryptoError,
    SchemaTooNew,
    DataDirError,
    OSError,
)
_DATABASE_URL = "opengroup.database_url"  # --database-url, kept in click's context meta
_DATABASE_URL_HELP = next(s.help for s in SETTINGS if s.name == "database_url")


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def common_options(command: F) -> F:
    """--data-dir, --config and --database-url on every command; errors become one line and
    exit status 2. The database URL reaches `resolve_config` through click's context."""

    @click.option(
        "--data-dir", default=None, help=f"Data directory (default {DEFAULTS['data_dir']})."
    )
    @click.option(
        "--config", "config_file", default=None, help="TOML config file (or OPENGROUP_CONFIG)."
    )
    @click.option("--database-url", default=None, help=_DATABASE_URL_HELP)
    @functools.wraps(command)
    def wrapper(*args: Any, database_url: str | None, **kwargs: Any) -> Any:
        click.get_current_context().meta[_DATABASE_URL] = database_url
        try:
            return command(*args, **kwargs)
        except _OPERATOR_ERRORS as error:
            fail(getattr(error, "detail", None) or str(error))

    return wrapper  # type: ignore[return-value]


def resolve_config(data_dir: str | None, config_file: str | None, **flags: Any) -> Config:
    """Defaults < config file < environment < flags (--database-url included)."""
    context = click.get_current_context(silent=True)
    database_url = context.meta.get(_DATABASE_URL) if context is not None else None
    return load_config(config_file, {"data_dir": data_dir, "database_url": database_url, **flags})


def existing_server_config(data_dir: str | None, config_file: str | None, **flags: Any) -> Config:
    """The configuration of a data directory that exists, on the database it uses; refuses a
    missing or empty one (naming `opengroup init`) or another database than the server's."""
    config = with_remembered_database(resolve_config(data_dir, config_file, **flags))
    require_initialised(config)
    return config


@contextmanager
def server_context(
    data_dir: str | None, config_file: str | None, **flags: Any
) -> Iterator[ServerContext]:
    """The context of an existing server's data directory (never creates one)."""
    ctx = open_context(existing_server_config(data_dir, config_file, **flags))
    try:
        yield ctx
    finally:
        ctx.close()


def existing_room(ctx: ServerContext, room_id: str) -> Room:
    room = room_cases.find_room(ctx, parse_room_id(room_id))
    if room is None:
        fail(f"no room {room_id!r}")
    return room
