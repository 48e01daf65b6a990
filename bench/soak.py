"""Soak test: mixed client traffic at a fixed rate, through onion requests, against a server
running with two worker processes. Not part of `make test`; run it with `make soak` or

    bench/soak [--seconds 60] [--rate 50] [--users 48] [--warmup 10] [--json FILE]

What it does: starts `opengroup serve --workers 2` on a fresh data directory on a free loopback
port, authenticates `--users` users, runs `--warmup` seconds of traffic (not counted), then
`--seconds` of the same traffic, open loop: request i is sent at t0 + i/rate whatever the
server's pace. The mix is what clients do: mostly compact_poll, then posts, reads, uploads and
downloads, member counts and re-authentication.

It reports the error count (any exception or status_code other than 200: must be 0), latency
percentiles, and the server's memory (RSS of the whole process tree) at boot, after the warm-up
(the baseline), and at the end: the end must not exceed the baseline by more than 10%.
Exit status 0 when both hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient

MAX_GROWTH = 0.10
ROOMS = ("main", "second")


# ------------------------------------------------------------------ the server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def opengroup(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "opengroup", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def tree_rss_kib(root: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{name}/stat").read_text()
            children.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(name))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


@dataclass
class Server:
    data_dir: Path
    workers: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        opengroup("rooms", "add", "second", "Second", "--data-dir", str(self.data_dir))
        with open(self.data_dir.parent / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable, "-m", "opengroup", "serve",
                    "--data-dir", str(self.data_dir),
                    "--port", str(self.port),
                    "--workers", str(self.workers),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/health", timeout=1).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"server did not start:\n{self.log()}")

    def workers_up(self) -> int:
        """Processes in the server's tree besides the supervisor."""
        assert self.process is not None
        return len(
            [
                pid
                for pid in os.listdir("/proc")
                if pid.isdigit() and _ppid(int(pid)) == self.process.pid
            ]
        )

    def rss_kib(self) -> int:
        assert self.process is not None
        return tree_rss_kib(self.process.pid)

    def log(self) -> str:
        path = self.data_dir.parent / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return None


# ------------------------------------------------------------------ the clients


@dataclass
class User:
    keys: SessionKeys
    tokens: dict[str, str]
    last_seen: dict[str, int] = field(default_factory=dict)


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if error is not None:
                self.errors[kind] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append(f"{kind}: {error}")

    @property
    def count(self) -> int:
        return sum(len(values) for values in self.latencies.values())


