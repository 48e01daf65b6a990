"""`opengroup db …`: operations on the database as a whole (registered by cli/main.py)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy.exc import SQLAlchemyError

from opengroup.config import ConfigError, check_database_url
from opengroup.errors import OpenGroupError
from opengroup.runtime.datadir import last_server, server_running
from opengroup.store.backup import sqlite_file as sqlite_path
from opengroup.store.copy import CopyError, TableCount, copy_database
from opengroup.store.database import normalise_url
from opengroup.store.migrate import SchemaTooNew

USAGE_ERROR = 2


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(USAGE_ERROR)


def database_url(value: str, option: str) -> str:
    """A URL as given, or a bare path, which means a SQLite file; only SQLite and PostgreSQL."""
    if "://" not in value:
        return f"sqlite:///{Path(value).resolve()}"
    try:
        return check_database_url(value, option)
    except ConfigError as error:
        _fail(str(error))


def _warn_if_served(url: str) -> None:
    """A running server's SQLite file: the copy would miss what it writes meanwhile."""
    sqlite_file = sqlite_path(url)
    if sqlite_file is None:
        return
    data_dir = sqlite_file.parent
    if server_running(data_dir):
        pid = last_server(data_dir).get("pid", "?")
        click.echo(
            f"warning: a server (pid {pid}) is running on {data_dir}: what it writes during the "
            "copy is not copied; stop it first",
            err=True,
        )


def _show(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(normalise_url(url)).render_as_string(hide_password=True)


def _one_line(error: SQLAlchemyError) -> str:
    cause = getattr(error, "orig", None) or error
    return " ".join(str(cause).split()) or type(cause).__name__


@click.group()
def db() -> None:
    """Operations on the whole database: copy it to another one."""


@db.command("copy")
@click.option("--from", "source", required=True, help="Database to read (URL or SQLite file).")
@click.option("--to", "target", required=True, help="Empty database to fill (URL or SQLite file).")
def db_copy(source: str, target: str) -> None:
    """Copy every table to an empty database: SQLite to PostgreSQL, or back.

    Stop the server first. The target's schema is created (migrated) first; a target that
    already holds rows is refused. Uploaded files stay in DATA_DIR/files: they are not in the
    database, so keep (or copy) that directory. Example:

    opengroup db copy --from data/opengroup.db --to postgresql://og@db.internal/opengroup
    """
    source_url, target_url = database_url(source, "--from"), database_url(target, "--to")
    _warn_if_served(source_url)
    click.echo(f"copying {_show(source_url)} -> {_show(target_url)}", err=True)
    with ExitStack() as stack:
        advance: list[Callable[[int], None]] = []

        def start(total: int) -> None:
            bar = click.progressbar(length=total, label="copying rows", file=sys.stderr)
            advance.append(stack.enter_context(bar).update)

        try:
            counts = copy_database(
                source_url, target_url, on_total=start, progress=lambda n: advance[0](n)
            )
        except (CopyError, SchemaTooNew) as error:
            _fail(str(error))
        except OpenGroupError as error:
            _fail(f"copy failed, the target is unchanged: {error.detail}")
        except SQLAlchemyError as error:
            _fail(f"copy failed, the target is unchanged: {_one_line(error)}")
        except OSError as error:
            _fail(f"copy failed: {error}")
    _report(counts)


def _report(counts: list[TableCount]) -> None:
    click.echo(f"{'TABLE':<20} {'SOURCE':>10} {'TARGET':>10}")
    for count in counts:
        click.echo(f"{count.table:<20} {count.source:>10} {count.target:>10}")
    total = sum(c.target for c in counts)
    click.echo(f"copied {total} rows in {len(counts)} tables; every row count matches")
    click.echo(
        "files are not in the database: the new server needs the same DATA_DIR/files "
        "(and key.pem) as the old one"
    )
