"""What every operator command shares: --data-dir and --config, one-line errors with exit
status 2, and the server context the command works through."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import click

from opengroup.config import Config, ConfigError, load_config
from opengroup.crypto import CryptoError
from opengroup.crypto.keyfile import KeyFileError
from opengroup.errors import OpenGroupError
from opengroup.rules.ids import parse_room_id
from opengroup.runtime.bootstrap import open_context
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
    OSError,
)


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def common_options(command: F) -> F:
    """--data-dir and --config on every command; errors become one line and exit status 2."""

    @click.option("--data-dir", default=None, help="Data directory (default ./data).")
    @click.option(
        "--config", "config_file", default=None, help="TOML config file (or OPENGROUP_CONFIG)."
    )
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except _OPERATOR_ERRORS as error:
            fail(getattr(error, "detail", None) or str(error))

    return wrapper  # type: ignore[return-value]


def resolve_config(data_dir: str | None, config_file: str | None, **flags: Any) -> Config:
    return load_config(config_file, {"data_dir": data_dir, **flags})


@contextmanager
def server_context(data_dir: str | None, config_file: str | None) -> Iterator[ServerContext]:
    ctx = open_context(resolve_config(data_dir, config_file))
    try:
        yield ctx
    finally:
        ctx.close()


def existing_room(ctx: ServerContext, room_id: str) -> Room:
    room = room_cases.find_room(ctx, parse_room_id(room_id))
    if room is None:
        fail(f"no room {room_id!r}")
    return room
