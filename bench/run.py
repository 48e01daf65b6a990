"""`make bench`: start the server (and the floor app), seed it, load it, report.

    python -m bench                 # full run (several minutes, includes a py-spy profile)
    python -m bench --quick         # about a minute (1-1.5 min on a busy machine)
    python -m bench --only poll,post --duration 10

Results go to bench/results/<time>.{md,json} and bench/results/latest.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from array import array
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from opengroup.crypto import ServerKeys, SessionKeys
from opengroup.testing.client import OpenGroupClient

from . import procstat, servers, wrk
from . import profile as profiler
from .loadgen import Job, worker_main
from .seed import (
    ClientSpec,
    Dataset,
    DatasetSpec,
    ModernClientSpec,
    only_room,
    refresh_cursors,
    seed,
)
from .servers import ROOT, Subprocess, floor_server, opengroup_server

RESULTS = ROOT / "bench" / "results"
ALL_ROWS = (
    "floor2",
    "floor1",
    "floor1-threadpool",
    "poll",
    "sogs-poll",
    "mixed",
    "post",
    "sogs-post",
    "memory",
    "workers2",
    "scale-messages",
    "scale-rooms",
)


@dataclass
class Settings:
    duration: float
    warmup: float
    connections: int
    procs: int
    clients: int
    open_clients: list[int]
    rooms: int
    rooms_per_client: int
    messages_per_room: int
    poll_interval: float
    post_rate: float
    upload_rate: float
    download_rate: float
    big_messages: int
    many_rooms: int
    rate_limit_posts: int
    open_duration: float
    profile: bool
    profile_seconds: float
    wrk: bool
    drain_timeout: float
    quick: bool


def parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, Settings]:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="short rows, 10^5-message big room")
    p.add_argument("--only", default="", help=f"comma-separated rows of: {', '.join(ALL_ROWS)}")
    p.add_argument("--duration", type=float, help="measured seconds per closed-loop row")
    p.add_argument("--open-duration", type=float, help="measured seconds of the open-loop row")
    p.add_argument("--warmup", type=float, help="seconds before measuring")
    p.add_argument("--connections", "-c", type=int, default=8, help="closed-loop connections")
    p.add_argument("--procs", type=int, default=2, help="load generator processes")
    p.add_argument("--clients", type=int, help="clients of the main dataset (closed-loop polls)")
    p.add_argument(
        "--open-clients",
        help="N of each open-loop row, comma-separated (full: 250,1000; quick: 1000)",
    )
    p.add_argument("--rooms", type=int, default=20, help="rooms of the main dataset")
    p.add_argument("--rooms-per-client", type=int, default=5, help="K")
    p.add_argument("--messages-per-room", type=int, default=1000)
    p.add_argument("--poll-interval", type=float, default=4.0, help="T (mobile 4, Desktop 10)")
    p.add_argument("--post-rate", type=float, default=25.0, help="open loop posts per second")
    p.add_argument("--upload-rate", type=float, default=0.5, help="open loop uploads per second")
    p.add_argument("--download-rate", type=float, default=2.0, help="open loop downloads/s")
    p.add_argument("--big-messages", type=int, help="messages in the big room (10^6; quick 10^5)")
    p.add_argument("--many-rooms", type=int, default=1000)
    p.add_argument(
        "--rate-limit-posts",
        type=int,
        default=100,
        help="server --rate-limit-posts for the run (default 5 per 16 s)",
    )
    p.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="py-spy profile of the server under compact_poll (default: full runs)",
    )
    p.add_argument(
        "--profile-workload",
        choices=["poll", "post", "sogs-poll", "sogs-post"],
        default="poll",
        help="the closed-loop workload profiled (default poll)",
    )
    p.add_argument(
        "--wrk",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="cross-check fixed-request rows with wrk (default: if wrk is installed)",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment of the server processes, e.g. MALLOC_ARENA_MAX=2 (repeatable)",
    )
    p.add_argument(
        "--server-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra `opengroup serve` argument, e.g. --server-arg=--access-log (repeatable)",
    )
    p.add_argument("--keep-data", action="store_true", help="keep the data directories")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    quick = args.quick
    settings = Settings(
        duration=args.duration or (2.0 if quick else 15.0),
        warmup=args.warmup if args.warmup is not None else (0.5 if quick else 3.0),
        connections=args.connections,
        procs=args.procs,
        clients=args.clients or (1000 if quick else 2000),
        open_clients=[
            int(n) for n in (args.open_clients or ("1000" if quick else "250,1000")).split(",")
        ],
        rooms=args.rooms,
        rooms_per_client=args.rooms_per_client,
        messages_per_room=args.messages_per_room,
        poll_interval=args.poll_interval,
        post_rate=args.post_rate,
        upload_rate=args.upload_rate,
        download_rate=args.download_rate,
        big_messages=args.big_messages or (100_000 if quick else 1_000_000),
        many_rooms=args.many_rooms,
        rate_limit_posts=args.rate_limit_posts,
        open_duration=args.open_duration or (4.0 if quick else 30.0),
        drain_timeout=5.0 if quick else 15.0,
        quick=quick,
        profile=(not quick) if args.profile is None else args.profile,
        profile_seconds=8.0 if quick else 15.0,
        wrk=(not quick and shutil.which("wrk") is not None) if args.wrk is None else args.wrk,
    )
    return args, settings


# ---------------------------------------------------------------------------- one measured row


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def latency_summary(values: list[float]) -> dict[str, float]:
    values.sort()
    return {
        "p50_ms": percentile(values, 0.50) * 1000,
        "p99_ms": percentile(values, 0.99) * 1000,
        "p999_ms": percentile(values, 0.999) * 1000,
        "max_ms": (values[-1] * 1000) if values else float("nan"),
    }


def split(items: list[Any], parts: int) -> list[list[Any]]:
    return [items[i::parts] for i in range(parts)]


def run_jobs(jobs: list[Job], server: Subprocess) -> dict[str, Any]:
    """Run one job per generator process against `server`; sample the server around the
    measured window; merge what the processes measured."""
    mp = multiprocessing.get_context("fork")
    ready, go, results = mp.Queue(), mp.Queue(), mp.Queue()
    procs = [mp.Process(target=worker_main, args=(job, ready, go, results)) for job in jobs]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=600)
    job = jobs[0]
    t0 = time.monotonic() + 0.3
    for _ in procs:
        go.put(t0)
    start, end = t0 + job.warmup, t0 + job.warmup + job.duration
    time.sleep(max(0.0, start - time.monotonic()))
    before = server.sample()
    time.sleep(max(0.0, end - time.monotonic()))
    after = server.sample()
    merged: dict[str, Any] = {"latency": {}, "errors": Counter(), "count": Counter(), "lag": []}
    gen_cpu = 0.0
    timeouts = received = 0
    for _ in procs:
        part = results.get(timeout=job.drain_timeout + 120)
        for kind, raw in part["latency"].items():
            merged["latency"].setdefault(kind, []).extend(array("d", raw))
        merged["errors"].update(part["errors"])
        merged["count"].update(part["count"])
        merged["lag"].extend(array("d", part["lag"]))
        gen_cpu += part["cpu"]
        timeouts += part["timeouts"]
        received += part["received_messages"]
    for proc in procs:
        proc.join(timeout=30)
    server_cpu = after.cpu - before.cpu
    machine = after.machine_busy - before.machine_busy
    return {
        "merged": merged,
        "duration": job.duration,
        "server_cpu": server_cpu,
        "server_sys": after.cpu_sys - before.cpu_sys,
        "gen_cpu": gen_cpu,
        "other_cpu": max(0.0, machine - server_cpu - gen_cpu),
        "rss_start": before.rss_total,
        "rss_end": after.rss_total,
        "rss_worker_end": after.rss_max,
        "timeouts": timeouts,
        "received_messages": received,
    }


def make_row(
    name: str, mode: str, load: str, run: dict[str, Any], kinds: list[str] | None = None
) -> dict[str, Any]:
    merged, duration = run["merged"], run["duration"]
    selected = kinds or list(merged["latency"])
    values: list[float] = []
    for kind in selected:
        values.extend(merged["latency"].get(kind, []))
    requests = len(values)
    errors = {key: n for key, n in merged["errors"].items() if key.split(" ")[0] in selected}
    if run["timeouts"] and kinds is None:
        errors["timeout"] = run["timeouts"]
    row: dict[str, Any] = {
        "name": name,
        "mode": mode,
        "load": load,
        "requests": requests,
        "duration_s": duration,
        "rps": requests / duration,
        **latency_summary(values),
        "errors": errors,
        "error_count": sum(errors.values()),
    }
    if kinds is None:  # CPU and memory belong to the whole row, not to one kind of request
        total = max(requests, 1)
        row.update(
            server_cpu_s_per_1k=1000 * run["server_cpu"] / total,
            server_cores=run["server_cpu"] / duration,
            server_sys_share=run["server_sys"] / run["server_cpu"] if run["server_cpu"] else None,
            # What one fully used core would answer: steadier than req/s on a shared machine.
            rps_per_server_core=requests / run["server_cpu"] if run["server_cpu"] else None,
            gen_cpu_s_per_1k=1000 * run["gen_cpu"] / total,
            gen_cores=run["gen_cpu"] / duration,
            other_cores=run["other_cpu"] / duration,
            rss_start_mb=run["rss_start"] / 2**20,
            rss_end_mb=run["rss_end"] / 2**20,
            rss_worker_end_mb=run["rss_worker_end"] / 2**20,
            received_messages=run["received_messages"],
        )
        lag = sorted(merged["lag"])
        if lag:
            row["send_lag_p99_ms"] = percentile(lag, 0.99) * 1000
            row["send_lag_max_ms"] = lag[-1] * 1000
    return row


def _requests(run: dict[str, Any]) -> int:
    return sum(len(values) for values in run["merged"]["latency"].values())


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several measured windows of the same row as one."""
    merged: dict[str, Any] = {"latency": {}, "errors": Counter(), "count": Counter(), "lag": []}
    for run in runs:
        for kind, values in run["merged"]["latency"].items():
            merged["latency"].setdefault(kind, []).extend(values)
        merged["errors"].update(run["merged"]["errors"])
        merged["count"].update(run["merged"]["count"])
        merged["lag"].extend(run["merged"]["lag"])
    total = {
        key: sum(run[key] for run in runs)
        for key in ("duration", "server_cpu", "server_sys", "gen_cpu", "other_cpu", "timeouts")
    }
    return {
        "merged": merged,
        **total,
        "received_messages": sum(run["received_messages"] for run in runs),
        "rss_start": runs[0]["rss_start"],
        "rss_end": runs[-1]["rss_end"],
        "rss_worker_end": runs[-1]["rss_worker_end"],
    }