class Traffic:
    """The request mix. Every action returns None on success or an error description."""

    def __init__(self, client: OpenGroupClient, users: list[User], seed: int) -> None:
        self.client = client
        self.users = users
        self.rng = random.Random(seed)
        self.files: list[tuple[str, str, int]] = []  # (room, token, file id)
        self.next_poster = itertools.cycle(range(len(users)))
        self.lock = threading.Lock()
        self.actions: list[tuple[float, str, Callable[[], str | None]]] = [
            (0.55, "compact_poll", self.poll),
            (0.15, "post_message", self.post),
            (0.08, "get_messages", self.read),
            (0.05, "upload_file", self.upload),
            (0.05, "get_file", self.download),
            (0.04, "member_count", self.member_count),
            (0.04, "get_rooms", self.rooms),
            (0.04, "authenticate", self.reauthenticate),
        ]

    def pick(self) -> tuple[str, Callable[[], str | None]]:
        with self.lock:
            roll = self.rng.random()
        for weight, name, action in self.actions:
            roll -= weight
            if roll < 0:
                return name, action
        return self.actions[0][1], self.actions[0][2]

    def _user(self) -> User:
        with self.lock:
            return self.rng.choice(self.users)

    @staticmethod
    def _check(reply: dict[str, Any]) -> str | None:
        return None if reply.get("status_code") == 200 else json.dumps(reply)[:200]

    def poll(self) -> str | None:
        user = self._user()
        requests = [
            {
                "room_id": room,
                "auth_token": token,
                "from_message_server_id": user.last_seen.get(room),
                "from_deletion_server_id": None,
            }
            for room, token in user.tokens.items()
        ]
        reply = self.client.compact_poll(requests)
        if reply.get("status_code") != 200:
            return self._check(reply)
        for result in reply["results"]:
            if result["status_code"] != 200:
                return f"room {result['room_id']}: {result}"
            if result["messages"]:
                newest = max(message["server_id"] for message in result["messages"])
                user.last_seen[result["room_id"]] = max(
                    newest, user.last_seen.get(result["room_id"], 0)
                )
        return None

    def post(self) -> str | None:
        with self.lock:
            user = self.users[next(self.next_poster)]
            room = self.rng.choice(list(user.tokens))
            data = self.rng.randbytes(self.rng.randint(40, 600))
        return self._check(self.client.post_message(room, user.tokens[room], user.keys, data))

    def read(self) -> str | None:
        user = self._user()
        room = "main"
        after = max(user.last_seen.get(room, 0) - 20, 0) or None
        return self._check(self.client.get_messages(room, user.tokens[room], from_server_id=after))

    def upload(self) -> str | None:
        user = self._user()
        with self.lock:
            content = self.rng.randbytes(self.rng.randint(1_000, 60_000))
        reply = self.client.upload_file("main", user.tokens["main"], content)
        if reply.get("status_code") == 200:
            with self.lock:
                self.files.append(("main", user.tokens["main"], reply["result"]))
        return self._check(reply)

    def download(self) -> str | None:
        with self.lock:
            if not self.files:
                return None
            room, token, file_id = self.rng.choice(self.files[-200:])
        return self._check(self.client.get_file(room, token, file_id))

    def member_count(self) -> str | None:
        user = self._user()
        headers = {"Room": "main", "Authorization": user.tokens["main"]}
        return self._check(self.client.request("GET", "member_count", headers=headers))

    def rooms(self) -> str | None:
        return self._check(self.client.get_rooms())

    def reauthenticate(self) -> str | None:
        user = self._user()
        room = "second" if "second" in user.tokens else "main"
        user.tokens[room] = self.client.authenticate(user.keys, room)
        return None


