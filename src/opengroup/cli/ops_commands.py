"""Operator commands beyond rooms and users: backup, restore, import-rust, rooms stats; and
what `opengroup serve` sets up before its workers start (shared metrics, metrics listener).

cli/main.py adds them to its groups.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click

from opengroup.cli.common import common_options, existing_room, fail, resolve_config, server_context
from opengroup.cli.operations import backup as run_backup
from opengroup.cli.operations import import_rust as run_import_rust
from opengroup.cli.operations import parse_window
from opengroup.cli.operations import restore as run_restore
from opengroup.config import Config
from opengroup.store import Database
from opengroup.usecases import stats

log = logging.getLogger("opengroup")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} bytes"


# -- serve: set up before the workers start --------------------------------------------------


def prepare_serving(config: Config) -> None:
    """Shared metrics storage for several workers, and the separate metrics listener."""
    from opengroup.web import metrics

    shared = metrics.prepare_multiprocess_dir(config)
    if shared is not None:
        log.info("metrics of %d workers shared in %s", config.workers, shared)
    listening = metrics.start_metrics_listener(
        config, lambda: stats.gauges_reader(Database(config.sqlalchemy_url))
    )
    if listening is not None:
        log.info("metrics on http://%s:%d/metrics", *listening)
    elif config.metrics and config.metrics_public:
        log.info("metrics on /metrics")
    elif config.metrics:
        log.info("metrics not served: set metrics_listen (e.g. 127.0.0.1:9100) or metrics_public")


# -- backup and restore ----------------------------------------------------------------------


@click.command()
@click.argument("dest", type=click.Path(file_okay=False))
@common_options
def backup(dest: str, data_dir: str | None, config_file: str | None) -> None:
    """Copy the database, files and key to DEST (new or empty), while the server runs.

    DEST is itself a valid data directory. Example: opengroup backup /backups/og-2024-06-01
    """
    report = run_backup(resolve_config(data_dir, config_file), Path(dest))
    click.echo(
        f"backed up {report.rooms} rooms, {report.messages} messages and {report.files} files "
        f"({_size(report.file_bytes)}) to {report.dest} in {report.seconds:.1f}s"
    )
    if report.dropped_files:
        click.echo(f"left out {report.dropped_files} files the server deleted during the backup")
    if report.hint:
        click.echo(report.hint)


@click.command()
@click.argument("src", type=click.Path(file_okay=False, exists=True))
@common_options
def restore(src: str, data_dir: str | None, config_file: str | None) -> None:
    """Restore a backup made by `opengroup backup` into an empty data directory.

    Example: opengroup restore /backups/og-2024-06-01 --data-dir ./data
    """
    report = run_restore(resolve_config(data_dir, config_file), Path(src))
    click.echo(
        f"restored {report.files} files and the key (public key {report.public_key}) "
        f"into {report.data_dir}"
    )
    if report.hint:
        click.echo(report.hint)


# -- import from the Rust-era server ---------------------------------------------------------


def _parse_renames(values: tuple[str, ...]) -> dict[str, str]:
    renames = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new:
            fail(f"--rename takes OLD=NEW, got {value!r}")
        renames[old] = new
    return renames


@click.command("import-rust")
@click.argument("source", type=click.Path(file_okay=False, exists=True))
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="OLD=NEW",
    help="Import room OLD as NEW (for ids not valid here; members join again).",
)
@click.option("--skip", "skips", multiple=True, metavar="ID", help="Leave room ID out.")
@common_options
def import_rust(
    source: str,
    renames: tuple[str, ...],
    skips: tuple[str, ...],
    data_dir: str | None,
    config_file: str | None,
) -> None:
    """Import a Rust-era server (session-open-group-server 0.1.x) from its directory SOURCE.

    Rooms, messages, deletions, files, room images, moderators, bans, tokens and user activity
    keep their ids, and the server takes over the Rust server's key, so join URLs and clients'
    cursors stay valid. Needs a new, empty data directory. Stop the Rust server first.

    Example: opengroup import-rust /var/lib/session-open-group-server --data-dir ./data
    """
    config = resolve_config(data_dir, config_file)
    report = run_import_rust(config, Path(source), _parse_renames(renames), set(skips))
    for room in report.rooms:
        renamed = f" (was {room.rust_id})" if room.rust_id != room.room_id else ""
        click.echo(
            f"room {room.room_id}{renamed}: {room.messages} messages, {room.deleted_messages} "
            f"deleted, {room.deletions} deletions, {room.files} files "
            f"({_size(room.file_bytes)}), {'an' if room.image else 'no'} image, "
            f"{room.moderators} moderators, {room.bans} bans, {room.tokens} tokens, "
            f"{room.users} users"
        )
        for reason, count in sorted(room.skipped.items()):
            click.echo(f"  skipped {count}: {reason}")
    if report.removed_main:
        click.echo("removed the empty room 'main' made on first start (the Rust server had none)")
    click.echo(f"public key {report.public_key} (the Rust server's: join URLs stay the same)")
    if config.base_url:
        for room in report.rooms:
            click.echo(
                f"{config.base_url.rstrip('/')}/{room.room_id}?public_key={report.public_key}"
            )
    else:
        click.echo(
            "set base_url to the address the Rust server was reached at (same host and port) "
            "so that the join URLs stay the same"
        )
    click.echo(f"imported {len(report.rooms)} rooms in {report.seconds:.1f}s")


# -- rooms stats -----------------------------------------------------------------------------


@click.command("stats")
@click.argument("room_id")
@click.option("--window", default="1h", show_default=True, help="How far back: 30m, 1h, 7d…")
@common_options
def rooms_stats(room_id: str, window: str, data_dir: str | None, config_file: str | None) -> None:
    """Posts and active users of a room in the last WINDOW. Example: opengroup rooms stats main"""
    seconds = parse_window(window)
    with server_context(data_dir, config_file) as ctx:
        room = existing_room(ctx, room_id)
        now = ctx.clock()
        activity = stats.room_activity(ctx, room, now - seconds)
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now - seconds))
    click.echo(f"room          {room.id} ({room.name})")
    click.echo(f"window        {window} (since {since})")
    click.echo(f"posts         {activity.posts}")
    click.echo(f"  deleted     {activity.deleted}")
    click.echo(f"posters       {activity.posters}")
    click.echo(f"active users  {activity.active_users}")
