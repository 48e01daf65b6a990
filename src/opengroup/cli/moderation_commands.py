"""`opengroup moderators …`, `bans …`, `users perms` and `rooms perms`: the same use cases
(and so the same rules) as the APIs. Users are named by a 05 or a 15 id; either form
reaches both forms of the person (grants, bans and overrides are keyed by the root id)."""

from __future__ import annotations

import time

import click

from opengroup.cli.common import common_options, existing_room, fail, server_context
from opengroup.cli.operations import parse_window
from opengroup.store.permissions import PERMISSIONS, Override
from opengroup.usecases import moderation, permissions
from opengroup.usecases.acting import as_operator

# Short names of the permissions on the command line: +w, -r, =u (back to the default).
_SHORT = {"r": "read", "a": "accessible", "w": "write", "u": "upload"}


def _room_or_global(room_id: str | None, is_global: bool) -> str | None:
    """The room a command is about, or None for --global."""
    if bool(room_id) == is_global:
        fail("give either a ROOM or --global")
    return room_id


def _duration(text: str | None) -> float | None:
    return None if text is None else parse_window(text)


# -- moderators ------------------------------------------------------------------------------


@click.group()
def moderators() -> None:
    """Add, remove and list moderators and admins of a room or of every room (global)."""


@moderators.command("add")
@click.argument("session_id")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Moderator of every room.")
@click.option("--admin", is_flag=True, help="An admin: may also change the room and its mods.")
@click.option("--hidden", is_flag=True, help="Not listed to members (global: the default).")
@click.option("--visible", is_flag=True, help="Listed to members (room: the default).")
@common_options
def moderators_add(
    session_id: str,
    room_id: str | None,
    is_global: bool,
    admin: bool,
    hidden: bool,
    visible: bool,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Make a user (05 or 15 id) a moderator or admin.

    Example: opengroup moderators add 05ab…cd main --admin
    """
    room_id = _room_or_global(room_id, is_global)
    if hidden and visible:
        fail("give at most one of --hidden and --visible")
    shown = False if hidden else (True if visible else None)
    with server_context(data_dir, config_file) as ctx:
        if room_id is None:
            moderation.add_global_moderator(ctx, session_id, admin=admin or None, visible=shown)
            where = "every room"
        else:
            acting = as_operator(room_id)
            where = moderation.add_moderator(
                ctx, acting, session_id, admin=admin or None, visible=shown
            ).id
    role = "is an admin of" if admin else "moderates"
    click.echo(f"{session_id.lower()} {role} {where}")


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
    """Remove a moderator or admin. Example: opengroup moderators remove 05ab…cd --global"""
    room_id = _room_or_global(room_id, is_global)
    with server_context(data_dir, config_file) as ctx:
        removed = (
            moderation.remove_global_moderator(ctx, session_id)
            if room_id is None
            else moderation.remove_moderator(ctx, as_operator(room_id), session_id)
        )
    where = room_id if room_id else "every room (global)"
    verb = "no longer moderates" if removed else "was not a moderator of"
    click.echo(f"{session_id.lower()} {verb} {where}")


@moderators.command("list")
@click.argument("room_id", required=False)
@common_options
def moderators_list(room_id: str | None, data_dir: str | None, config_file: str | None) -> None:
    """List moderators, global ones included: `ID ROOM|global [admin] [hidden|visible]`
    (room grants are visible and global ones hidden unless marked otherwise)."""
    with server_context(data_dir, config_file) as ctx:
        if room_id:
            existing_room(ctx, room_id)
        listed = moderation.all_moderators(ctx, room_id)
    for entry in listed:
        flags = ["admin"] if entry.admin else []
        if entry.room is not None and not entry.visible:
            flags.append("hidden")
        if entry.room is None and entry.visible:
            flags.append("visible")
        click.echo(" ".join([entry.shown_as, entry.room or "global", *flags]))


# -- bans ------------------------------------------------------------------------------------


@click.group()
def bans() -> None:
    """Ban, unban and list banned users of a room or of the whole server (--global)."""


@bans.command("add")
@click.argument("session_id")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Banned from the whole server.")
@click.option("--for", "duration", default=None, help="Lift the ban after e.g. 30m, 1h, 7d.")
@common_options
def bans_add(
    session_id: str,
    room_id: str | None,
    is_global: bool,
    duration: str | None,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Ban a user (05 or 15 id). Example: opengroup bans add 05ab…cd main --for 1d"""
    room_id = _room_or_global(room_id, is_global)
    seconds = _duration(duration)
    with server_context(data_dir, config_file) as ctx:
        if room_id is None:
            moderation.ban_globally(ctx, session_id, seconds)
            where = "the whole server"
        else:
            where = moderation.ban(ctx, as_operator(room_id), session_id, seconds).id
    until = "" if duration is None else f" for {duration}"
    click.echo(f"{session_id.lower()} is banned from {where}{until}")


@bans.command("remove")
@click.argument("session_id")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Lift a ban from the whole server.")
@common_options
def bans_remove(
    session_id: str,
    room_id: str | None,
    is_global: bool,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Lift a ban. Example: opengroup bans remove 05ab…cd main"""
    room_id = _room_or_global(room_id, is_global)
    with server_context(data_dir, config_file) as ctx:
        removed = (
            moderation.unban_globally(ctx, session_id)
            if room_id is None
            else moderation.unban(ctx, as_operator(room_id), session_id)
        )
    where = room_id or "the whole server"
    click.echo(
        f"{session_id.lower()} {'is no longer' if removed else 'was not'} banned from {where}"
    )


@bans.command("list")
@click.argument("room_id", required=False)
@click.option("--global", "is_global", is_flag=True, help="Bans from the whole server.")
@common_options
def bans_list(
    room_id: str | None, is_global: bool, data_dir: str | None, config_file: str | None
) -> None:
    """List banned users: `ID [until TIME]`."""
    room_id = _room_or_global(room_id, is_global)
    with server_context(data_dir, config_file) as ctx:
        found = (
            moderation.global_bans(ctx)
            if room_id is None
            else moderation.room_bans(ctx, as_operator(room_id))
        )
    for ban in found:
        until = "" if ban.expires_at is None else f" until {_when(ban.expires_at)}"
        click.echo(f"{ban.named_as}{until}")


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


# -- permissions -----------------------------------------------------------------------------


def _parse_changes(changes: tuple[str, ...]) -> tuple[Override, frozenset[str]]:
    """`+w -r =u …`: grant, deny, or give back to the default (`=`)."""
    values: dict[str, bool | None] = dict.fromkeys(PERMISSIONS)
    cleared: set[str] = set()
    if not changes:
        fail("give at least one change: +r -r =r, +a, +w, +u (read, accessible, write, upload)")
    for change in changes:
        sign, letters = change[:1], change[1:]
        if sign not in "+-=" or not letters or any(letter not in _SHORT for letter in letters):
            fail(f"bad change {change!r}: use +r -w =u … (r read, a accessible, w write, u upload)")
        for letter in letters:
            name = _SHORT[letter]
            if sign == "=":
                cleared.add(name)
            else:
                values[name] = sign == "+"
    return Override(**values), frozenset(cleared)


_CHANGES = {"ignore_unknown_options": True}


@click.group()
def users() -> None:
    """What one user may do in a room."""


@users.command("perms", context_settings=_CHANGES)
@click.argument("session_id")
@click.argument("room_id")
@click.argument("changes", nargs=-1, type=click.UNPROCESSED)
@click.option("--for", "duration", default=None, help="The override ends after e.g. 1h, 1d.")
@common_options
def users_perms(
    session_id: str,
    room_id: str,
    changes: tuple[str, ...],
    duration: str | None,
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Override a user's permissions in a room (moderators are never restricted).

    Example: opengroup users perms 05ab…cd news +w --for 1d
    """
    change, cleared = _parse_changes(changes)
    seconds = _duration(duration)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        result = permissions.operator_user_override(ctx, room, session_id, change, seconds, cleared)
    shown = " ".join(
        f"{'+' if getattr(result, name) else '-'}{name}"
        for name in PERMISSIONS
        if getattr(result, name) is not None
    )
    click.echo(f"{session_id.lower()} in {room.id}: {shown or 'room defaults'}")


@click.command("perms", context_settings=_CHANGES)
@click.argument("room_id")
@click.argument("changes", nargs=-1, type=click.UNPROCESSED)
@common_options
def rooms_perms(
    room_id: str, changes: tuple[str, ...], data_dir: str | None, config_file: str | None
) -> None:
    """A room's default permissions for everyone (e.g. an announcement room: -w).

    Example: opengroup rooms perms news -w
    """
    change, cleared = _parse_changes(changes)
    if cleared:
        fail("a room's defaults are set with + or -, not =")
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        defaults = permissions.operator_room_defaults(ctx, room, change)
    shown = " ".join(f"{'+' if value else '-'}{name}" for name, value in defaults.items())
    click.echo(f"{room.id}: {shown}")
