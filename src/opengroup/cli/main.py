"""The operator CLI: a thin skin over the same context, rules and store as the server.

Every command takes --data-dir and --config and works whether or not the server runs.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import click

from opengroup.cli import moderation_commands, ops_commands
from opengroup.cli.common import (
    F,
    common_options,
    existing_room,
    fail,
    log,
    resolve_config,
    server_context,
)
from opengroup.cli.db_commands import db
from opengroup.config import SETTINGS
from opengroup.runtime.allocator import tune_allocator
from opengroup.runtime.bootstrap import open_context
from opengroup.usecases import rooms as room_cases
from opengroup.usecases.acting import as_operator
from opengroup.usecases.context import DAY


@click.group()
@click.version_option(package_name="opengroup")
def main() -> None:
    """opengroup: a Session open group server and its operator tools."""


# -- serve -----------------------------------------------------------------------------------


def setting_options(command: F) -> F:
    """One --flag per setting of the SETTINGS table (flags beat env, file and defaults)."""
    for setting in reversed(SETTINGS):
        if setting.name == "data_dir":
            continue
        flag = "--" + setting.name.replace("_", "-")
        if isinstance(setting.default, bool):
            flag = f"{flag}/--no-{setting.name.replace('_', '-')}"
        command = click.option(flag, setting.name, default=None, help=setting.help)(command)
    return command


@main.command()
@setting_options
@common_options
def serve(data_dir: str | None, config_file: str | None, **flags: Any) -> None:
    """Run the server.

    Example: opengroup serve --host 0.0.0.0 --port 8080 --base-url https://chat.example
    """
    import uvicorn

    from opengroup.runtime.app import RESOLVED_CONFIG_ENV
    from opengroup.transport.connections import HeadTimeoutProtocol

    config = resolve_config(data_dir, config_file, **flags)
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    ctx = open_context(config)
    try:
        log.info("listening on http://%s:%d", config.host, config.port)
        log.info("data directory %s", config.data_path.resolve())
        log.info("database %s", ctx.db.engine.url.render_as_string(hide_password=True))
        log.info("server public key %s", ctx.keys.public_hex)
        if ctx.config.base_url:
            log.info("join URL format %s", ctx.join_url("ROOM"))
            for room in room_cases.list_rooms(ctx)[:20]:
                log.info("join URL for room %s: %s", room.id, ctx.join_url(room.id))
        else:
            log.warning("base_url is not set: set it (e.g. --base-url) to print join URLs")
    finally:
        ctx.close()
    os.environ[RESOLVED_CONFIG_ENV] = json.dumps(
        {name: getattr(config, name) for name in config.__dataclass_fields__}
    )
    from opengroup.cli.ops_commands import prepare_serving

    prepare_serving(config)  # shared metrics for several workers; the metrics listener
    tune_allocator()
    uvicorn.run(
        "opengroup.runtime.app:app_from_environment",
        factory=True,
        host=config.host,
        port=config.port,
        workers=config.workers if config.workers > 1 else None,
        loop="uvloop",
        http=HeadTimeoutProtocol,  # httptools, with a deadline for request heads
        limit_concurrency=config.max_connections or None,
        log_level=config.log_level.lower(),
        access_log=config.access_log,
        server_header=False,
    )


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
    click.echo(f"{'ID':<24} {'NAME':<32} {'MESSAGES':>9} {'FILES':>6} {'ACTIVE':>7}")
    for s in summaries:
        click.echo(
            f"{s.room.id:<24} {s.room.name:<32} {s.messages:>9} {s.files:>6} {s.active_users:>7}"
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


@rooms.command("set-image")
@click.argument("room_id")
@click.argument("image", type=click.Path(dir_okay=False))
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
    """Print join URLs: of one room, or of every room. Example: opengroup url main"""
    ctx = open_context(resolve_config(data_dir, config_file, base_url=base_url))
    try:
        if not ctx.config.base_url:
            fail(
                "base_url is not set: set base_url in the config file, OPENGROUP_BASE_URL, "
                "or pass --base-url https://your.host"
            )
        targets = [existing_room(ctx, room_id)] if room_id else None
        if targets is None:
            targets = room_cases.list_rooms(ctx)
        for room in targets:
            click.echo(ctx.join_url(room.id))
    finally:
        ctx.close()


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
