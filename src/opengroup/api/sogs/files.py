"""POST /room/R/file, GET /room/R/file/ID[/NAME] (SOGS-API.md 7.6): raw bytes both ways; the
name travels in Content-Disposition (RFC 6266, with RFC 5987's `filename*`)."""

from __future__ import annotations

import re
from email.utils import formatdate
from urllib.parse import quote, unquote

from opengroup.api.request import Call
from opengroup.api.sogs.parsing import path_int
from opengroup.api.sogs.replies import Created, Raw
from opengroup.errors import BadInput
from opengroup.usecases import files

# One `; name=value` parameter: a token, or a quoted string with backslash escapes.
_PARAMETER = re.compile(
    r";\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;\s]*)\s*"
)
_QUOTED_PAIR = re.compile(r"\\(.)")
_EXTENDED = re.compile(r"([!#$&+.^_`|~0-9A-Za-z-]+)'[^']*'(.*)", re.DOTALL)


def _extended_value(value: str) -> str:
    """RFC 5987: `charset'language'percent-encoded` (UTF-8 or ISO-8859-1)."""
    found = _EXTENDED.fullmatch(value)
    if found is None:
        raise BadInput("Content-Disposition: filename* must be charset''percent-encoded")
    charset = found.group(1).lower()
    if charset not in ("utf-8", "iso-8859-1"):
        raise BadInput("Content-Disposition: filename* must be UTF-8 or ISO-8859-1")
    try:
        return unquote(found.group(2), encoding=charset, errors="strict")
    except UnicodeDecodeError:
        raise BadInput(f"Content-Disposition: filename* is not valid {charset}") from None


def filename_of(header: str | None) -> str | None:
    """The file name in a Content-Disposition header: `filename*` wins over `filename`;
    None when the header names none (Android sends a bare `attachment`)."""
    if not header:
        return None
    _, _, rest = header.partition(";")
    plain: str | None = None
    for name, value in _PARAMETER.findall(";" + rest):
        key = name.lower()
        if key == "filename*":
            return _extended_value(value)
        if key == "filename" and plain is None:
            if value.startswith('"'):
                value = _QUOTED_PAIR.sub(r"\1", value[1:-1])
            plain = value
    return plain


def disposition(filename: str | None) -> str:
    if not filename:
        return "attachment"
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"


def upload(call: Call) -> object:
    name = filename_of(call.request.header("content-disposition"))
    file_id = files.upload(
        call.ctx, call.params["room"], call.request.user, call.request.body or b"", name
    )
    return Created({"id": file_id})


def download(call: Call) -> object:
    file_id = path_int(call.params["id"])
    found = files.download(call.ctx, call.params["room"], call.request.user, file_id)
    headers = {"content-disposition": disposition(found.filename)}
    if found.expires_at is not None:
        headers["expires"] = formatdate(found.expires_at, usegmt=True)
    return Raw(found.content, headers=headers)
