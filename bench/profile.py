"""Profile the server with py-spy while a load runs; summarise where the time goes.

Two recordings of the same load: `--gil` samples (only the thread holding the GIL: where the
one core of Python goes) summarised into tables, and an all-threads flame graph (SVG).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def py_spy() -> str | None:
    here = Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def _record(
    binary: str, pid: int, seconds: float, out: Path, fmt: str, gil: bool
) -> subprocess.Popen[bytes]:
    argv = [
        binary,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(max(1, round(seconds))),
        "--rate",
        "250",
        "--nonblocking",
        "--format",
        fmt,
        "--output",
        str(out),
    ]
    if gil:
        argv.append("--gil")
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def profile_during(
    pid: int, prefix: Path, seconds: float, load: Callable[[], Any]
) -> dict[str, Any]:
    binary = py_spy()
    if binary is None:
        return {"error": "py-spy is not installed (pip install -e '.[bench]')"}
    prefix.parent.mkdir(parents=True, exist_ok=True)
    raw, svg = prefix.with_suffix(".txt"), prefix.with_suffix(".svg")
    summary: dict[str, Any] = {"pid": pid, "seconds": seconds}
    for fmt, out, gil in (("raw", raw, True), ("flamegraph", svg, False)):
        recorder = _record(binary, pid, seconds, out, fmt, gil)
        load()
        _, err = recorder.communicate(timeout=seconds + 60)
        if recorder.returncode != 0:
            summary["error"] = f"py-spy failed: {err.decode(errors='replace')[-500:]}"
            return summary
    summary.update(summarise(raw.read_text()))
    summary["raw"] = str(raw)
    summary["flamegraph"] = str(svg)
    return summary


def _parse_frame(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    return match["func"], match["file"]


def category(file: str) -> str:
    """The package of a py-spy frame's file (py-spy prints paths from the package root)."""
    path = file.replace("\\", "/")
    if "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    parts = path.split("/")
    if parts[0] == "opengroup" and len(parts) > 1:
        return "opengroup/" + parts[1].removesuffix(".py")
    if parts[0] == "anyio":
        return "anyio (threadpool hop)"
    if len(parts) == 1:
        return "stdlib " + parts[0]
    return parts[0]


def summarise(text: str, top: int = 25) -> dict[str, Any]:
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [_parse_frame(f) for f in stack.split(";")]
        frames = [f for f in frames if f[1]]  # drop "process"/"thread" pseudo-frames
        if not frames:
            continue
        names = [f"{func} ({_short(file)})" for func, file in frames]
        for name in set(names):
            inclusive[name] += count
        self_time[names[-1]] += count
        categories[category(frames[-1][1])] += count
    share = (lambda n: 100.0 * n / total) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "inclusive": [(name, share(n)) for name, n in inclusive.most_common(top)],
        "self": [(name, share(n)) for name, n in self_time.most_common(top)],
        "by_package": [(name, share(n)) for name, n in categories.most_common(15)],
        "opengroup": [
            (name, share(n))
            for name, n in inclusive.most_common()
            if "(opengroup/" in name and not name.endswith(("cli.py)", "__main__.py)"))
        ][:top],
    }


def _short(file: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def render(profile: dict[str, Any]) -> list[str]:
    if "error" in profile:
        return [f"Profile not taken: {profile['error']}"]
    lines = [
        f"{profile['samples']} samples of the thread holding the GIL over {profile['seconds']:g} s "
        f"(pid {profile['pid']}); raw stacks `{profile['raw']}`, all-threads flame graph "
        f"`{profile['flamegraph']}`.",
        "",
        "| where the GIL time goes (self, by package) | % |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {pct:.1f} |" for name, pct in profile["by_package"]]
    lines += ["", "| opengroup function (inclusive) | % |", "|---|---:|"]
    lines += [f"| `{name}` | {pct:.1f} |" for name, pct in profile.get("opengroup", [])]
    lines += ["", "| function (inclusive) | % |", "|---|---:|"]
    lines += [f"| `{name}` | {pct:.1f} |" for name, pct in profile["inclusive"]]
    lines += ["", "| function (self) | % |", "|---|---:|"]
    lines += [f"| `{name}` | {pct:.1f} |" for name, pct in profile["self"]]
    return lines
