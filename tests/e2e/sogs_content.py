"""Helpers of the modern content tests: Session message bodies (protobuf, padded) carrying
text and attachment ids, raw uploads, and admins."""

from __future__ import annotations

import struct
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, unquote

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient, SogsReply

from .conftest import Server, b64


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def session_content(text: str, attachment_ids: tuple[int, ...] = (), pad: bool = True) -> bytes:
    """Content { dataMessage { body, attachments [{id (fixed64), url}] } }, padded as Session
    pads (0x80, then zeros to a multiple of 160 bytes)."""
    attachments = b"".join(
        _field(
            2,
            _varint(1 << 3 | 1)
            + struct.pack("<Q", file_id)
            + _field(101, f"http://example/file/{file_id}".encode()),
        )
        for file_id in attachment_ids
    )
    content = _field(1, _field(1, text.encode()) + attachments)
    if not pad:
        return content
    padded = content + b"\x80"
    return padded + b"\x00" * (-len(padded) % 160)


def upload(
    client: SogsClient,
    room: str,
    user: BlindedUser | None,
    content: bytes,
    headers: dict[str, str] | None = None,
) -> SogsReply:
    return client.request("POST", f"/room/{room}/file", raw=content, headers=headers, user=user)


def upload_id(
    client: SogsClient, room: str, user: BlindedUser, content: bytes, name: str | None = None
) -> int:
    headers = {}
    if name is not None:
        headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name, safe='')}"
    reply = upload(client, room, user, content, headers)
    assert reply.code == 201, (reply.code, reply.text)
    file_id = reply.json["id"]
    assert isinstance(file_id, int) and not isinstance(file_id, bool) and file_id > 0
    return file_id


def post_with_files(
    client: SogsClient,
    room: str,
    user: BlindedUser,
    files: list[Any],
    text: str = "see attached",
) -> dict[str, Any]:
    ids = tuple(int(f) for f in files if str(f).isdigit())
    data = session_content(text, ids)
    reply = client.post(
        f"/room/{room}/message",
        {
            "data": b64(data),
            "signature": b64(user.sign_post(data, client.server_pk)),
            "files": files,
        },
        user=user,
    )
    assert reply.code == 201, (reply.code, reply.text)
    return dict(reply.json)


def download(client: SogsClient, room: str, file_id: int, user: BlindedUser | None) -> SogsReply:
    return client.get(f"/room/{room}/file/{file_id}", user=user)


def expires_in(reply: SogsReply, now: float) -> float | None:
    """Seconds from `now` to the reply's `expires` header; None without one."""
    header = reply.headers.get("expires")
    if header is None:
        return None
    return parsedate_to_datetime(header).timestamp() - now


def filename_in(reply: SogsReply) -> str | None:
    disposition = reply.headers["content-disposition"]
    assert disposition.startswith("attachment"), disposition
    marker = "filename*=UTF-8''"
    if marker not in disposition:
        return None
    return unquote(disposition.split(marker, 1)[1], errors="strict")


def new_admin(server: Server, room: str) -> BlindedUser:
    admin = BlindedUser.generate()
    server.add_admin(admin.session_id, room)
    return admin


def room_info(client: SogsClient, room: str, user: BlindedUser | None) -> dict[str, Any]:
    reply = client.get(f"/room/{room}", user=user)
    assert reply.code == 200, (reply.code, reply.text)
    return dict(reply.json)