# ---------------------------------------------------------------------------- the run


class Bench:
    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.s = settings
        self.only = set(filter(None, args.only.split(","))) or set(ALL_ROWS)
        unknown = self.only - set(ALL_ROWS)
        if unknown:
            raise SystemExit(f"unknown rows: {', '.join(sorted(unknown))}")
        self.work = Path(tempfile.mkdtemp(prefix="opengroup-bench-"))
        self.rows: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.profile: dict[str, Any] | None = None
        self.stamp = time.strftime("%Y%m%d-%H%M%S")

    def log(self, message: str) -> None:
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def wait_idle(self, server: Subprocess, limit: float = 60.0) -> None:
        """Wait until the server has worked off what an earlier row left queued."""
        deadline = time.monotonic() + limit
        before = server.sample().cpu
        while time.monotonic() < deadline:
            time.sleep(0.5)
            after = server.sample().cpu
            if after - before < 0.05:  # under 10% of a core
                return
            before = after
        self.log("  server still busy after the previous row")

    def closed_run(
        self,
        name: str,
        server: Subprocess,
        workload: str,
        clients: list[ClientSpec],
        public: bytes,
        duration: float | None = None,
        warmup: float | None = None,
        modern: list[ModernClientSpec] | None = None,
    ) -> dict[str, Any]:
        """One closed-loop measurement (not yet a row)."""
        s = self.s
        duration = s.duration if duration is None else duration
        warmup = s.warmup if warmup is None else warmup
        procs = min(s.procs, s.connections)
        per_proc = [
            s.connections // procs + (1 if i < s.connections % procs else 0) for i in range(procs)
        ]
        parts = split(clients, procs) if clients else [[] for _ in range(procs)]
        modern_parts = split(modern, procs) if modern else [[] for _ in range(procs)]
        jobs = [
            Job(
                "closed",
                workload,
                "127.0.0.1",
                server.port,
                duration,
                warmup,
                server_public=public,
                connections=per_proc[i],
                clients=parts[i],
                modern=modern_parts[i],
                seed=i,
            )
            for i in range(procs)
        ]
        self.wait_idle(server)
        self.log(f"{name}: closed loop, {s.connections} connections, {duration:g} s")
        return run_jobs(jobs, server)

    def closed(
        self,
        name: str,
        server: Subprocess,
        workload: str,
        clients: list[ClientSpec],
        public: bytes,
        load: str | None = None,
        modern: list[ModernClientSpec] | None = None,
    ) -> dict[str, Any]:
        run = self.closed_run(name, server, workload, clients, public, modern=modern)
        row = make_row(name, "closed", load or f"C={self.s.connections}", run)
        self.rows.append(row)
        self.log(f"  {row['rps']:.0f} req/s, p99 {row['p99_ms']:.1f} ms, errors {row['errors']}")
        return row

    def interleaved(
        self,
        check: str,
        sides: list[tuple[str, Subprocess, list[ClientSpec], bytes, str]],
    ) -> None:
        """Two rows measured in alternating rounds (A B, B A, ...), so that a burst of other work
        on the machine hits both sides alike; the check compares their CPU per request."""
        s = self.s
        rounds = 2 if s.quick else 3
        runs: list[list[dict[str, Any]]] = [[] for _ in sides]
        for n in range(rounds):
            order = list(enumerate(sides))
            if n % 2:
                order.reverse()  # A B, B A, A B: neither side always runs right after the other
            for i, (name, server, clients, public, _load) in order:
                run = self.closed_run(
                    f"{name} (round {n + 1}/{rounds})",
                    server,
                    "poll",
                    clients,
                    public,
                    duration=s.duration / rounds,
                    warmup=min(s.warmup, 1.0),
                )
                runs[i].append(run)
        rows = []
        for (name, _server, _clients, _public, load), side_runs in zip(sides, runs, strict=True):
            row = make_row(name, "closed", load, merge_runs(side_runs))
            self.rows.append(row)
            rows.append(row)
        per_round = sorted(
            (b["server_cpu"] / max(_requests(b), 1)) / (a["server_cpu"] / max(_requests(a), 1))
            for a, b in zip(runs[0], runs[1], strict=True)
        )
        self.ratio(check, rows[0], rows[1], per_round)

    # -- floors
    def floors(self) -> None:
        if not self.only & {"floor1", "floor2", "floor1-threadpool"}:
            return
        key = self.work / "floor.pem"
        keys = ServerKeys.generate()
        key.write_bytes(keys.to_pem())
        fake = [fake_client(i, self.s.rooms_per_client) for i in range(256)]
        server = floor_server(key, self.work / "floor.log").start()
        try:
            if "floor2" in self.only:
                self.closed("floor2: HTTP hello", server, "hello", [], keys.public)
            if "floor1" in self.only:
                self.closed("floor1: onion decrypt+encrypt", server, "onion", fake, keys.public)
            if "floor1-threadpool" in self.only and not self.s.quick:
                self.closed(
                    "floor1 + threadpool hop", server, "onion_threadpool", fake, keys.public
                )
            if self.s.wrk:
                self.wrk_checks(server, keys.public, fake, floors=True)
        finally:
            server.stop()

    # -- the main dataset
    def main_dataset(self) -> None:
        wanted = self.only & {
            "poll",
            "sogs-poll",
            "mixed",
            "post",
            "sogs-post",
            "memory",
            "workers2",
        }
        if not wanted:
            return
        s = self.s
        spec = DatasetSpec(
            rooms=s.rooms,
            messages_per_room=s.messages_per_room,
            clients=max(s.clients, *s.open_clients),
            rooms_per_client=s.rooms_per_client,
            modern_clients=s.clients if self.only & {"sogs-poll", "sogs-post"} else 0,
        )
        self.log(f"seeding main dataset {spec}")
        data = seed(self.work / "main", spec)
        self.log(f"  seeded in {data.seconds:.1f} s")
        extra = ("--rate-limit-posts", str(s.rate_limit_posts))
        server = opengroup_server(data.data_dir, self.work / "main.log", extra=extra).start()
        try:
            self.rows.append(self.idle_row("server idle after start (1 worker)", server))
            if "memory" in self.only:
                self.memory(server, data)
            if "poll" in self.only:
                refresh_cursors(data)
                self.closed(
                    f"poll: compact_poll K={s.rooms_per_client}",
                    server,
                    "poll",
                    data.clients,
                    data.server_public,
                )
                if s.wrk:
                    refresh_cursors(data)
                    self.wrk_checks(server, data.server_public, data.clients, floors=False)
            if "sogs-poll" in self.only:
                refresh_cursors(data)
                self.closed(
                    f"sogs-poll: v4 /batch K={s.rooms_per_client} (Desktop 1.17)",
                    server,
                    "sogs-poll",
                    [],
                    data.server_public,
                    modern=data.modern_clients,
                )
            if s.profile and self.args.profile_workload in self.only:
                refresh_cursors(data)
                self.run_profile(server, data)
            if "mixed" in self.only:
                self.mixed(server, data)
            if "post" in self.only:
                self.closed(
                    "post: POST messages (signed)", server, "post", data.clients, data.server_public
                )
            if "sogs-post" in self.only:
                self.closed(
                    "sogs-post: v4 POST /room/R/message (X-SOGS, 15)",
                    server,
                    "sogs-post",
                    [],
                    data.server_public,
                    modern=data.modern_clients,
                )
        finally:
            server.stop()
        if "workers2" in self.only:
            server = opengroup_server(
                data.data_dir, self.work / "main2.log", workers=2, extra=extra
            ).start(workers=2)
            try:
                self.rows.append(self.idle_row("server idle after start (2 workers)", server))
                refresh_cursors(data)
                poll_row = f"poll, 2 workers: compact_poll K={s.rooms_per_client}"
                self.closed(poll_row, server, "poll", data.clients, data.server_public)
                if s.wrk:
                    refresh_cursors(data)
                    self.wrk_check(server, data.server_public, data.clients, poll_row, "poll")
                if not s.quick:
                    self.closed("post, 2 workers", server, "post", data.clients, data.server_public)
                    if s.wrk:
                        self.wrk_check(
                            server, data.server_public, data.clients, "post, 2 workers", "post"
                        )
            finally:
                server.stop()

    def memory(self, server: Subprocess, data: Dataset, size: int = 10_000_000) -> None:
        """The issue's memory check: a worker's RSS around 10 MB uploads and downloads."""
        pid = server.worker_pids()[0]
        start = procstat.rss_bytes(pid)
        peak = [start]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.01):
                peak[0] = max(peak[0], procstat.rss_bytes(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = data.clients[0]
        room, token = client.rooms[0], client.tokens[0]
        errors: Counter[str] = Counter()
        latencies = []
        self.log(f"memory: 3 uploads and 3 downloads of {size} bytes, one at a time")
        # Direct HTTP (/legacy/): 10 MB in base64 is more than an onion body may be (10 MiB).
        with OpenGroupClient(server.url, data.server_public, timeout=120, transport="legacy") as og:
            ids = []
            for _ in range(3):
                began = time.monotonic()
                reply = og.upload_file(room, token, os.urandom(size))
                latencies.append(time.monotonic() - began)
                if reply["status_code"] != 200:
                    errors[f"upload api:{reply['status_code']}"] += 1
                else:
                    ids.append(reply["result"])
            after_uploads = procstat.rss_bytes(pid)
            for file_id in ids:
                began = time.monotonic()
                reply = og.get_file(room, token, file_id)
                latencies.append(time.monotonic() - began)
                if reply["status_code"] != 200:
                    errors[f"download api:{reply['status_code']}"] += 1
        time.sleep(2.0)
        stop.set()
        sampler.join()
        end = procstat.rss_bytes(pid)
        mb = 2**20
        row = {
            "name": f"memory: 3 uploads + 3 downloads of {size / 1e6:g} MB (direct HTTP)",
            "mode": "sequential",
            "load": "C=1",
            "requests": len(latencies),
            **latency_summary(latencies),
            "errors": dict(errors),
            "rss_start_mb": start / mb,
            "rss_after_uploads_mb": after_uploads / mb,
            "rss_peak_mb": peak[0] / mb,
            "rss_end_mb": end / mb,
        }
        self.rows.append(row)
        self.log(
            f"  worker RSS {start / mb:.0f} MB -> peak {peak[0] / mb:.0f} MB, "
            f"{after_uploads / mb:.0f} MB after uploads, {end / mb:.0f} MB 2 s after"
        )

    def idle_row(self, name: str, server: Subprocess) -> dict[str, Any]:
        sample = server.sample()
        return {
            "name": name,
            "mode": "idle",
            "load": "-",
            "requests": 0,
            "rss_start_mb": sample.rss_total / 2**20,
            "rss_end_mb": sample.rss_total / 2**20,
            "rss_worker_end_mb": sample.rss_max / 2**20,
        }

    def upload_seed_files(self, server: Subprocess, data: Dataset) -> list[tuple[str, str, int]]:
        """A few files through the real client (onion), for the downloads of the mixed row."""
        found = []
        with OpenGroupClient(server.url, data.server_public, timeout=60) as og:
            for i, size in enumerate((100_000, 400_000, 1_500_000, 5_000_000)):
                client = data.clients[i]
                room, token = client.rooms[0], client.tokens[0]
                reply = og.upload_file(room, token, os.urandom(size))
                if reply.get("status_code") != 200:
                    raise RuntimeError(f"seed upload failed: {reply}")
                for other in data.clients:  # any member of the room may download it
                    if room in other.rooms:
                        found.append((room, other.tokens[other.rooms.index(room)], reply["result"]))
                        break
        return found

    def mixed(self, server: Subprocess, data: Dataset) -> None:
        downloads = self.upload_seed_files(server, data)
        for clients in self.s.open_clients:
            refresh_cursors(data)
            self.mixed_row(server, data, data.clients[:clients], downloads)

    def mixed_row(
        self,
        server: Subprocess,
        data: Dataset,
        clients: list[ClientSpec],
        downloads: list[tuple[str, str, int]],
    ) -> None:
        s = self.s
        procs = s.procs
        parts = split(clients, procs)
        jobs = [
            Job(
                "open",
                "mixed",
                "127.0.0.1",
                server.port,
                s.open_duration,
                s.warmup,
                server_public=data.server_public,
                clients=parts[i],
                poll_interval=s.poll_interval,
                post_rate=s.post_rate / procs,
                upload_rate=s.upload_rate / procs,
                download_rate=s.download_rate / procs,
                downloads=downloads,
                drain_timeout=s.drain_timeout,
                seed=100 + i,
                pool_size=500,
            )
            for i in range(procs)
        ]
        polls = len(clients) / s.poll_interval
        load = (
            f"N={len(clients)} K={s.rooms_per_client} T={s.poll_interval:g}s "
            f"({polls:.0f} polls/s), {s.post_rate:g} posts/s, {s.upload_rate:g} uploads/s, "
            f"{s.download_rate:g} downloads/s"
        )
        self.wait_idle(server)
        self.log(f"mixed: open loop, {load}, {s.open_duration:g} s")
        run = run_jobs(jobs, server)
        row = make_row(f"mixed N={len(clients)} (open loop): all requests", "open", load, run)
        self.rows.append(row)
        self.log(
            f"  {row['rps']:.0f} req/s, p99 {row['p99_ms']:.1f} ms, errors {row['errors']}, "
            f"{row['received_messages']} messages received by polls"
        )
        for kind in ("poll", "post", "upload", "download"):
            if kind in run["merged"]["latency"]:
                self.rows.append(
                    make_row(f"mixed N={len(clients)}: {kind}", "open", "", run, [kind])
                )

    # -- scale rows
    def scale_messages(self) -> None:
        if "scale-messages" not in self.only:
            return
        s = self.s
        spec = DatasetSpec(
            rooms=2,
            messages_per_room=1000,
            big_rooms=1,
            big_room_messages=s.big_messages,
            clients=400,
            rooms_per_client=2,
        )
        self.log(f"seeding rooms of 10^3 and {s.big_messages} messages")
        data = seed(self.work / "scale-messages", spec)
        self.log(f"  seeded in {data.seconds:.1f} s")
        server = opengroup_server(data.data_dir, self.work / "scale-messages.log").start()
        big, small = data.room_ids[0], data.room_ids[1]
        try:
            refresh_cursors(data)  # polls return nothing new: cursors stay valid for all rounds
            sides = [
                (
                    f"scale: cursor poll, room of {count:.0e} messages",
                    server,
                    [only_room(c, room) for c in data.clients],
                    data.server_public,
                    f"C={s.connections} K=1",
                )
                for room, count in ((small, 1000), (big, s.big_messages))
            ]
            self.interleaved("scale-messages: cursor poll, 10^3 vs big room", sides)
        finally:
            server.stop()

    def scale_rooms(self) -> None:
        if "scale-rooms" not in self.only:
            return
        s = self.s
        started: list[Subprocess] = []
        sides = []
        try:
            for rooms in (10, s.many_rooms):
                spec = DatasetSpec(
                    rooms=rooms, messages_per_room=100, clients=400, rooms_per_client=5
                )
                data = seed(self.work / f"rooms-{rooms}", spec)
                self.log(f"seeded {rooms} rooms in {data.seconds:.1f} s")
                server = opengroup_server(data.data_dir, self.work / f"rooms-{rooms}.log")
                started.append(server.start())
                refresh_cursors(data)
                sides.append(
                    (
                        f"scale: poll 5 rooms, server of {rooms} rooms",
                        server,
                        data.clients,
                        data.server_public,
                        f"C={s.connections} K=5",
                    )
                )
            self.interleaved(f"scale-rooms: poll of 5 rooms, 10 vs {s.many_rooms} rooms", sides)
        finally:
            for server in started:
                server.stop()

    def ratio(
        self,
        name: str,
        first: dict[str, Any],
        second: dict[str, Any],
        per_round: list[float] | None = None,
    ) -> None:
        cpu = second["server_cpu_s_per_1k"] / first["server_cpu_s_per_1k"]
        rps = second["rps"] / first["rps"]
        median = per_round[len(per_round) // 2] if per_round else cpu
        self.checks.append(
            {
                "check": name,
                "rows": [first["name"], second["name"]],
                "cpu_per_request_ratio": cpu,
                "per_round_cpu_ratios": per_round or [],
                "median_round_cpu_ratio": median,
                "throughput_ratio": rps,
                "within_20_percent": abs(cpu - 1) <= 0.2,
            }
        )

    # -- profile and wrk
    def run_profile(self, server: Subprocess, data: Dataset) -> None:
        s = self.s
        out = self.args.out
        pid = server.worker_pids()[0]
        workload = self.args.profile_workload
        self.log(f"profiling the server (pid {pid}) under {workload} with py-spy")
        job_settings = replace(s, duration=s.profile_seconds, warmup=1.0)
        saved, self.s = self.s, job_settings
        try:
            self.profile = {"workload": workload} | profiler.profile_during(
                pid,
                out / f"{self.stamp}-profile",
                s.profile_seconds,
                lambda: self.closed(
                    f"{workload} (profiled, not a measurement)",
                    server,
                    workload,
                    [] if workload.startswith("sogs") else data.clients,
                    data.server_public,
                    modern=data.modern_clients,
                ),
            )
        finally:
            self.s = saved
        if self.rows and self.rows[-1]["name"].startswith(f"{workload} (profiled"):
            self.rows.pop()

    def wrk_checks(
        self, server: Subprocess, public: bytes, clients: list[ClientSpec], floors: bool
    ) -> None:
        s = self.s
        if floors:
            self.wrk_check(server, public, clients, "floor2: HTTP hello", "hello")
            self.wrk_check(server, public, clients, "floor1: onion decrypt+encrypt", "onion")
            return
        # The generator's row on the same 256 clients wrk replays (their tokens now touched,
        # cursors fixed), run right after wrk's: the like-for-like comparison.
        self.wrk_check(
            server,
            public,
            clients,
            f"poll K={s.rooms_per_client}, wrk's 256 clients (wrk comparison)",
            "poll",
            compare_on=clients[:256],
        )

    def wrk_check(
        self,
        server: Subprocess,
        public: bytes,
        clients: list[ClientSpec],
        row_name: str,
        kind: str,
        compare_on: list[ClientSpec] | None = None,
    ) -> None:
        """wrk on the workload of generator row `row_name` (run now on `compare_on`'s clients
        if given, else already in the report)."""
        s = self.s
        self.log(f"wrk cross-check: {row_name}")
        result = wrk.run(
            kind, server, public, clients, self.work / f"wrk-{kind}", s.connections, s.duration
        )
        if compare_on is not None:
            self.closed(row_name, server, kind, compare_on, public)
        mine = next((r for r in reversed(self.rows) if r["name"] == row_name), None)
        result["row"] = row_name
        result["generator_rps"] = mine["rps"] if mine else None
        result["generator_p50_ms"] = mine["p50_ms"] if mine else None
        result["generator_cpu_s_per_1k"] = mine["gen_cpu_s_per_1k"] if mine else None
        result["generator_server_cpu_s_per_1k"] = mine["server_cpu_s_per_1k"] if mine else None
        self.checks.append(result)
        self.log(
            f"  wrk {result.get('rps', 0):.0f} req/s vs generator "
            f"{(mine or {}).get('rps', 0):.0f} req/s"
        )

    def run(self) -> None:
        started = time.monotonic()
        self.log(f"work directory {self.work}; settings {self.s}")
        try:
            for section in (self.floors, self.main_dataset, self.scale_messages, self.scale_rooms):
                try:
                    section()
                except Exception as error:  # report what failed, run the other sections
                    self.log(f"{section.__name__} failed: {error!r}")
                    self.rows.append(
                        {
                            "name": f"{section.__name__} FAILED",
                            "mode": "error",
                            "load": repr(error)[:300],
                            "requests": 0,
                        }
                    )
        finally:
            if not self.args.keep_data:
                shutil.rmtree(self.work, ignore_errors=True)
        self.add_floor_fractions()
        self.write(time.monotonic() - started)

    def add_floor_fractions(self) -> None:
        floor = next((r for r in self.rows if r["name"].startswith("floor1: ")), None)
        if floor is None:
            return
        for row in self.rows:
            if row.get("requests") and "rps" in row:
                row["rps_vs_floor1"] = row["rps"] / floor["rps"]
                if "server_cpu_s_per_1k" in row:
                    row["cpu_vs_floor1"] = floor["server_cpu_s_per_1k"] / row["server_cpu_s_per_1k"]

    def write(self, elapsed: float) -> None:
        out = self.args.out
        out.mkdir(parents=True, exist_ok=True)
        document = {
            "started": self.stamp,
            "elapsed_s": elapsed,
            "command": " ".join(["python -m bench", *sys.argv[1:]]),
            "machine": machine_info(),
            "settings": self.s.__dict__,
            "server_env": servers.SERVER_ENV,
            "server_args": servers.SERVER_ARGS,
            "rows": self.rows,
            "checks": self.checks,
            "profile": self.profile,
            "notes": NOTES,
        }
        text = json.dumps(document, indent=2, default=str)
        markdown = render_markdown(document)
        for name in (self.stamp, "latest"):
            (out / f"{name}.json").write_text(text)
            (out / f"{name}.md").write_text(markdown)
        print()
        print(markdown)
        self.log(f"wrote {out / (self.stamp + '.md')} and .json ({elapsed:.0f} s)")


NOTES = [
    "Latency: closed loop from send to reply; open loop from the scheduled send time.",
    "CPU per 1,000 requests: user+system time of the server's processes (all threads, all "
    "workers) over the measured window, from /proc/<pid>/stat.",
    "'gen' is the load generator's own CPU; 'other' is CPU used by everything else on the "
    "machine in the window (other work on a shared machine makes req/s and latency noisy; "
    "CPU per request is the steadier number).",
    "Onion requests carry real X25519 + AES-GCM envelopes; each simulated client derives its "
    "ephemeral key once (the server does X25519 on every request either way).",
    "The server runs with --rate-limit-posts raised (see settings) so that the closed-loop post "
    "row measures posting, not 429s; the rate-limit query still runs on every post.",
    "Dataset rows (messages, tokens) are seeded straight into the store's tables.",
]


def fake_client(i: int, rooms: int) -> ClientSpec:
    """A client whose poll has the size of a real one (for the floor's inner request)."""
    keys = SessionKeys.generate()
    return ClientSpec(
        keys.private,
        keys.session_id,
        [f"room{n:04d}" for n in range(rooms)],
        [os.urandom(48).hex() for _ in range(rooms)],
        [1000 + i] * rooms,
    )


def machine_info() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "loadavg_at_end": os.getloadavg(),
        "kernel": platform.release(),
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: Any) -> str:
    return f"{100 * value:.0f}" if isinstance(value, float) else "-"


def _rate(value: Any) -> str:
    if isinstance(value, float) and value == value and value < 10:
        return f"{value:.1f}"
    return _fmt(value, 0)


def render_markdown(doc: dict[str, Any]) -> str:
    lines = [
        f"# opengroup benchmark {doc['started']}",
        "",
        f"`{doc['command']}` — {doc['machine']['cpus']} CPUs ({doc['machine']['cpu']}), "
        f"Python {doc['machine']['python']}, load average at end "
        f"{', '.join(f'{x:.2f}' for x in doc['machine']['loadavg_at_end'])}, "
        f"{doc['elapsed_s']:.0f} s.",
        "",
        "| row | mode | load | req/s | p50 ms | p99 ms | p99.9 ms | errors | srv CPU s/1k req "
        "| srv sys % | srv cores | req/s per srv core | gen CPU s/1k | other cores "
        "| RSS start→end MB "
        "| xfloor1 req/s | xfloor1 CPU |",
        "|---|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in doc["rows"]:
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(r.get("errors", {}).items())) or "0"
        rss = f"{r['rss_start_mb']:.0f}→{r['rss_end_mb']:.0f}" if "rss_start_mb" in r else ""
        if "rss_peak_mb" in r:
            rss += f" (peak {r['rss_peak_mb']:.0f})"
        lines.append(
            f"| {r['name']} | {r['mode']} | {r['load']} | {_rate(r.get('rps'))} "
            f"| {_fmt(r.get('p50_ms'), 2)} | {_fmt(r.get('p99_ms'), 2)} "
            f"| {_fmt(r.get('p999_ms'), 2)} | {errors if r.get('requests') else ''} "
            f"| {_fmt(r.get('server_cpu_s_per_1k'), 3)} | {_pct(r.get('server_sys_share'))} "
            f"| {_fmt(r.get('server_cores'), 2)} "
            f"| {_rate(r.get('rps_per_server_core'))} "
            f"| {_fmt(r.get('gen_cpu_s_per_1k'), 3)} | {_fmt(r.get('other_cores'), 2)} "
            f"| {rss} | {_fmt(r.get('rps_vs_floor1'), 2)} | {_fmt(r.get('cpu_vs_floor1'), 2)} |"
        )
    open_rows = [r for r in doc["rows"] if "send_lag_p99_ms" in r]
    for r in open_rows:
        lines += [
            "",
            f"Open loop `{r['name']}`: generator send lag p99 "
            f"{r['send_lag_p99_ms']:.1f} ms, max {r['send_lag_max_ms']:.1f} ms; "
            f"polls received {r['received_messages']} new messages.",
        ]
    if doc["checks"]:
        lines += ["", "## Checks", ""]
        for check in doc["checks"]:
            if "cpu_per_request_ratio" in check:
                lines.append(
                    f"- {check['check']}: CPU per request x{check['cpu_per_request_ratio']:.2f} "
                    f"(rounds: {', '.join(f'{r:.2f}' for r in check['per_round_cpu_ratios'])}), "
                    f"throughput x{check['throughput_ratio']:.2f} "
                    f"({' vs '.join(check['rows'])}) — "
                    f"{'within' if check['within_20_percent'] else 'NOT within'} 20%"
                )
            elif "rps" in check:
                lines.append(
                    f"- wrk ({check['connections']} connections, {check['threads']} thread"
                    f"{'s' if check['threads'] > 1 else ''}) on `{check['row']}`: "
                    f"{check['rps']:.0f} req/s, p50 {check.get('p50_ms', float('nan')):.2f} ms, "
                    f"non-2xx {check.get('non_2xx', 0)}, wrk CPU "
                    f"{check['wrk_cpu_s_per_1k']:.3f} s/1k req, server CPU "
                    f"{check['server_cpu_s_per_1k']:.3f} s/1k req; our generator "
                    f"{_fmt(check['generator_rps'], 0)} req/s, its CPU "
                    f"{_fmt(check.get('generator_cpu_s_per_1k'), 3)} s/1k req, server CPU "
                    f"{_fmt(check.get('generator_server_cpu_s_per_1k'), 3)} s/1k req"
                )
            else:
                lines.append(f"- wrk on `{check.get('row')}`: {check.get('error')}")
    if doc.get("profile"):
        workload = {
            "poll": "compact_poll",
            "post": "POST messages",
            "sogs-poll": "v4 /batch poll",
            "sogs-post": "v4 POST /room/R/message",
        }[doc["profile"].get("workload", "poll")]
        lines += ["", f"## Profile (py-spy, server under closed-loop {workload})", ""]
        lines += profiler.render(doc["profile"])
    lines += ["", "## Notes", ""] + [f"- {note}" for note in doc["notes"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    args, settings = parse_args(argv)
    for item in args.server_env:
        name, _, value = item.partition("=")
        servers.SERVER_ENV[name] = value
    servers.SERVER_ARGS.extend(args.server_arg)
    Bench(args, settings).run()


if __name__ == "__main__":
    main()
