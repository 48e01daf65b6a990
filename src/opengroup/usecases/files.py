"""Files through the modern API (SOGS-API.md 7.6, 9): raw uploads with the name given, raw
downloads, and the attaching of uploads to the post or edit that lists them; and through the
legacy API (PROTOCOL.md 4), at the end. One file table for both: a file of a room is served
by both APIs in that room, never in another, and the upload quota and the finding of a file
are one rule each."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from opengroup.errors import BadInput, NotFound
from opengroup.rules.limits import check_size, check_upload_quota
from opengroup.rules.room_text import clean_filename
from opengroup.store import Tx, file_lifetimes
from opengroup.store import files as file_store
from opengroup.store import users as user_store
from opengroup.store.database import RawTx
from opengroup.store.files import FileRecord
from opengroup.store.rooms import Room
from opengroup.usecases.context import DAY, ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.legacy_access import member, token_hash_of
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
            _check_quota(ctx, tx, room, signer.session_id, len(content), now)
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
    record, content = _stored(ctx, record, file_id)
    return Download(content, record.filename, record.expires_at)


def _check_quota(
    ctx: ServerContext, tx: Tx, room: Room, uploader: str, size: int, now: float
) -> None:
    """upload_quota_bytes_per_day (both APIs): what `uploader` stored in the room in the last
    day, plus `size`, must fit (413 otherwise)."""
    used = file_store.upload_bytes_since(tx, room, uploader, now - DAY)
    check_upload_quota(used, size, ctx.config.upload_quota_bytes_per_day)


def _stored(
    ctx: ServerContext, record: FileRecord | None, file_id: int
) -> tuple[FileRecord, bytes]:
    """A file found in the room, with its bytes (both APIs): 404 when it was not found
    (unknown, expired, of another room) or its bytes are gone."""
    content = ctx.blobs.read(file_id) if record else None
    if record is None or content is None:
        raise NotFound("no such file in this room")
    return record, content


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


# -- the 2021 API (PROTOCOL.md 4): base64 in JSON, a token instead of a signature ----------


def legacy_upload(
    ctx: ServerContext, room_id: str, token: str | None, read_content: Callable[[], bytes]
) -> int:
    """POST files: a file of the room by the token's user (upload permission), living
    file_expiry_days. `read_content` decodes the body; it is called after the token check,
    so that a bad token is a 401 whatever the body holds."""
    token_hash = token_hash_of(token)
    with ctx.db.read() as tx:
        room, actor = member(ctx, tx, room_id, token_hash, need="upload")
    content = read_content()
    now = ctx.clock()

    def within_quota(tx: Tx) -> None:
        """In the inserting transaction: parallel uploads cannot all pass the quota."""
        _check_quota(ctx, tx, room, actor.session_id, len(content), now)

    expires_at = now + ctx.config.file_expiry_days * DAY
    check = within_quota if ctx.config.upload_quota_bytes_per_day else None
    return file_store.store_file(
        ctx.db, ctx.blobs, room, content, actor.session_id, now, expires_at, check=check
    )


def legacy_download(ctx: ServerContext, room_id: str, token: str | None, file_id: int) -> bytes:
    """GET files/:id: a file of this room, for any user allowed to read it."""
    token_hash = token_hash_of(token)
    with ctx.db.read() as tx:
        room, _ = member(ctx, tx, room_id, token_hash)
        record = file_store.get_file(tx, room, file_id, ctx.clock())
    return _stored(ctx, record, file_id)[1]
