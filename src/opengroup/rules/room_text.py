"""Text an admin or uploader gives the server: room names, descriptions, file names
(SOGS-API.md 7.2, 7.6). Plain functions: control characters out, limits in."""

from __future__ import annotations

import unicodedata

from ..errors import BadInput

MAX_NAME_CHARS = 256
MAX_DESCRIPTION_CHARS = 4096
MAX_FILENAME_CHARS = 255


def without_control_characters(text: str, keep: str = "") -> str:
    """`text` without Unicode control characters (category Cc), except those in `keep`."""
    return "".join(char for char in text if char in keep or unicodedata.category(char) != "Cc")


def clean_room_name(value: object) -> str:
    """`name`: a string; control characters removed; empty (or blank) afterwards → 400."""
    if not isinstance(value, str):
        raise BadInput("'name' must be a string")
    name = without_control_characters(value).strip()
    if not name:
        raise BadInput("'name' must not be empty")
    if len(name) > MAX_NAME_CHARS:
        raise BadInput(f"'name' must be at most {MAX_NAME_CHARS} characters")
    return name


def clean_description(value: object) -> str | None:
    """`description`: a string or null; null or "" removes it (None); tab and newline kept."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadInput("'description' must be a string or null")
    description = without_control_characters(value, keep="\t\n")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise BadInput(f"'description' must be at most {MAX_DESCRIPTION_CHARS} characters")
    return description or None


def clean_filename(name: str | None) -> str | None:
    """The name given at upload, as it will be given back: control characters (NUL among
    them) removed; none when nothing is left. The bytes on disk are named by id only."""
    if name is None:
        return None
    cleaned = without_control_characters(name)
    if len(cleaned) > MAX_FILENAME_CHARS:
        raise BadInput(f"the file name must be at most {MAX_FILENAME_CHARS} characters")
    return cleaned or None
