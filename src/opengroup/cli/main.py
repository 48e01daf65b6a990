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

from opengroup.cli import ops_commands
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
from opengroup.rules.ids import check_new_room_id, check_room_name, parse_session_id
from opengroup.rules.limits import check_size
from opengroup.rules.room_text import clean_description
from opengroup.runtime.allocator import tune_allocator
from opengroup.runtime.bootstrap import open_context
from opengroup.store import files as file_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store.rooms import Room
from opengroup.usecases.context import DAY, ServerContext
from opengroup.usecases.room_settings import describe_room


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
            with ctx.db.read() as tx:
                for room in room_store.list_rooms(tx)[:20]:
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
        http="httptools",
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
    room_id, name = check_new_room_id(room_id), check_room_name(name)
    with server_context(data_dir, config_file) as ctx, ctx.db.write() as tx:
        if room_store.get_room(tx, room_id):
            fail(f"room {room_id!r} already exists")
        room_store.create_room(tx, room_id, name, ctx.clock())
    click.echo(f"created room {room_id}")


@rooms.command("list")
@common_options
def rooms_list(data_dir: str | None, config_file: str | None) -> None:
    """List rooms: id, name, messages, files, users active in the last 7 days."""
    with server_context(data_dir, config_file) as ctx, ctx.db.read() as tx:
        summaries = room_store.summarise_rooms(tx, ctx.clock() - 7 * DAY)
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
    name = check_room_name(name)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        with ctx.db.write() as tx:
            room_store.rename_room(tx, room, name)
    click.echo(f"renamed room {room.id} to {name!r}")


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
@click.argument("image", type=click.Path(dir_okay=False))
@common_options
def rooms_set_image(
    room_id: str, image: str, data_dir: str | None, config_file: str | None
) -> None:
    """Set a room's image from a file. Example: opengroup rooms set-image main logo.png"""
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        content = Path(image).read_bytes()
        check_size(len(content), ctx.config.max_file_size, "image")
        file_store.replace_room_image(
            ctx.db, ctx.blobs, room.id, content, None, ctx.clock(),
            previous_expiry_seconds=ctx.config.file_expiry_days * DAY,
        )  # fmt: skip
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
        room = existing_room(ctx, room_id)
        with ctx.db.write() as tx:
            file_ids = room_store.delete_room(tx, room)
        ctx.blobs.unlink(file_ids)
    click.echo(f"deleted room {room.id} and {len(file_ids)} files")


# -- moderators and bans ---------------------------------------------------------------------


@main.group()
def moderators() -> None:
    """Add, remove and list moderators of a room or of every room (global)."""


def _room_or_global(ctx: ServerContext, room_id: str | None, is_global: bool) -> Room | None:
    """The room a moderator command is about, or None for --global."""
    if bool(room_id) == is_global:
        fail("give either a ROOM or --global")
    return existing_room(ctx, room_id) if room_id else None


@moderators.command("add")
@click.argument("session_id")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Moderator of every room.")
@click.option("--admin", is_flag=True, help="An admin: may also edit the room and pin.")
@common_options
def moderators_add(
    session_id: str,
    room_id: str | None,
    is_global: bool,
    admin: bool,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Make a user a moderator. Example: opengroup moderators add 05ab…cd main"""
    session_id = parse_session_id(session_id)
    with server_context(data_dir, config_file) as ctx:
        room = _room_or_global(ctx, room_id, is_global)
        with ctx.db.write() as tx:
            if admin and room is None:
                moderation_store.grant_global_moderator(tx, session_id, session_id, admin=True)
            elif admin and room is not None:
                moderation_store.grant_moderator(tx, room, session_id, session_id, admin=True)
            elif room is None:
                moderation_store.add_global_moderator(tx, session_id)
            else:
                moderation_store.add_moderator(tx, room, session_id)
    role = "administers" if admin else "moderates"
    click.echo(f"{session_id} {role} {room.id if room else 'every room'}")


@moderators.command("remove")
@click.argument("session_id")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Remove a global moderator.")
@common_options
def moderators_remove(
    session_id: str,
    room_id: str | None,
    is_global: bool,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Remove a moderator. Example: opengroup moderators remove 05ab…cd --global"""
    session_id = parse_session_id(session_id)
    with server_context(data_dir, config_file) as ctx:
        room = _room_or_global(ctx, room_id, is_global)
        with ctx.db.write() as tx:
            removed = (
                moderation_store.remove_global_moderator(tx, session_id)
                if room is None
                else moderation_store.remove_moderator(tx, room, session_id)
            )
    where = room.id if room else "every room (global)"
    click.echo(
        f"{session_id} {'no longer moderates' if removed else 'was not a moderator of'} {where}"
    )


@moderators.command("list")
@click.argument("room_id", required=False)
@common_options
def moderators_list(room_id: str | None, data_dir: str | None, config_file: str | None) -> None:
    """List moderators: of one room (global ones included), or all of them."""
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id) if room_id else None
        with ctx.db.read() as tx:
            global_ids = moderation_store.global_moderator_ids(tx)
            per_room = moderation_store.moderators_by_room(tx)
    for session_id in global_ids:
        click.echo(f"{session_id} global")
    for listed_room, session_id in per_room:
        if room is None or listed_room == room.id:
            click.echo(f"{session_id} {listed_room}")


@main.group()
def bans() -> None:
    """Ban, unban and list banned users of a room."""


@bans.command("add")
@click.argument("session_id")
@click.argument("room_id")
@common_options
def bans_add(session_id: str, room_id: str, data_dir: str | None, config_file: str | None) -> None:
    """Ban a user from a room. Example: opengroup bans add 05ab…cd main"""
    session_id = parse_session_id(session_id)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        with ctx.db.write() as tx:
            moderation_store.ban(tx, room, session_id)
    click.echo(f"{session_id} is banned from {room.id}")


@bans.command("remove")
@click.argument("session_id")
@click.argument("room_id")
@common_options
def bans_remove(
    session_id: str, room_id: str, data_dir: str | None, config_file: str | None
) -> None:
    """Lift a ban. Example: opengroup bans remove 05ab…cd main"""
    session_id = parse_session_id(session_id)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        with ctx.db.write() as tx:
            removed = moderation_store.unban(tx, room, session_id)
    click.echo(f"{session_id} {'is no longer' if removed else 'was not'} banned from {room.id}")


@bans.command("list")
@click.argument("room_id")
@common_options
def bans_list(room_id: str, data_dir: str | None, config_file: str | None) -> None:
    """List the users banned from a room."""
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        with ctx.db.read() as tx:
            banned = moderation_store.banned_members(tx, room)
    for session_id in banned:
        click.echo(session_id)


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
            with ctx.db.read() as tx:
                targets = room_store.list_rooms(tx)
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


for command in (ops_commands.backup, ops_commands.restore, ops_commands.import_rust, db):
    main.add_command(command)
rooms.add_command(ops_commands.rooms_stats)
