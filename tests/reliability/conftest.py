"""Helpers for the reliability suite: a small tmpfs (when this machine lets us mount one)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def try_mount_tmpfs(target: Path, size: str) -> bool:
    target.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target)],
        capture_output=True,
    )
    return done.returncode == 0


def unmount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs: the real kernel's ENOSPC. Skipped where mounting is not allowed (not
    root); the simulated full-disk tests in test_storage_failures.py run everywhere."""
    mount_point = tmp_path / "disk"
    if not try_mount_tmpfs(mount_point, "24m"):
        pytest.skip("cannot mount a tmpfs here (needs root / CAP_SYS_ADMIN)")
    try:
        yield mount_point
    finally:
        unmount(mount_point)


def fill_disk(path: Path) -> Path:
    """Write one file until the filesystem is full; returns the filler (delete it to free)."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as handle:
        for size in (1024 * 1024, 64 * 1024, 4096, 512):
            while True:
                try:
                    if handle.write(b"\0" * size) < size:
                        break
                except OSError as error:
                    assert error.errno == errno.ENOSPC, error
                    break
    return filler
