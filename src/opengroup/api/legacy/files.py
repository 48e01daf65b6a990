"""POST files, GET files/:id: a file belongs to the room it was posted to."""

from __future__ import annotations

import base64

from opengroup.api.legacy import access
from opengroup.api.legacy.parsing import base64_field, json_object, path_int
from opengroup.api.request import Call, Reply
from opengroup.errors import NotFound
from opengroup.rules.limits import check_upload_quota
from opengroup.store import Tx
from opengroup.store import files as file_store
from opengroup.usecases.context import DAY


def upload(call: Call) -> Reply:
    ctx = call.ctx
    with ctx.db.read() as tx:
        room, actor = access.basic(call, tx, need="upload")
    content = base64_field(json_object(call.request), "file", ctx.config.max_file_size, "file")
    now = ctx.clock()
    quota = ctx.config.upload_quota_bytes_per_day

    def within_quota(tx: Tx) -> None:
        """In the inserting transaction: parallel uploads cannot all pass the quota."""
        used = file_store.upload_bytes_since(tx, room, actor.session_id, now - DAY)
        check_upload_quota(used, len(content), quota)

    expires_at = now + ctx.config.file_expiry_days * DAY
    file_id = file_store.store_file(
        ctx.db, ctx.blobs, room, content, actor.session_id, now, expires_at,
        check=within_quota if quota else None,
    )  # fmt: skip
    return {"result": file_id}


def download(call: Call) -> Reply:
    ctx = call.ctx
    file_id = path_int(call.params["file_id"], "file id")
    with ctx.db.read() as tx:
        room, _ = access.basic(call, tx)
        record = file_store.get_file(tx, room, file_id, ctx.clock())
    content = ctx.blobs.read(file_id) if record else None
    if content is None:
        raise NotFound("no such file in this room")
    return {"result": base64.b64encode(content).decode()}
