"""POST files, GET files/:id: a file belongs to the room it was posted to. Parse, call the use
case (usecases/files.py, which the modern API's files share), shape."""

from __future__ import annotations

import base64

from opengroup.api.legacy.headers import room_header, token_header
from opengroup.api.legacy.parsing import base64_field, json_object, path_int
from opengroup.api.request import Call, Reply
from opengroup.usecases import files


def upload(call: Call) -> Reply:
    max_size = call.ctx.config.max_file_size

    def file_content() -> bytes:
        """The body, decoded after the token check (a bad token: 401 whatever the body)."""
        return base64_field(json_object(call.request), "file", max_size, "file")

    file_id = files.legacy_upload(call.ctx, room_header(call), token_header(call), file_content)
    return {"result": file_id}


def download(call: Call) -> Reply:
    file_id = path_int(call.params["file_id"], "file id")
    content = files.legacy_download(call.ctx, room_header(call), token_header(call), file_id)
    return {"result": base64.b64encode(content).decode()}
