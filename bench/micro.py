"""In-process cost of one request, without HTTP or other processes: a quick loop for
optimisation work (steadier than the load test on a busy machine).

    python -m bench.micro                  # compact_poll K=5, post, onion floor: µs per call
    python -m bench.micro --profile poll   # the same under cProfile, top functions by own time

It seeds a small dataset in a temporary directory and calls the server's own functions:
`handle_onion_request` (decrypt, dispatch, encrypt) and `dispatch` (the function-call transport).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import orjson

from opengroup.api.legacy.routes import dispatch
from opengroup.api.request import ApiRequest
from opengroup.config import Config
from opengroup.crypto import build_onion_request
from opengroup.runtime.bootstrap import open_context
from opengroup.testing.inprocess import handle_onion_request, handle_onion_v4_request
from opengroup.usecases.context import ServerContext

from .loadgen import (
    V4_PATH,
    ClientCrypto,
    Job,
    Request,
    SogsPoller,
    SogsPoster,
    inner_request,
    poll_plaintext,
    post_request,
    routing,
)
from .seed import ClientSpec, DatasetSpec, seed


def _time(call: Callable[[], object], seconds: float) -> tuple[float, int]:
    for _ in range(20):
        call()
    count, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        for _ in range(20):
            call()
        count += 20
    return (time.process_time() - started) / count, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument(
        "--profile", choices=["poll", "post", "onion", "sogs-poll", "sogs-post"], default=None
    )
    parser.add_argument("--only", default="", help="comma-separated cases")
    parser.add_argument(
        "--sort", default="tottime", choices=["tottime", "cumtime"], help="with --profile"
    )
    parser.add_argument(
        "--only-functions", default="", help="with --profile: a regex of the functions shown"
    )
    parser.add_argument("--save", default="", help="with --profile: write the pstats file here")
    parser.add_argument("--rooms-per-client", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opengroup-micro-"))
    try:
        data = seed(
            work / "data",
            DatasetSpec(
                rooms=20, clients=200, rooms_per_client=args.rooms_per_client, modern_clients=200
            ),
        )
        config = Config(data_dir=str(data.data_dir), create_main_room=False, rate_limit_posts=10**9)
        ctx = open_context(config)
        runner = asyncio.Runner()
        rng = random.Random(1)
        job = Job("closed", "poll", "127.0.0.1", 1, 0, 0, server_public=data.server_public)
        client = data.clients[0]
        poll_inner = poll_plaintext(client)
        envelope, _ = build_onion_request(data.server_public, poll_inner)
        # POST messages: signed posts from many users, as the load test sends them, each
        # envelope sent once (the server refuses a repeated envelope that writes).
        pool_size = int(args.seconds * 5000) + 200
        posts = []
        for n in range(pool_size):
            _kind, raw, _check = post_request(job, data.clients[n % len(data.clients)], rng)
            posts.append(raw.split(b"\r\n\r\n", 1)[1])
        floor_inner = inner_request("POST", "nothing", None, {})
        floor_envelope, _ = build_onion_request(data.server_public, floor_inner)
        direct = ApiRequest("POST", "compact_poll", body=_poll_body(client))
        counter = iter(range(10**9))
        # Modern requests: every one needs a fresh nonce, so a pool of them is signed before
        # the clock starts (enough for the timed loop at ~3,000 calls/s), each used once.
        route = {**routing(job), "target": V4_PATH}
        modern_job = replace(job, server_public=data.server_public)
        pollers = [
            SogsPoller(c, modern_job, ClientCrypto(data.server_public, route))
            for c in data.modern_clients
        ]
        posters = [
            SogsPoster(c, modern_job, ClientCrypto(data.server_public, route), rng)
            for c in data.modern_clients
        ]
        cases: dict[str, Callable[[], object]] = {
            "poll": lambda: handle_onion_request(ctx, envelope, runner),
            "poll-direct": lambda: dispatch(ctx, direct),
            "post": lambda: handle_onion_request(ctx, posts[next(counter) % len(posts)], runner),
            "onion": lambda: handle_onion_request(ctx, floor_envelope, runner),
            "sogs-poll": _v4_case(ctx, pollers, pool_size, runner),
            "sogs-post": _v4_case(ctx, posters, pool_size, runner),
        }
        only = set(filter(None, args.only.split(","))) or set(cases)
        if args.profile:
            # cProfile sees one thread: run what would go to the store's threads inline.
            async def inline(function: Callable[..., object], *call_args: object) -> object:
                return function(*call_args)

            ctx.db.run = inline  # type: ignore[method-assign]
            profiler = cProfile.Profile()
            profiler.enable()
            _time(cases[args.profile], args.seconds)
            profiler.disable()
            stats = pstats.Stats(profiler).sort_stats(args.sort)
            if args.save:
                stats.dump_stats(args.save)
            stats.print_stats(*([args.only_functions] if args.only_functions else []), 40)
            return
        k = args.rooms_per_client
        labels = {
            "poll": f"onion compact_poll K={k} (decrypt, dispatch, encrypt)",
            "poll-direct": f"dispatch(compact_poll K={k}) only",
            "post": "onion POST messages (signature verified, insert)",
            "onion": "onion envelope + 404 endpoint (crypto + dispatch floor)",
            "sogs-poll": f"onion v4 /batch poll K={k} (X-SOGS, Desktop 1.17)",
            "sogs-post": "onion v4 POST /room/R/message (X-SOGS, 15)",
        }
        print(f"{'case':<58} {'CPU µs/call':>9} {'calls':>7}")
        for name, call in cases.items():
            if name not in only:
                continue
            per_call, count = _time(call, args.seconds)
            print(f"{labels[name]:<58} {per_call * 1e6:>9.0f} {count:>7}")
        runner.close()
        ctx.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _v4_case(
    ctx: ServerContext,
    makers: list[SogsPoller] | list[SogsPoster],
    size: int,
    runner: asyncio.Runner,
) -> Callable[[], object]:
    """A call answering the next of `size` pre-signed v4 requests (checked: an error raises)."""
    pool: list[Request] = [makers[n % len(makers)].request() for n in range(size)]
    counter = iter(range(10**9))

    def call() -> object:
        n = next(counter)
        _kind, raw, check = pool[n % len(pool)]
        status, body = handle_onion_v4_request(ctx, raw.split(b"\r\n\r\n", 1)[1], runner)
        error = check(status, body) if n % 64 == 0 else None  # the client's cost: not every call
        if error is not None:
            raise RuntimeError(f"modern request failed: {error}")
        return body

    return call


def _poll_body(client: ClientSpec) -> bytes:
    requests = [
        {"room_id": room, "auth_token": token, "from_message_server_id": cursor}
        for room, token, cursor in zip(client.rooms, client.tokens, client.cursors, strict=True)
    ]
    return orjson.dumps({"requests": requests})


if __name__ == "__main__":
    main()
