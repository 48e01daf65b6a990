"""The layers of README "What is where" hold: import-linter's contracts (pyproject.toml,
[tool.importlinter]) are checked here too, so an upward import fails pytest, not only
`make lint`."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
LAYERS = [
    "opengroup.cli",
    "opengroup.runtime",
    "opengroup.web",
    "opengroup.transport",
    "opengroup.api",
    "opengroup.usecases",
    "opengroup.rules",
    "opengroup.store",
]

pytest.importorskip("importlinter")


def lint_imports(src: Path) -> subprocess.CompletedProcess[str]:
    """import-linter on the `opengroup` package found in `src`, in a fresh interpreter (so
    that it analyses that tree, not whichever `opengroup` this process imported)."""
    code = (
        "import sys\nfrom importlinter.cli import lint_imports\n"
        f"sys.exit(lint_imports(config_filename={str(PYPROJECT)!r}, no_cache=True,"
        " no_logo=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
        timeout=120,
    )


def test_the_contracts_are_the_layers_of_the_readme() -> None:
    from importlinter.api import read_configuration

    contracts = read_configuration(str(PYPROJECT))["contracts_options"]
    layered = [c for c in contracts if c["type"] == "layers"]
    assert len(layered) == 1 and list(layered[0]["layers"]) == LAYERS
    forbidden = {
        (tuple(c["source_modules"]), tuple(c["forbidden_modules"]))
        for c in contracts
        if c["type"] == "forbidden"
    }
    below = ("opengroup.crypto", "opengroup.config", "opengroup.errors")
    assert (below, tuple(LAYERS)) in forbidden
    assert any("opengroup.testing" in f and set(LAYERS) <= set(s) for s, f in forbidden)
    assert (("opengroup.web",), ("opengroup.store",)) in forbidden
    assert (("opengroup.api",), ("opengroup.store",)) in forbidden
    assert not any(c.get("ignore_imports") for c in contracts), "no exceptions to the layers"


def test_the_code_keeps_every_contract() -> None:
    done = lint_imports(ROOT / "src")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "upward_import", "contract"),
    [
        ("store/rooms.py", "import opengroup.usecases.context", "Layers"),
        ("rules/ids.py", "from opengroup.api import routing", "Layers"),
        ("web/pages.py", "from opengroup.store import rooms as _rooms", "web (pages"),
        ("api/legacy/messages.py", "from opengroup.store import messages as _m", "api parses"),
        (
            "api/sogs/inbox.py",
            "from opengroup.store.direct_messages import DirectMessage",
            "api parses",
        ),
        ("transport/onion.py", "import opengroup.testing.client", "opengroup.testing"),
        ("errors.py", "import opengroup.store", "crypto, config and errors"),
    ],
)
def test_an_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, upward_import: str, contract: str
) -> None:
    """The contracts bite: the same tree with one forbidden import added fails."""
    shutil.copytree(
        ROOT / "src" / "opengroup",
        tmp_path / "opengroup",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    target = tmp_path / "opengroup" / module
    target.write_text(target.read_text() + f"\n{upward_import}  # noqa\n")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if line.rstrip().endswith("BROKEN")]
    assert [line for line in broken if contract in line], done.stdout


def test_the_api_reaches_the_database_and_files_only_through_use_cases() -> None:
    """What import-linter cannot see: a handler opening a transaction or reading a file
    through the context it is given (`call.ctx.db`, `call.ctx.blobs`)."""
    store_services = {"db", "blobs"}
    reached = [
        f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}"
        for path in sorted((ROOT / "src" / "opengroup" / "api").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in store_services
    ]
    assert reached == []
