"""The project's normative inputs: PROTOCOL.md and the real clients' vectors.

They live in ../shared beside the repository; tests/data holds a copy so that a clone
anywhere still tests against them. `tests/unit/test_spec_copies.py` fails when the copy and
../shared differ, so the copy cannot drift.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
COPIES = REPO / "tests" / "data"
SPEC_FILES = {
    "PROTOCOL.md": "spec/PROTOCOL.md",
    "client-vectors.json": "testdata/client-vectors.json",
    "modern-client-vectors.json": "testdata/modern-client-vectors.json",
}


# The specs the README links, copied into docs/ so that a clone has them (the README must not
# link ../shared); tests/unit/test_spec_copies.py checks them against ../shared as well.
DOC_COPIES = {
    REPO / "docs" / "PROTOCOL.md": "spec/PROTOCOL.md",
    REPO / "docs" / "SOGS-API.md": "spec/SOGS-API.md",
}


def spec_file(name: str) -> Path:
    """../shared's file when present, else the copy in tests/data."""
    shared = SHARED / SPEC_FILES[name]
    return shared if shared.exists() else COPIES / name
