from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.spec import COPIES, DOC_COPIES, REPO, SHARED, SPEC_FILES


@pytest.mark.parametrize("name", sorted(SPEC_FILES))
def test_copy_matches_shared(name: str) -> None:
    shared = SHARED / SPEC_FILES[name]
    if not shared.exists():
        pytest.skip(f"{shared} is not beside this checkout; the copy in tests/data is used")
    assert (COPIES / name).read_bytes() == shared.read_bytes(), f"refresh tests/data/{name}"


@pytest.mark.parametrize("copy", sorted(DOC_COPIES), ids=lambda p: p.name)
def test_docs_copy_matches_shared(copy: Path) -> None:
    assert copy.exists(), f"{copy} is missing: the README links it"
    shared = SHARED / DOC_COPIES[copy]
    if not shared.exists():
        pytest.skip(f"{shared} is not beside this checkout")
    assert copy.read_bytes() == shared.read_bytes(), f"refresh docs/{copy.name} from {shared}"


def test_readme_links_only_files_of_the_repository() -> None:
    readme = (REPO / "README.md").read_text()
    assert "../shared" not in readme
    for target in ("docs/PROTOCOL.md", "docs/SOGS-API.md", "docs/upgrading.md", "CHANGELOG.md"):
        assert f"]({target})" in readme, target
        assert (REPO / target).exists(), target