def run_phase(traffic: Traffic, seconds: float, rate: float, pool: ThreadPoolExecutor) -> Results:
    results = Results()

    def one(scheduled: float) -> None:
        name, action = traffic.pick()
        started = time.perf_counter()
        results.late.append(started - scheduled)
        try:
            error = action()
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        results.record(name, time.perf_counter() - started, error)

    start = time.perf_counter() + 0.1
    futures = []
    for i in itertools.count():
        scheduled = start + i / rate
        if scheduled - start >= seconds:
            break
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        futures.append(pool.submit(one, scheduled))
    for future in futures:
        future.result()
    return results


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="measured traffic (60)")
    parser.add_argument("--warmup", type=float, default=10, help="uncounted traffic first (10)")
    parser.add_argument("--rate", type=float, default=50, help="requests per second (50)")
    parser.add_argument("--users", type=int, default=48, help="distinct users (48)")
    parser.add_argument("--workers", type=int, default=2, help="server processes (2)")
    parser.add_argument("--seed", type=int, default=None, help="random seed")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(2**32)

    root = Path(tempfile.mkdtemp(prefix="opengroup-soak-"))
    server = Server(root / "data", args.workers)
    try:
        server.start()
        boot_kib = server.rss_kib()
        public_key = bytes.fromhex(opengroup("key", "--data-dir", str(server.data_dir)).strip())
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        with (
            httpx.Client(timeout=30, limits=limits) as http,
            OpenGroupClient(server.base_url, public_key, http=http) as client,
            ThreadPoolExecutor(max_workers=64) as pool,
        ):
            users = []
            for i in range(args.users):
                keys = SessionKeys.generate()
                rooms = ROOMS if i % 2 == 0 else ROOMS[:1]
                users.append(User(keys, {room: client.authenticate(keys, room) for room in rooms}))
            traffic = Traffic(client, users, seed)
            print(
                f"soak: server = supervisor + {server.workers_up()} child processes, "
                f"{args.users} users, "
                f"{args.rate:g} requests/s, warm-up {args.warmup:g} s, then {args.seconds:g} s "
                f"(seed {seed})",
                flush=True,
            )
            warm = run_phase(traffic, args.warmup, args.rate, pool)
            baseline_kib = server.rss_kib()
            samples = [baseline_kib]
            sampler_stop = threading.Event()

            def sample() -> None:
                while not sampler_stop.wait(5):
                    samples.append(server.rss_kib())

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            measured = run_phase(traffic, args.seconds, args.rate, pool)
            sampler_stop.set()
            sampler.join()
            end_kib = server.rss_kib()
        report = make_report(args, seed, warm, measured, boot_kib, baseline_kib, end_kib, samples)
    finally:
        server.stop()
        log = server.log()
        shutil.rmtree(root, ignore_errors=True)

    print_report(report)
    tracebacks = log.count("Traceback")
    if tracebacks:
        print(f"server log has {tracebacks} tracebacks")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    ok = report["errors"] == 0 and report["memory"]["growth"] <= MAX_GROWTH and not tracebacks
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def make_report(
    args: argparse.Namespace,
    seed: int,
    warm: Results,
    measured: Results,
    boot_kib: int,
    baseline_kib: int,
    end_kib: int,
    samples: list[int],
) -> dict[str, Any]:
    every = [value for values in measured.latencies.values() for value in values]
    return {
        "seconds": args.seconds,
        "rate": args.rate,
        "users": args.users,
        "workers": args.workers,
        "seed": seed,
        "requests": measured.count,
        "achieved_rate": round(measured.count / args.seconds, 1),
        "errors": sum(measured.errors.values()),
        "warmup_errors": sum(warm.errors.values()),
        "error_samples": measured.error_samples + warm.error_samples,
        "latency_ms": {
            "p50": round(percentile(every, 0.50) * 1000, 1),
            "p90": round(percentile(every, 0.90) * 1000, 1),
            "p99": round(percentile(every, 0.99) * 1000, 1),
            "max": round(max(every, default=0) * 1000, 1),
            "mean": round(statistics.fmean(every) * 1000, 1) if every else 0,
        },
        "latency_p99_ms_by_kind": {
            kind: round(percentile(values, 0.99) * 1000, 1)
            for kind, values in sorted(measured.latencies.items())
        },
        "requests_by_kind": {k: len(v) for k, v in sorted(measured.latencies.items())},
        "send_lag_p99_ms": round(percentile(measured.late, 0.99) * 1000, 1),
        "memory": {
            "boot_mib": round(boot_kib / 1024, 1),
            "start_mib": round(baseline_kib / 1024, 1),
            "end_mib": round(end_kib / 1024, 1),
            "samples_mib": [round(s / 1024, 1) for s in samples],
            "growth": round(end_kib / baseline_kib - 1, 4),
        },
    }


def print_report(report: dict[str, Any]) -> None:
    latency = report["latency_ms"]
    memory = report["memory"]
    print(
        f"requests {report['requests']} in {report['seconds']:g} s "
        f"({report['achieved_rate']}/s; mix {report['requests_by_kind']})"
    )
    print(f"errors {report['errors']} (warm-up: {report['warmup_errors']})")
    for sample in report["error_samples"][:10]:
        print(f"  {sample}")
    print(
        f"latency ms: p50 {latency['p50']}  p90 {latency['p90']}  p99 {latency['p99']}  "
        f"max {latency['max']}  (send lag p99 {report['send_lag_p99_ms']} ms)"
    )
    print(f"p99 by kind (ms): {report['latency_p99_ms_by_kind']}")
    print(
        f"server memory (RSS, all processes): boot {memory['boot_mib']} MiB, "
        f"start {memory['start_mib']} MiB (after warm-up), end {memory['end_mib']} MiB: "
        f"{memory['growth'] * 100:+.1f}% (limit +{MAX_GROWTH * 100:.0f}%)"
    )
    print(f"memory every 5 s (MiB): {memory['samples_mib']}")


if __name__ == "__main__":
    sys.exit(main())
