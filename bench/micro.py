"""In-process cost of one request, without HTTP or other processes: a quick loop for
optimisation work (steadier than the load test on a busy machine).

    python -m bench.micro                  # compact_poll K=5, post, onion floor: µs per call
    python -m bench.micro --profile poll   # the same under cProfile, top functions by own time

It seeds a small dataset in a temporary directory and calls the server's own functions:
`handle_onion_request` (decrypt, dispatch, encrypt) and `dispatch` (the function-call transport).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from opengroup.api.legacy.routes import dispatch
from opengroup.api.request import ApiRequest
from opengroup.config import Config
from opengroup.crypto import build_onion_request
from opengroup.runtime.bootstrap import open_context
from opengroup.testing.inprocess import handle_onion_request

from .loadgen import Job, inner_request, poll_plaintext, post_request
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
    parser.add_argument("--profile", choices=["poll", "post", "onion"], default=None)
    parser.add_argument("--rooms-per-client", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opengroup-micro-"))
    try:
        data = seed(
            work / "data",
            DatasetSpec(rooms=20, clients=200, rooms_per_client=args.rooms_per_client),
        )
        config = Config(data_dir=str(data.data_dir), create_main_room=False, rate_limit_posts=10**9)
        ctx = open_context(config)
        rng = random.Random(1)
        job = Job("closed", "poll", "127.0.0.1", 1, 0, 0, server_public=data.server_public)
        client = data.clients[0]
        poll_inner = poll_plaintext(client)
        envelope, _ = build_onion_request(data.server_public, poll_inner)
        # POST messages: a pool of signed posts from many users, as the load test sends them.
        posts = []
        for n in range(200):
            _kind, raw, _check = post_request(job, data.clients[n], rng)
            posts.append(raw.split(b"\r\n\r\n", 1)[1])
        floor_inner = inner_request("POST", "nothing", None, {})
        floor_envelope, _ = build_onion_request(data.server_public, floor_inner)
        direct = ApiRequest("POST", "compact_poll", body=_poll_body(client))
        counter = iter(range(10**9))
        cases: dict[str, Callable[[], object]] = {
            "poll": lambda: handle_onion_request(ctx, envelope),
            "poll-direct": lambda: dispatch(ctx, direct),
            "post": lambda: handle_onion_request(ctx, posts[next(counter) % len(posts)]),
            "onion": lambda: handle_onion_request(ctx, floor_envelope),
        }
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            _time(cases[args.profile], args.seconds)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
            return
        k = args.rooms_per_client
        labels = {
            "poll": f"onion compact_poll K={k} (decrypt, dispatch, encrypt)",
            "poll-direct": f"dispatch(compact_poll K={k}) only",
            "post": "onion POST messages (signature verified, insert)",
            "onion": "onion envelope + 404 endpoint (crypto + dispatch floor)",
        }
        print(f"{'case':<58} {'CPU µs/call':>9} {'calls':>7}")
        for name, call in cases.items():
            per_call, count = _time(call, args.seconds)
            print(f"{labels[name]:<58} {per_call * 1e6:>9.0f} {count:>7}")
        ctx.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _poll_body(client: ClientSpec) -> bytes:
    requests = [
        {"room_id": room, "auth_token": token, "from_message_server_id": cursor}
        for room, token, cursor in zip(client.rooms, client.tokens, client.cursors, strict=True)
    ]
    return orjson.dumps({"requests": requests})


if __name__ == "__main__":
    main()
