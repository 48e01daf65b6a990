"""Files through the modern API (SOGS-API.md 7.6, 9): raw uploads with the name given, raw
downloads, and the attaching of uploads to the post or edit that lists them. One file table
with the legacy API: a file of a room is served by both APIs in that room, never in another."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opengroup.errors import BadInput, NotFound
from opengroup.rules.limits import check_size, check_upload_quota
from opengroup.rules.room_text import clean_filename
from opengroup.store import Tx, file_lifetimes
from opengroup.store import files as file_store
from opengroup.store import users as user_store
from opengroup.store.database import RawTx
from opengroup.store.rooms import Room
from opengroup.usecases.context import DAY, ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import find_room, require_read, require_upload, require_user


@dataclass(frozen=True, slots=True)
class Download:
    content: bytes
    filename: str | None
    expires_at: float | None


def attached_expiry_seconds(ctx: ServerContext) -> float:
    """How long after its upload an attached file lives; 0: for ever (SOGS-API.md 9)."""
    return ctx.config.file_expiry_days * DAY


def upload(
    ctx: ServerContext, token: str, user: SignedUser | None, content: bytes, filename: str | None
) -> int:
    """A new file of the room by the signer; it expires `upload_unattached_seconds` from now
    unless a post attaches it or it becomes the room image."""
    signer = require_user(user)
    if not content:
        raise BadInput("the file is empty")
    check_size(len(content), ctx.config.max_file_size, "file")
    name = clean_filename(filename)
    now = ctx.clock()
    with ctx.db.read() as tx:
        view = find_room(ctx, tx, token, signer)
        require_upload(view)
        room = view.info.room
        if ctx.config.upload_quota_bytes_per_day:
            used = file_store.upload_bytes_since(tx, room, signer.session_id, now - DAY)
            check_upload_quota(used, len(content), ctx.config.upload_quota_bytes_per_day)
    expires_at = now + ctx.config.upload_unattached_seconds
    return file_store.store_file(
        ctx.db, ctx.blobs, room, content, signer.session_id, now, expires_at, name
    )


def download(ctx: ServerContext, token: str, user: SignedUser | None, file_id: int) -> Download:
    """The file's bytes: 403 without read permission, 404 when unknown, expired or of
    another room."""
    with ctx.db.read() as tx:
        view = find_room(ctx, tx, token, user)
        require_read(view)
        record = file_store.get_file(tx, view.info.room, file_id, ctx.clock())
    content = ctx.blobs.read(file_id) if record else None
    if record is None or content is None:
        raise NotFound("no such file in this room")
    return Download(content, record.filename, record.expires_at)


def own_ids(tx: Tx | RawTx, user: SignedUser) -> set[str]:
    """Every id this person may have uploaded with: their uploads are theirs to attach."""
    return {user.session_id, user.root, *user_store.ids_of_root(tx, user.root)}


def attach_uploads(
    ctx: ServerContext,
    tx: Tx | RawTx,
    room: Room,
    user: SignedUser,
    message_id: int,
    file_ids: Iterable[int],
) -> int:
    """The `files` of a post or edit (SOGS-API.md 7.3): the listed uploads that are the
    caller's own, in this room, not attached yet and younger than the unattached lifetime are
    attached to the message and expire `file_expiry_days` after their upload; other ids are
    ignored silently. Runs in the post's own write transaction."""
    wanted = set(file_ids)
    if not wanted:
        return 0
    now = ctx.clock()
    return file_lifetimes.attach_uploads(
        tx,
        room,
        message_id,
        wanted,
        own_ids(tx, user),
        uploaded_after=now - max(ctx.config.upload_unattached_seconds, 0.0),
        now=now,
        expiry_seconds=attached_expiry_seconds(ctx),
    )
