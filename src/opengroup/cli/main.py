"""The operator CLI: a thin skin over the same context, rules and store as the server.

Every command takes --data-dir, --config and --database-url and works whether or not the server
runs; `init` and `serve` create a data directory, every other command needs an existing one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from opengroup.cli import moderation_commands, ops_commands
from opengroup.cli.common import (
    F,
    common_options,
    existing_room,
    fail,
    resolve_config,
    server_context,
)
from opengroup.cli.db_commands import db
from opengroup.config import SETTINGS, Config
from opengroup.rules.room_text import clean_description
from opengroup.runtime.bootstrap import open_context
from opengroup.usecases import rooms as room_cases
from opengroup.usecases.acting import as_operator
from opengroup.usecases.context import DAY, ServerContext
from opengroup.usecases.room_settings import describe_room


class OneLineErrors(click.Group):
    """click's own usage errors (a missing argument, a bad option, a file that does not exist)
    as one line on stderr with exit status 2, like every other operator mistake."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        standalone = kwargs.get("standalone_mode", True)
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.UsageError as error:
            where = f" (see {error.ctx.command_path} --help)" if error.ctx is not None else ""
            fail(" ".join(error.format_message().split()) + where)
        except click.Abort:
            click.echo("aborted", err=True)
            sys.exit(1)
        if standalone:  # as click does: the exit status of ctx.exit(), else 0
            sys.exit(result if isinstance(result, int) else 0)
        return result


@click.group(cls=OneLineErrors)
@click.version_option(package_name="opengroup")
def main() -> None:
    """opengroup: a Session open group server and its operator tools."""


# -- serve -----------------------------------------------------------------------------------


def setting_options(command: F) -> F:
    """One --flag per setting of the SETTINGS table (flags beat env, file and defaults);
    --data-dir and --database-url come with every command (common_options)."""
    for setting in reversed(SETTINGS):
        if setting.name in ("data_dir", "database_url"):
            continue
        flag = "--" + setting.name.replace("_", "-")
        if isinstance(setting.default, bool):
            flag = f"{flag}/--no-{setting.name.replace('_', '-')}"
        command = click.option(flag, setting.name, default=None, help=setting.help)(command)
    return command


@main.command()
@common_options
def init(data_dir: str | None, config_file: str | None) -> None:
    """Create a data directory: key, database (SQLite in it, or database_url) and room main.

    A key.pem already there (e.g. made with openssl genpkey -algorithm x25519) is kept. Every
    other command but serve, restore and import-rust needs a data directory. Example:
    opengroup init --data-dir /var/lib/opengroup
    """
    from opengroup.runtime.datadir import (
        is_data_dir,
        remember_database_url,
        with_remembered_database,
    )

    config = with_remembered_database(resolve_config(data_dir, config_file))
    if is_data_dir(config.data_path):
        fail(f"{config.data_path} is already a data directory: nothing to do")
    with server_context_creating(config) as ctx:
        remember_database_url(config)
        public_key = ctx.keys.public_hex
        rooms = [room.id for room in room_cases.list_rooms(ctx)]
    click.echo(
        f"created data directory {config.data_path} (public key {public_key}, "
        f"rooms: {', '.join(rooms) or 'none'}); start it with opengroup serve "
        f"--data-dir {config.data_dir}"
    )


@contextmanager
def server_context_creating(config: Config) -> Iterator[ServerContext]:
    ctx = open_context(config)
    try:
        yield ctx
    finally:
        ctx.close()


@main.command()
@setting_options
@common_options
def serve(data_dir: str | None, config_file: str | None, **flags: Any) -> None:
    """Run the server (creating its data directory on the first start).

    Example: opengroup serve --host 0.0.0.0 --port 8080 --base-url https://chat.example
    """
    from opengroup.runtime import serving

    config = resolve_config(data_dir, config_file, **flags)
    serving.serve(config)


# -- rooms -----------------------------------------------------------------------------------


@main.group()
def rooms() -> None:
    """Create, list, rename, decorate and delete rooms."""


@rooms.command("add")
@click.argument("room_id")
@click.argument("name")
@common_options
def rooms_add(room_id: str, name: str, data_dir: str | None, config_file: str | None) -> None:
    """Create a room. Example: opengroup rooms add lokinet "Lokinet Updates\""""
    with server_context(data_dir, config_file) as ctx:
        room = room_cases.create_room(ctx, room_id, name)
    click.echo(f"created room {room.id}")


