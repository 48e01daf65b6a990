"""CPU time and memory of a process tree, and of the whole machine, from /proc."""

from __future__ import annotations

import os
from dataclasses import dataclass

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    return text.rpartition(")")[2].split()


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields is not None:
            tree.setdefault(int(fields[1]), []).append(int(name))
    return tree


def process_tree(root: int) -> list[int]:
    """`root` and all its live descendants (uvicorn's supervisor and its workers)."""
    tree = children_map()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


def cpu_seconds(pids: list[int]) -> tuple[float, float]:
    """(user + system, system) CPU seconds of these processes (all their threads)."""
    user = system = 0
    for pid in pids:
        fields = _stat_fields(pid)
        if fields is not None:
            user += int(fields[11])  # utime
            system += int(fields[12])  # stime
    return (user + system) / TICK, system / TICK


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE
    except OSError:
        return 0


@dataclass(frozen=True)
class TreeSample:
    cpu: float  # CPU seconds of the whole tree
    cpu_sys: float  # of which in the kernel (syscalls, thread wake-ups)
    rss_total: int  # bytes, summed over processes
    rss_max: int  # bytes, the largest single process (a worker)
    machine_busy: float  # CPU seconds the whole machine spent busy (all processes)


def machine_busy_seconds() -> float:
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values[:8]) - idle) / TICK


def sample(root: int) -> TreeSample:
    pids = process_tree(root)
    rss = [rss_bytes(pid) for pid in pids]
    cpu, cpu_sys = cpu_seconds(pids)
    return TreeSample(cpu, cpu_sys, sum(rss), max(rss, default=0), machine_busy_seconds())
