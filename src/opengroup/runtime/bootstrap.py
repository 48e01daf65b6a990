"""The composition root: opens (and on first use creates) the data directory, key, database
and files directory, and returns the ServerContext that everything else works through."""

from __future__ import annotations

import logging

from opengroup.config import Config
from opengroup.crypto.keyfile import load_or_create_server_keys
from opengroup.rules.ids import check_new_room_id
from opengroup.runtime.permissions import make_data_private
from opengroup.store import BlobStore, Database, rooms
from opengroup.store.migrate import migrate
from opengroup.usecases.context import ServerContext

log = logging.getLogger("opengroup")

MAIN_ROOM = ("main", "Main")


def open_context(config: Config, *, background_checkpoints: bool = False) -> ServerContext:
    """Open (and on first use create) the data directory, key, database and files directory.

    Schema migrations run here, under a lock, so every entry point works on a current schema.
    `background_checkpoints`: see Database; only for a process that runs `jobs.checkpoints`.
    """
    make_data_private(config.data_path, config.files_path)
    keys = load_or_create_server_keys(config.key_path)
    db = Database(config.sqlalchemy_url, background_checkpoints=background_checkpoints)
    migrate(db)
    blobs = BlobStore(config.files_path)
    blobs.ensure()
    context = ServerContext(config=config, db=db, blobs=blobs, keys=keys)
    if config.create_main_room:
        create_main_room_once(context)
    return context


def create_main_room_once(context: ServerContext) -> None:
    """Room `main` on the first start of an empty database: later, deleting it is final."""
    room_id, name = MAIN_ROOM
    with context.db.write() as tx:
        created = rooms.create_first_room(tx, check_new_room_id(room_id), name, context.clock())
    if created:
        log.info("created room %r", room_id)
