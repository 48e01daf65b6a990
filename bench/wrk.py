"""Cross-check of the Python load generator with wrk (C, one thread) on fixed-request rows.

If wrk, which costs far less CPU per request, gets about the same req/s as our generator on the
same row, the generator is not what limits the measurement.
"""

from __future__ import annotations

import random
import re
import resource
import shutil
import subprocess
from pathlib import Path
from typing import Any

from .loadgen import ONION_PATH, Job, poll_plaintext, post_request, prebuilt
from .seed import ClientSpec
from .servers import ROOT, Subprocess

SCRIPT = ROOT / "bench" / "wrk" / "bodies.lua"
# Each envelope is sent once per run (bodies.lua): enough of them for this rate over the run.
ENVELOPES_PER_SECOND = {"onion": 12_000, "poll": 8_000, "post": 6_000}
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _envelopes(
    kind: str, job: Job, clients: list[ClientSpec], workdir: Path, count: int
) -> list[str]:
    """`count` distinct envelopes, by 256 clients in turn (posts: a new signed message each);
    the arguments of bodies.lua."""
    workdir.mkdir(parents=True, exist_ok=True)
    users = min(len(clients), 256)
    rng = random.Random(count)
    for n in range(count):
        client = clients[n % users]
        if kind == "post":
            _kind, raw, _check = post_request(job, client, rng)
        else:
            _kind, raw, _check = prebuilt(kind, job, poll_plaintext(client))
        (workdir / f"{n + 1}.bin").write_bytes(raw.split(b"\r\n\r\n", 1)[1])
    return [str(workdir), str(count), ONION_PATH]


def run(
    kind: str,
    server: Subprocess,
    public: bytes,
    clients: list[ClientSpec],
    workdir: Path,
    connections: int,
    duration: float,
    threads: int = 1,
) -> dict[str, Any]:
    binary = shutil.which("wrk")
    if binary is None:
        return {"error": "wrk is not installed (apt-get install wrk)"}
    argv = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--latency",
    ]
    warmup = [*argv[:3], "-d1s", *argv[4:]]
    count = 0
    if kind == "hello":
        argv.append(server.url + "/hello")
        warmup.append(server.url + "/hello")
    else:
        rate = ENVELOPES_PER_SECOND.get(kind, 8_000)
        count = int(rate * max(1, round(duration)))
        job = Job("closed", kind, "127.0.0.1", server.port, 0, 0, server_public=public)
        script = ["-s", str(SCRIPT), server.url, "--"]
        warmup += [*script, *_envelopes(kind, job, clients, workdir / "warmup", rate)]
        argv += [*script, *_envelopes(kind, job, clients, workdir / "run", count)]
    # warm up for a second (envelopes of its own), then measure
    subprocess.run(warmup, capture_output=True, timeout=60)
    cpu_before, server_before = _children_cpu(), server.sample()
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    cpu_after, server_after = _children_cpu(), server.sample()
    out = done.stdout
    result: dict[str, Any] = {
        "tool": "wrk",
        "kind": kind,
        "connections": connections,
        "threads": threads,
        "output": out[-2000:],
    }
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if not match or not total:
        result["error"] = f"could not parse wrk output: {out[-500:]} {done.stderr[-500:]}"
        return result
    requests = int(total.group(1))
    result["rps"] = float(match.group(1))
    result["requests"] = requests
    if count and requests >= count:
        result["error"] = f"wrk sent all {count} envelopes before the end: raise the count"
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        found = re.search(rf"{re.escape(label)}\s+([\d.]+)(us|ms|s)", out)
        if found:
            result[key] = float(found.group(1)) * _UNITS[found.group(2)]
    result["wrk_cpu_s_per_1k"] = 1000 * (cpu_after - cpu_before) / max(requests, 1)
    result["server_cpu_s_per_1k"] = 1000 * (server_after.cpu - server_before.cpu) / max(requests, 1)
    return result
