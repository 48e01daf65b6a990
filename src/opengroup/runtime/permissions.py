"""What the server writes is its own: folders 0700, files 0600 (umask 077 from start-up), and
an existing data directory that others could read is tightened once, with one log line."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("opengroup")

PRIVATE_UMASK = 0o077


def make_data_private(data_dir: Path, files_dir: Path) -> int:
    """Set the umask, create `data_dir` 0700 if new, and take group and other permissions
    away from it, `files_dir` and what they hold (not deeper). How many paths changed."""
    os.umask(PRIVATE_UMASK)
    data_dir.mkdir(parents=True, exist_ok=True)
    changed = 0
    for folder in (data_dir, files_dir):
        if not folder.is_dir():
            continue
        changed += _tighten(folder)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_file(follow_symlinks=False):
                    changed += _tighten(Path(entry.path))
    if changed:
        log.info("made %d files and folders in %s readable by this user only", changed, data_dir)
    return changed


def _tighten(path: Path) -> int:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
            return 1
    except OSError as error:
        log.warning("could not restrict permissions of %s: %s", path, error.strerror)
    return 0