@rooms.command("list")
@common_options
def rooms_list(data_dir: str | None, config_file: str | None) -> None:
    """List rooms: id, name, messages, files, users active in the last 7 days."""
    with server_context(data_dir, config_file) as ctx:
        summaries = room_cases.room_summaries(ctx, ctx.clock() - 7 * DAY)
    click.echo(f"{'ID':<24} {'NAME':<32} {'MESSAGES':>9} {'FILES':>6} {'ACTIVE':>7}  DESCRIPTION")
    for s in summaries:
        # One line per room: a description's newlines and tabs are shown as spaces.
        described = " ".join((s.description or "").split())
        click.echo(
            f"{s.room.id:<24} {s.room.name:<32} {s.messages:>9} {s.files:>6} {s.active_users:>7}"
            f"  {described}".rstrip()
        )


@rooms.command("rename")
@click.argument("room_id")
@click.argument("name")
@common_options
def rooms_rename(room_id: str, name: str, data_dir: str | None, config_file: str | None) -> None:
    """Give a room a new display name. Example: opengroup rooms rename main "Lobby\""""
    with server_context(data_dir, config_file) as ctx:
        room = room_cases.rename_room(ctx, as_operator(room_id), name)
    click.echo(f"renamed room {room.id} to {room.name!r}")


@rooms.command("describe")
@click.argument("room_id")
@click.argument("text")
@common_options
def rooms_describe(room_id: str, text: str, data_dir: str | None, config_file: str | None) -> None:
    """Set a room's description ("" removes it).

    Example: opengroup rooms describe main "Questions welcome; be kind."
    """
    description = clean_description(text)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        describe_room(ctx, room, description)
    if description is None:
        click.echo(f"removed the description of room {room.id}")
    else:
        click.echo(f"set the description of room {room.id}")


@rooms.command("set-image")
@click.argument("room_id")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, readable=True))
@common_options
def rooms_set_image(
    room_id: str, image: str, data_dir: str | None, config_file: str | None
) -> None:
    """Set a room's image from a file. Example: opengroup rooms set-image main logo.png"""
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        content = Path(image).read_bytes()
        room_cases.set_room_image(ctx, room.id, content, None)
    click.echo(f"set the image of room {room.id} ({len(content)} bytes)")


@rooms.command("delete")
@click.argument("room_id")
@click.option("--yes", is_flag=True, help="Confirm: everything in the room is deleted.")
@common_options
def rooms_delete(room_id: str, yes: bool, data_dir: str | None, config_file: str | None) -> None:
    """Delete a room with its messages, files, moderators and bans. Needs --yes."""
    if not yes:
        fail(f"deleting room {room_id!r} removes everything in it; add --yes to confirm")
    with server_context(data_dir, config_file) as ctx:
        room, files = room_cases.delete_room(ctx, as_operator(room_id))
    click.echo(f"deleted room {room.id} and {files} files")


# -- moderators and bans ---------------------------------------------------------------------


# -- keys and URLs ---------------------------------------------------------------------------


@main.command()
@click.argument("room_id", required=False)
@click.option("--base-url", default=None, help="Public URL of the server (else from config).")
@common_options
def url(
    room_id: str | None, base_url: str | None, data_dir: str | None, config_file: str | None
) -> None:
    """Print join URLs: of one room, or of every room. Example: opengroup url main

    Without base_url, the address the server listens on (when it is a specific one)."""
    from opengroup.runtime.datadir import last_server

    with server_context(data_dir, config_file, base_url=base_url) as ctx:
        base = ctx.config.base_url
        if not base:
            listening = last_server(ctx.config.data_path).get("join_base")
            if not isinstance(listening, str) or not listening:
                fail(
                    "base_url is not set: set base_url in the config file, OPENGROUP_BASE_URL, "
                    "or pass --base-url https://your.host"
                )
            base = listening
            click.echo(
                f"note: base_url is not set; these URLs use the address the server listens on "
                f"({base}): set base_url for the public one",
                err=True,
            )
        targets = [existing_room(ctx, room_id)] if room_id else room_cases.list_rooms(ctx)
        for room in targets:
            click.echo(f"{base.rstrip('/')}/{room.id}?public_key={ctx.keys.public_hex}")


@main.command()
@common_options
def key(data_dir: str | None, config_file: str | None) -> None:
    """Print the server's public key: 64 hex characters, nothing else."""
    with server_context(data_dir, config_file) as ctx:
        click.echo(ctx.keys.public_hex)


for command in (
    ops_commands.backup,
    ops_commands.restore,
    ops_commands.import_rust,
    db,
    moderation_commands.moderators,
    moderation_commands.bans,
    moderation_commands.users,
):
    main.add_command(command)
rooms.add_command(moderation_commands.rooms_perms)
rooms.add_command(ops_commands.rooms_stats)
