"""What a room image may be: PNG, JPEG, GIF or WebP, told by its content (clients download a
room image and show it; anything else would be junk in every client)."""

from __future__ import annotations

from opengroup.errors import BadInput

IMAGE_KINDS = "PNG, JPEG, GIF or WebP"
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_media_type(head: bytes) -> str | None:
    """The media type of an image from its first 12 bytes or more; None if not one we take."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def check_room_image(content: bytes) -> str:
    """The image's media type, or BadInput naming what is accepted."""
    kind = image_media_type(content[:16])
    if kind is None:
        raise BadInput(f"a room image must be a {IMAGE_KINDS} image (checked by its content)")
    return kind
