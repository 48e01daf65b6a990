"""What a room page shows of a message (setting `web_show_recent`): the text and the number of
attachments, read from the Session message the client posted.

A message's `data` is a padded, serialized protobuf `Content` (SOGS-API.md 6.4). Only three
fields matter here, so this is a small reader of the protobuf wire format rather than the
whole schema:

    Content      { DataMessage dataMessage = 1; … }
    DataMessage  { string body = 1; repeated AttachmentPointer attachments = 2; … }

Anything that does not parse shows as a message without text: the page never fails on what a
client posted.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
_CONTENT_DATA_MESSAGE = 1
_DATA_MESSAGE_BODY = 1
_DATA_MESSAGE_ATTACHMENTS = 2


class _Malformed(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MessageText:
    body: str  # "" when the message has no text (or could not be read)
    attachments: int


def unpad(data: bytes) -> bytes:
    """Session pads with 0x80 then zeros (to a multiple of 160 bytes): drop them."""
    stripped = data.rstrip(b"\x00")
    return stripped[:-1] if stripped.endswith(b"\x80") else data


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise _Malformed("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _fields(data: bytes) -> list[tuple[int, bytes | int]]:
    """(field number, value) of every field: bytes for length-delimited ones."""
    found: list[tuple[int, bytes | int]] = []
    position = 0
    while position < len(data):
        key, position = _varint(data, position)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, position = _varint(data, position)
            found.append((number, value))
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if position + size > len(data):
                raise _Malformed("truncated fixed field")
            found.append((number, int.from_bytes(data[position : position + size], "little")))
            position += size
        elif wire == _LENGTH:
            length, position = _varint(data, position)
            if position + length > len(data):
                raise _Malformed("truncated field")
            found.append((number, data[position : position + length]))
            position += length
        else:
            raise _Malformed(f"unsupported wire type {wire}")
    return found


def read_message(data: bytes) -> MessageText:
    """The text and attachment count of a Session message's (padded) bytes."""
    try:
        content = _fields(unpad(data))
        message = next(
            (v for n, v in content if n == _CONTENT_DATA_MESSAGE and isinstance(v, bytes)), None
        )
        if message is None:
            return MessageText("", 0)
        body, attachments = "", 0
        for number, value in _fields(message):
            if number == _DATA_MESSAGE_BODY and isinstance(value, bytes):
                body = value.decode("utf-8", errors="replace")
            elif number == _DATA_MESSAGE_ATTACHMENTS:
                attachments += 1
        return MessageText(body, attachments)
    except _Malformed:
        return MessageText("", 0)


def read_stored(data_b64: str | None) -> MessageText:
    """As `read_message`, from the base64 the store keeps."""
    if not data_b64:
        return MessageText("", 0)
    try:
        return read_message(base64.b64decode(data_b64, validate=True))
    except (binascii.Error, ValueError):
        return MessageText("", 0)


def short_id(session_id: str) -> str:
    """`15ab12…cdef`: enough to tell people apart, short enough for a line."""
    return f"{session_id[:6]}…{session_id[-4:]}" if len(session_id) > 12 else session_id
