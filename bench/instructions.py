"""Instructions per request, counted by valgrind (callgrind): the same number on a busy machine.

    python -m bench.instructions                # compact_poll K=5, post, onion floor
    python -m bench.instructions poll --calls 400

CPU time per request moves by ±15% on a shared machine from one minute to the next; the count
of instructions executed does not (two runs of one version agree within ~0.2%). It is not time
(an instruction of Python's interpreter and one of libsodium's vector code differ), and it
leaves out the kernel and the HTTP server: use it to compare two versions of the request path,
and `make bench` for throughput.

The dataset is seeded here (as bench.micro's, with 2,000 clients); then, under valgrind, a child
process opens it and runs a request `warm-up + N` times, for two values of N. The difference
divided by the difference in N is the cost of one request, without start-up and imports.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from opengroup.config import Config
from opengroup.crypto import build_onion_request
from opengroup.runtime.bootstrap import open_context
from opengroup.transport.onion import V3
from opengroup.transport.onion_v4 import V4
from opengroup.transport.pipeline import HttpRequest, serve

from .loadgen import (
    V4_PATH,
    ClientCrypto,
    Job,
    SogsPoller,
    SogsPoster,
    inner_request,
    poll_plaintext,
    post_request,
    routing,
)
from .seed import Dataset, DatasetSpec, seed

CASES = ("poll", "post", "onion", "sogs-poll", "sogs-post")
WARM_UP = 50
LABELS = {
    "poll": "onion compact_poll K=5 (decrypt, dispatch, encrypt)",
    "post": "onion POST messages (signature verified, insert)",
    "onion": "onion envelope + 404 endpoint (crypto + dispatch floor)",
    "sogs-poll": "onion v4 /batch poll K=5 (X-SOGS, Desktop 1.17)",
    "sogs-post": "onion v4 POST /room/R/message (X-SOGS, 15)",
}
MODERN = ("sogs-poll", "sogs-post")


def modern_bodies(data: Dataset, case: str, count: int) -> list[bytes]:
    """`count` signed v4 requests (each nonce used once), made in the parent: signing them
    is the client's work, not to be counted."""
    job = Job("closed", case, "127.0.0.1", 1, 0, 0, server_public=data.server_public)
    route = {**routing(job), "target": V4_PATH}
    rng = random.Random(1)
    makers = [
        SogsPoller(c, job, ClientCrypto(data.server_public, route))
        if case == "sogs-poll"
        else SogsPoster(c, job, ClientCrypto(data.server_public, route), rng)
        for c in data.modern_clients[:50]
    ]
    return [makers[i % len(makers)].request()[1].split(b"\r\n\r\n", 1)[1] for i in range(count)]


def _requests(data: Dataset, case: str) -> Callable[[int], bytes]:
    """The onion body of call `i`: polls of one client, posts from 50 users in turn."""
    client = data.clients[0]
    if case == "poll":
        envelope, _ = build_onion_request(data.server_public, poll_plaintext(client))
        return lambda i: envelope
    if case == "onion":
        envelope, _ = build_onion_request(
            data.server_public, inner_request("POST", "nothing", None, {})
        )
        return lambda i: envelope
    job = Job("closed", "post", "127.0.0.1", 1, 0, 0, server_public=data.server_public)
    rng = random.Random(1)
    posts = [post_request(job, data.clients[n], rng)[1].split(b"\r\n\r\n", 1)[1] for n in range(50)]
    return lambda i: posts[i % len(posts)]


def run_calls(dataset_file: Path, case: str, calls: int) -> None:
    """In the child, under valgrind: open a copy of the dataset and make the calls, through
    the server's pipeline (open, dispatch, seal) on one event loop, as the server runs them."""
    data: Dataset = pickle.loads(dataset_file.read_bytes())
    work = Path(tempfile.mkdtemp(prefix="opengroup-instructions-"))
    try:
        shutil.copytree(data.data_dir, work / "data")
        config = Config(data_dir=str(work / "data"), create_main_room=False, rate_limit_posts=10**9)
        ctx = open_context(config)
        if case in MODERN:
            bodies = pickle.loads((dataset_file.parent / f"{case}.pickle").read_bytes())
            door = V4
            body_of: Callable[[int], bytes] = bodies.__getitem__
        else:
            door, body_of = V3, _requests(data, case)
        loop = asyncio.new_event_loop()
        for i in range(WARM_UP + calls):
            outcome = loop.run_until_complete(serve(ctx, door, body_of(i), HttpRequest()))
            assert outcome.status == 200, outcome.status
        loop.close()
        ctx.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def count(dataset_file: Path, case: str, calls: int) -> int:
    argv = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "bench.instructions",
        "--child",
        str(dataset_file),
        case,
        "--calls",
        str(calls),
    ]
    env = os.environ | {"PYTHONHASHSEED": "0"}  # the same dict layouts in every run
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no instruction count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("cases", nargs="*", help=f"of {', '.join(CASES)} (default: all)")
    parser.add_argument("--calls", type=int, default=200, help="N of the second run")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = args.cases or list(CASES)
    if unknown := set(cases) - set(CASES):
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    if args.child is not None:
        run_calls(args.child, cases[0], args.calls)
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    work = Path(tempfile.mkdtemp(prefix="opengroup-instructions-"))
    try:
        data = seed(
            work / "data",
            DatasetSpec(rooms=20, clients=2000, rooms_per_client=5, modern_clients=50),
        )
        dataset_file = work / "dataset.pickle"
        dataset_file.write_bytes(pickle.dumps(data))
        for case in set(cases) & set(MODERN):
            bodies = modern_bodies(data, case, WARM_UP + args.calls)
            (work / f"{case}.pickle").write_bytes(pickle.dumps(bodies))
        print(f"{'case':<58} {'instructions/call':>17}")
        for case in cases:
            few, many = count(dataset_file, case, 20), count(dataset_file, case, args.calls)
            per_call = (many - few) / (args.calls - 20)
            print(f"{LABELS[case]:<58} {per_call / 1000:>16,.0f}k", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
