from __future__ import annotations

import pytest

from tests.support.spec import COPIES, SHARED, SPEC_FILES


@pytest.mark.parametrize("name", sorted(SPEC_FILES))
def test_copy_matches_shared(name: str) -> None:
    shared = SHARED / SPEC_FILES[name]
    if not shared.exists():
        pytest.skip(f"{shared} is not beside this checkout; the copy in tests/data is used")
    assert (COPIES / name).read_bytes() == shared.read_bytes(), f"refresh tests/data/{name}"
