"""Start the server under test (and the floor app) as subprocesses, as an operator would."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from . import procstat

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Subprocess:
    """A server process in its own session; `stop` ends it and its workers."""

    def __init__(
        self,
        argv: list[str],
        log_path: Path,
        port: int,
        env: dict[str, str],
        ready_path: str = "/hello",
    ) -> None:
        self.ready_path = ready_path
        self.argv = argv
        self.log_path = log_path
        self.port = port
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, workers: int = 1, timeout: float = 60) -> Subprocess:
        """Start and wait until `ready_path` answers 200 (a cheap page: `/` renders a QR code
        per room) and, with several workers, until all of them run."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=ROOT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.argv} exited early:\n{self.log()}")
            try:
                ready = httpx.get(self.url + self.ready_path, timeout=5).status_code == 200
                # With several workers, wait until all of them are up.
                if ready and len(self.worker_pids()) >= workers:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv} did not start in {timeout}s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the root alone, or uvicorn's workers."""
        tree = procstat.process_tree(self.pid)
        children = [pid for pid in tree if pid != self.pid and _is_python_worker(pid)]
        return children or [self.pid]

    def sample(self) -> procstat.TreeSample:
        return procstat.sample(self.pid)

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _is_python_worker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            cmdline = handle.read()
    except OSError:
        return False
    # uvicorn's workers are multiprocessing spawn children; skip the resource tracker.
    return b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline


# Set by the bench's --server-env / --server-arg: every server it starts gets them.
SERVER_ENV: dict[str, str] = {}
SERVER_ARGS: list[str] = []


def opengroup_server(
    data_dir: Path, log_path: Path, *, workers: int = 1, extra: tuple[str, ...] = ()
) -> Subprocess:
    port = free_port()
    argv = [
        sys.executable,
        "-m",
        "opengroup",
        "serve",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-create-main-room",
        *extra,
        *SERVER_ARGS,
    ]
    return Subprocess(argv, log_path, port, dict(SERVER_ENV), ready_path="/legacy/rooms")


def floor_server(key_file: Path, log_path: Path, *, workers: int = 1) -> Subprocess:
    port = free_port()
    argv = [sys.executable, "-m", "bench.floor_app", "--port", str(port), "--workers", str(workers)]
    env = {"OPENGROUP_BENCH_FLOOR_KEY": str(key_file), "PYTHONPATH": str(ROOT)}
    return Subprocess(argv, log_path, port, env)
