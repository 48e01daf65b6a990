"""Load generator processes: what real Session clients send, through v3 onion requests.

Two modes:

- closed loop: C keep-alive connections, each sending its next request as soon as the previous
  answer arrives: the most the server can do at that concurrency;
- open loop: every request has a scheduled send time fixed in advance (polls every T seconds per
  client, posts, uploads and downloads as Poisson arrivals); latency is measured from the
  scheduled time, not from when a connection got free, so a slow server cannot slow the load down
  and hide its own queueing (no coordinated omission).

Each generator process runs a uvloop event loop and a minimal HTTP/1.1 client (httpclient.py).
Requests that never change (the onion floor, posts, uploads) are built before the run; polls are
built per request because their cursors move, but each simulated client derives its onion key
once (see ClientCrypto), so the per-request cost is one AES-GCM encryption and JSON.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import os
import random
import resource
import struct
import time
from array import array
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import nacl.bindings as sodium
import orjson

from opengroup.crypto import (
    OnionCipher,
    build_onion_request,
    onion_cipher_for_client,
    sign_session_message,
)
from opengroup.testing.modern import BlindedUser, decode_v4_reply, encode_v4_request

from .httpclient import ConnectionLost, HttpConnection, render_get, render_post
from .seed import ClientSpec, ModernClientSpec

ONION_PATH = "/loki/v3/lsrpc"
V4_PATH = "/oxen/v4/lsrpc"
Check = Callable[[int, bytes], str | None]
Request = tuple[str, bytes, Check]  # (kind, raw HTTP request, reply check -> error key)


@dataclass
class Job:
    """What one generator process does; pickled to it."""

    mode: str  # "closed" | "open"
    workload: str  # hello | onion | onion_threadpool | poll | post | mixed | sogs-poll | sogs-post
    host: str
    port: int
    duration: float
    warmup: float
    server_public: bytes = b""
    connections: int = 8  # closed loop: connections of this process
    clients: list[ClientSpec] = field(default_factory=list)
    modern: list[ModernClientSpec] = field(default_factory=list)  # sogs-poll, sogs-post
    poll_interval: float = 4.0  # open loop: seconds between two polls of one client
    post_rate: float = 0.0  # open loop, per second, this process
    upload_rate: float = 0.0
    download_rate: float = 0.0
    downloads: list[tuple[str, str, int]] = field(default_factory=list)  # room, token, file id
    upload_sizes: tuple[int, int] = (100_000, 5_000_000)
    max_connections: int = 512
    pool_size: int = 2000
    drain_timeout: float = 15.0
    seed: int = 0


# ---------------------------------------------------------------------------- onion helpers


def routing(job: Job) -> dict[str, object]:
    """The last hop's keys that clients write next to ephemeral_key (the server ignores them)."""
    return {
        "host": job.host,
        "target": ONION_PATH,
        "method": "POST",
        "protocol": "http",
        "port": job.port,
    }


def inner_request(method: str, endpoint: str, body: object, headers: dict[str, str]) -> bytes:
    text = "" if body is None else orjson.dumps(body).decode()
    return orjson.dumps({"method": method, "endpoint": endpoint, "body": text, "headers": headers})


class ClientCrypto:
    """One simulated client's onion key, derived once.

    Real clients make a fresh ephemeral key per request; the server's cost is the same either way
    (it runs X25519 and derives the key on every request), and the generator saves two X25519
    operations per request.
    """

    __slots__ = ("cipher", "meta")

    def __init__(self, server_public: bytes, route: dict[str, object]) -> None:
        private = os.urandom(32)
        public = sodium.crypto_scalarmult_base(private)
        self.cipher = onion_cipher_for_client(private, server_public)
        self.meta = orjson.dumps({**route, "ephemeral_key": public.hex()})

    def envelope(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt(plaintext)
        return b"".join((struct.pack("<I", len(ciphertext)), ciphertext, self.meta))


def open_reply(cipher: OnionCipher, status: int, body: bytes) -> tuple[dict[str, Any], str | None]:
    if status != 200:
        return {}, f"http:{status}"
    try:
        reply = orjson.loads(cipher.decrypt(base64.b64decode(body)))
    except Exception:
        return {}, "bad-reply"
    code = reply.get("status_code") if isinstance(reply, dict) else None
    if code != 200:
        return reply if isinstance(reply, dict) else {}, f"api:{code}"
    return reply, None


def prebuilt(kind: str, job: Job, plaintext: bytes, path: str = ONION_PATH) -> Request:
    """A request with its own fresh ephemeral key, exactly as clients build them."""
    envelope, cipher = build_onion_request(job.server_public, plaintext, metadata=routing(job))
    raw = render_post(f"{job.host}:{job.port}", path, envelope)

    def check(status: int, body: bytes) -> str | None:
        return open_reply(cipher, status, body)[1]

    return kind, raw, check


# ---------------------------------------------------------------------------- workloads


class Poller:
    """A client polling its rooms with compact_poll, carrying cursors forward as clients do."""

    def __init__(self, client: ClientSpec, job: Job, crypto: ClientCrypto) -> None:
        self.client = client
        self.crypto = crypto
        self.host = f"{job.host}:{job.port}"
        self.cursors: list[int | None] = list(client.cursors)
        self.deletion_cursors: list[int | None] = [None] * len(client.rooms)
        self.received = 0

    def request(self) -> Request:
        entries = []
        for room, token, cursor, deletion in zip(
            self.client.rooms,
            self.client.tokens,
            self.cursors,
            self.deletion_cursors,
            strict=True,
        ):
            entry: dict[str, object] = {"room_id": room, "auth_token": token}
            if cursor is not None:
                entry["from_message_server_id"] = cursor
            if deletion is not None:
                entry["from_deletion_server_id"] = deletion
            entries.append(entry)
        plaintext = inner_request("POST", "compact_poll", {"requests": entries}, {})
        raw = render_post(self.host, ONION_PATH, self.crypto.envelope(plaintext))
        return "poll", raw, self.check

    def check(self, status: int, body: bytes) -> str | None:
        reply, error = open_reply(self.crypto.cipher, status, body)
        if error:
            return error
        results = reply.get("results")
        if not isinstance(results, list) or len(results) != len(self.client.rooms):
            return "bad-results"
        for i, result in enumerate(results):
            if result.get("status_code") != 200:
                return f"room:{result.get('status_code')}"
            found = result["messages"]
            if found:
                self.received += len(found)
                newest = max(m["server_id"] for m in found)
                self.cursors[i] = max(self.cursors[i] or 0, newest)
            deleted = result["deletions"]
            if deleted:
                self.deletion_cursors[i] = max(
                    self.deletion_cursors[i] or 0, max(d["id"] for d in deleted)
                )
        return None


class Resent:
    """A fixed request sent many times, as a new envelope each time (a fresh nonce under its
    client's key): real clients never send the same envelope twice, and the server refuses a
    repeated one that writes."""

    __slots__ = ("crypto", "host", "kind", "path", "plaintext")

    def __init__(self, kind: str, job: Job, plaintext: bytes, path: str = ONION_PATH) -> None:
        self.kind, self.plaintext, self.path = kind, plaintext, path
        self.host = f"{job.host}:{job.port}"
        self.crypto = ClientCrypto(job.server_public, routing(job))

    def __call__(self) -> Request:
        raw = render_post(self.host, self.path, self.crypto.envelope(self.plaintext))
        cipher = self.crypto.cipher

        def check(status: int, body: bytes) -> str | None:
            return open_reply(cipher, status, body)[1]

        return self.kind, raw, check


def post_plaintext(client: ClientSpec, rng: random.Random) -> bytes:
    """A signed message from `client` into one of its rooms, as an inner request."""
    i = rng.randrange(len(client.rooms))
    data = rng.randbytes(rng.randint(100, 400))
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(client.private, data)).decode(),
        "timestamp": int(time.time() * 1000),
        "public_key": client.session_id,
    }
    headers = {"Room": client.rooms[i], "Authorization": client.tokens[i]}
    return inner_request("POST", "messages", body, headers)


def post_request(job: Job, client: ClientSpec, rng: random.Random) -> Request:
    """A signed message from `client` into one of its rooms (signature checked by the server)."""
    i = rng.randrange(len(client.rooms))
    data = rng.randbytes(rng.randint(100, 400))
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(client.private, data)).decode(),
        "timestamp": int(time.time() * 1000),
        "public_key": client.session_id,
    }
    headers = {"Room": client.rooms[i], "Authorization": client.tokens[i]}
    return prebuilt("post", job, inner_request("POST", "messages", body, headers))


def poll_plaintext(client: ClientSpec) -> bytes:
    entries = [
        {"room_id": room, "auth_token": token, "from_message_server_id": cursor}
        for room, token, cursor in zip(client.rooms, client.tokens, client.cursors, strict=True)
    ]
    return inner_request("POST", "compact_poll", {"requests": entries}, {})


# ---------------------------------------------------------------------------- modern API (v4)


def _reduce_sha512(*parts: bytes) -> bytes:
    return sodium.crypto_core_ed25519_scalar_reduce(hashlib.sha512(b"".join(parts)).digest())


class BlindedSigner:
    """A BlindedUser's blinded key for one server, derived once: every request needs fresh
    X-SOGS headers (nonce, timestamp), so signing is per send and must be cheap. The signature
    is BlindedUser.sign_blinded's (checked equal at construction), without re-deriving the
    blinded key pair (two scalar multiplications) each time."""

    __slots__ = ("_big_ka", "_ka", "_nonce_key", "pubkey", "server_pk", "user")

    def __init__(self, user: BlindedUser, server_pk: bytes) -> None:
        self.user = user
        self.server_pk = server_pk
        self._ka, self._big_ka = user.blinded_keys(server_pk)
        self._nonce_key = hashlib.sha512(user.seed).digest()[32:64]
        self.pubkey = "15" + self._big_ka.hex()
        probe = b"bench signer probe"
        if self.sign(probe) != user.sign_blinded(probe, server_pk):
            raise AssertionError("BlindedSigner disagrees with BlindedUser.sign_blinded")

    def sign(self, message: bytes) -> bytes:
        r = _reduce_sha512(self._nonce_key, self._big_ka, message)
        big_r = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
        h = _reduce_sha512(big_r, self._big_ka, message)
        return big_r + sodium.crypto_core_ed25519_scalar_add(
            r, sodium.crypto_core_ed25519_scalar_mul(h, self._ka)
        )

    def headers(self, method: str, endpoint: str, body: bytes) -> dict[str, str]:
        """The four X-SOGS headers (SOGS-API.md 3.1-3.2) with a fresh nonce and timestamp."""
        nonce = os.urandom(16)
        stamp = str(int(time.time()))
        message = b"".join(
            (self.server_pk, nonce, stamp.encode(), method.encode(), endpoint.encode())
        )
        if body:
            message += hashlib.blake2b(body, digest_size=64).digest()
        return {
            "X-SOGS-Pubkey": self.pubkey,
            "X-SOGS-Timestamp": stamp,
            "X-SOGS-Nonce": base64.b64encode(nonce).decode(),
            "X-SOGS-Signature": base64.b64encode(self.sign(message)).decode(),
        }


def v4_request(
    signer: BlindedSigner, crypto: ClientCrypto, host: str, method: str, endpoint: str, body: bytes
) -> bytes:
    """A signed modern request in an onion v4 envelope, as raw HTTP."""
    headers = signer.headers(method, endpoint, body)
    if body:
        headers["Content-Type"] = "application/json"
    meta = {"endpoint": endpoint, "headers": headers, "method": method}
    plaintext = encode_v4_request(meta, body or None)
    return render_post(host, V4_PATH, crypto.envelope(plaintext))


def open_v4_reply(cipher: OnionCipher, status: int, body: bytes) -> tuple[int, bytes, str | None]:
    """(code, body, error key) of an onion v4 reply."""
    if status != 200:
        return 0, b"", f"http:{status}"
    try:
        info, payload = decode_v4_reply(cipher.decrypt(body))
        code = int(info["code"])
    except Exception:
        return 0, b"", "bad-reply"
    return code, payload, None


class SogsPoller:
    """Desktop 1.17's poll (SOGS-API.md 10.1): one signed v4 POST /batch of /capabilities,
    then pollInfo/0 and messages/since/SEQ?t=r&reactors=5 per room, then /inbox and /outbox;
    cursors carried forward from the message rows."""

    __slots__ = ("client", "crypto", "cursors", "host", "inbox", "outbox", "received", "signer")

    def __init__(self, client: ModernClientSpec, job: Job, crypto: ClientCrypto) -> None:
        self.client = client
        self.crypto = crypto
        self.signer = BlindedSigner(BlindedUser(client.seed), job.server_public)
        self.host = f"{job.host}:{job.port}"
        self.cursors = list(client.cursors)
        self.inbox = self.outbox = 0
        self.received = 0

    def request(self) -> Request:
        items: list[dict[str, str]] = [{"method": "GET", "path": "/capabilities"}]
        for room, cursor in zip(self.client.rooms, self.cursors, strict=True):
            items.append({"method": "GET", "path": f"/room/{room}/pollInfo/0"})
            items.append(
                {"method": "GET", "path": f"/room/{room}/messages/since/{cursor}?t=r&reactors=5"}
            )
        items.append(
            {"method": "GET", "path": f"/inbox/since/{self.inbox}" if self.inbox else "/inbox"}
        )
        items.append(
            {"method": "GET", "path": f"/outbox/since/{self.outbox}" if self.outbox else "/outbox"}
        )
        raw = v4_request(self.signer, self.crypto, self.host, "POST", "/batch", orjson.dumps(items))
        return "sogs-poll", raw, self.check

    def check(self, status: int, body: bytes) -> str | None:
        code, payload, error = open_v4_reply(self.crypto.cipher, status, body)
        if error:
            return error
        if code != 200:
            return f"code:{code}"
        try:
            answers = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return "bad-batch"
        rooms = len(self.client.rooms)
        if not isinstance(answers, list) or len(answers) != 2 * rooms + 3:
            return "bad-batch"
        for n, answer in enumerate(answers):
            sub = answer.get("code")
            # /inbox/since/N and /outbox/since/N answer 304 when nothing is new (SOGS-API 7.9).
            if sub != 200 and not (sub == 304 and n >= len(answers) - 2):
                return f"sub:{sub}"
        for i in range(rooms):
            info, rows = answers[1 + 2 * i]["body"], answers[2 + 2 * i]["body"]
            if info.get("token") != self.client.rooms[i]:
                return "bad-pollinfo"
            if rows:
                self.received += len(rows)
                self.cursors[i] = max(self.cursors[i], max(row["seqno"] for row in rows))
        for which in (-2, -1):
            found = answers[which]["body"]
            if answers[which]["code"] == 200 and found:
                newest = max(dm["id"] for dm in found)
                if which == -2:
                    self.inbox = max(self.inbox, newest)
                else:
                    self.outbox = max(self.outbox, newest)
        return None


class SogsPoster:
    """Signed `POST /room/R/message` over onion v4 (SOGS-API.md 7.3) from one modern user:
    message data and its signature (`sign_post`) made beforehand, X-SOGS headers per send."""

    __slots__ = ("bodies", "client", "crypto", "host", "n", "signer")

    def __init__(
        self, client: ModernClientSpec, job: Job, crypto: ClientCrypto, rng: random.Random
    ) -> None:
        self.client = client
        self.crypto = crypto
        user = BlindedUser(client.seed)
        self.signer = BlindedSigner(user, job.server_public)
        self.host = f"{job.host}:{job.port}"
        self.n = 0
        self.bodies: list[tuple[str, bytes]] = []
        for room in client.rooms[:2]:
            data = rng.randbytes(rng.randint(100, 400))
            signature = user.sign_post(data, job.server_public)
            body = {
                "data": base64.b64encode(data).decode(),
                "signature": base64.b64encode(signature).decode(),
                "files": [],
            }
            self.bodies.append((f"/room/{room}/message", orjson.dumps(body)))

    def request(self) -> Request:
        self.n += 1
        endpoint, body = self.bodies[self.n % len(self.bodies)]
        raw = v4_request(self.signer, self.crypto, self.host, "POST", endpoint, body)
        return "sogs-post", raw, self.check

    def check(self, status: int, body: bytes) -> str | None:
        code, _payload, error = open_v4_reply(self.crypto.cipher, status, body)
        if error:
            return error
        return None if code in (200, 201) else f"code:{code}"


class Workload:
    """Builds requests for one process: `next(i)` for closed loops, events for open loops."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.rng = random.Random(job.seed)
        self.host = f"{job.host}:{job.port}"
        route = routing(job)
        self.pollers = [Poller(c, job, ClientCrypto(job.server_public, route)) for c in job.clients]
        self.modern: list[SogsPoller] | list[SogsPoster] = []
        v4_route = {**route, "target": V4_PATH}
        if job.workload == "sogs-poll":
            self.modern = [
                SogsPoller(c, job, ClientCrypto(job.server_public, v4_route)) for c in job.modern
            ]
        elif job.workload == "sogs-post":
            self.modern = [
                SogsPoster(c, job, ClientCrypto(job.server_public, v4_route), self.rng)
                for c in job.modern
            ]
        self.pool: list[Resent] = []
        self.uploads: list[Resent] = []
        self.downloads = list(job.downloads)
        self.download_crypto = ClientCrypto(job.server_public, route) if job.server_public else None
        self._i = 0
        self.hello: Request | None = None
        if job.workload == "hello":
            raw = render_get(self.host, "/hello")
            self.hello = (
                "hello", raw, lambda status, body: None if status == 200 else f"http:{status}"
            )  # fmt: skip
        elif job.workload in ("onion", "onion_threadpool"):
            path = ONION_PATH if job.workload == "onion" else "/threadpool/v3/lsrpc"
            clients = job.clients or []
            for n in range(min(job.pool_size, 256)):
                text = poll_plaintext(clients[n % len(clients)]) if clients else b"{}"
                self.pool.append(Resent("onion", job, text, path))
        elif job.workload == "post" or (job.workload == "mixed" and job.post_rate):
            posters = job.clients
            size = min(job.pool_size, max(len(posters), 1))
            self.pool = [
                Resent("post", job, post_plaintext(posters[n % len(posters)], self.rng))
                for n in range(size)
            ]
        if job.workload == "mixed" and job.upload_rate:
            low, high = job.upload_sizes
            for n in range(3):
                size = int(math.exp(self.rng.uniform(math.log(low), math.log(high))))
                self.uploads.append(self._upload(job.clients[n % len(job.clients)], size))

    def _upload(self, client: ClientSpec, size: int) -> Request:
        i = self.rng.randrange(len(client.rooms))
        room, token = client.rooms[i], client.tokens[i]
        body = {"file": base64.b64encode(os.urandom(size)).decode()}
        headers = {"Room": room, "Authorization": token}
        return Resent("upload", self.job, inner_request("POST", "files", body, headers))

    def download(self) -> Request:
        assert self.download_crypto is not None
        if not self.downloads:
            return "download", render_get(self.host, "/"), lambda s, b: "no-files"
        room, token, file_id = self.rng.choice(self.downloads)
        headers = {"Room": room, "Authorization": token}
        plaintext = inner_request("GET", f"files/{file_id}", None, headers)
        raw = render_post(self.host, ONION_PATH, self.download_crypto.envelope(plaintext))
        cipher = self.download_crypto.cipher

        def check(status: int, body: bytes) -> str | None:
            reply, error = open_reply(cipher, status, body)
            if error is None and not isinstance(reply.get("result"), str):
                return "bad-file"
            return error

        return "download", raw, check

    def next(self, connection: int) -> Request:
        """Closed loop: the next request on connection `connection`."""
        self._i += 1
        if self.job.workload == "poll":
            return self.pollers[self._i % len(self.pollers)].request()
        if self.modern:
            return self.modern[self._i % len(self.modern)].request()
        if self.hello is not None:
            return self.hello
        return self.pool[self._i % len(self.pool)]()

    def events(self) -> list[tuple[float, Callable[[], Request]]]:
        """Open loop: (offset from start, request factory), sorted by offset."""
        job, rng = self.job, self.rng
        end = job.warmup + job.duration
        events: list[tuple[float, Callable[[], Request]]] = []
        for poller in self.pollers:
            t = rng.uniform(0, job.poll_interval)
            while t < end:
                events.append((t, poller.request))
                t += job.poll_interval
        pool = self.pool
        counter = iter(range(10**9))

        def next_post() -> Request:
            return pool[next(counter) % len(pool)]()

        uploads = self.uploads

        def next_upload() -> Request:
            return uploads[next(counter) % len(uploads)]()

        for rate, factory in (
            (job.post_rate, next_post),
            (job.upload_rate, next_upload),
            (job.download_rate, self.download),
        ):
            if rate <= 0:
                continue
            t = rng.expovariate(rate)
            while t < end:
                events.append((t, factory))
                t += rng.expovariate(rate)
        events.sort(key=lambda event: event[0])
        return events


# ---------------------------------------------------------------------------- measurement


class Stats:
    def __init__(self) -> None:
        self.latency: dict[str, array[float]] = {}
        self.errors: Counter[str] = Counter()
        self.count: Counter[str] = Counter()
        self.lag = array("d")  # open loop: how late the generator sent (generator saturation)
        self.cpu = 0.0
        self.timeouts = 0

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        lat = self.latency.get(kind)
        if lat is None:
            lat = self.latency[kind] = array("d")
        lat.append(seconds)
        self.count[kind] += 1
        if error:
            self.errors[f"{kind} {error}"] += 1

    def as_dict(self, received: int) -> dict[str, Any]:
        return {
            "latency": {kind: lat.tobytes() for kind, lat in self.latency.items()},
            "errors": dict(self.errors),
            "count": dict(self.count),
            "lag": self.lag.tobytes(),
            "cpu": self.cpu,
            "timeouts": self.timeouts,
            "received_messages": received,
        }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _measure_cpu(stats: Stats, start: float, end: float) -> None:
    await _sleep_until(start)
    before = _cpu()
    await _sleep_until(end)
    stats.cpu = _cpu() - before


# Closed-loop connections are replaced after this many requests, as Service Nodes' connections
# come and go. With several worker processes, whichever worker accepts a connection serves it
# to the end: 8 connections kept for a whole row could all land on one worker (seen: a
# "2 workers" row that used one core).
RECONNECT_EVERY = 200


async def closed_loop(job: Job, workload: Workload, t0: float, stats: Stats) -> None:
    start, end = t0 + job.warmup, t0 + job.warmup + job.duration
    conns = [await HttpConnection.open(job.host, job.port) for _ in range(job.connections)]
    cpu = asyncio.ensure_future(_measure_cpu(stats, start, end))
    await _sleep_until(t0)

    async def run(i: int) -> None:
        conn = conns[i]
        monotonic = time.monotonic
        sent_here = 0
        while True:
            sent = monotonic()
            if sent >= end:
                break
            if sent_here == RECONNECT_EVERY:
                conn.close()
                conn = await HttpConnection.open(job.host, job.port)
                sent_here = 0
                continue
            sent_here += 1
            kind, raw, check = workload.next(i)
            try:
                status, body = await conn.request(raw)
            except ConnectionLost:
                if sent >= start:
                    stats.record(kind, monotonic() - sent, "connection-lost")
                conn = await HttpConnection.open(job.host, job.port)
                continue
            done = monotonic()
            error = check(status, body)
            if sent >= start:
                stats.record(kind, done - sent, error)
        conn.close()

    await asyncio.gather(*(run(i) for i in range(job.connections)))
    await cpu


# uvicorn closes a connection idle for 5 s (timeout_keep_alive); reusing one just then races
# with the close. Clients retry such a request; the generator instead drops idle connections
# before the server would.
MAX_IDLE_SECONDS = 3.0


class Pool:
    """Keep-alive connections for the open loop: idle ones are reused, more are opened up to
    `limit`, past that requests wait (and their wait counts in their latency)."""

    def __init__(self, host: str, port: int, limit: int) -> None:
        self.host, self.port, self.limit = host, port, limit
        self.idle: list[tuple[HttpConnection, float]] = []
        self.open = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self) -> HttpConnection:
        while True:
            while self.idle:
                conn, since = self.idle.pop()
                if not conn.closed and time.monotonic() - since < MAX_IDLE_SECONDS:
                    return conn
                conn.close()
                self.open -= 1
            if self.open < self.limit:
                self.open += 1
                try:
                    return await HttpConnection.open(self.host, self.port)
                except OSError:
                    self.open -= 1
                    raise
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self.waiters.append(waiter)
            await waiter

    def release(self, conn: HttpConnection) -> None:
        if conn.closed:
            self.open -= 1
        else:
            self.idle.append((conn, time.monotonic()))
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break


async def open_loop(job: Job, workload: Workload, t0: float, stats: Stats) -> None:
    start, end = t0 + job.warmup, t0 + job.warmup + job.duration
    pool = Pool(job.host, job.port, job.max_connections)
    events = workload.events()
    cpu = asyncio.ensure_future(_measure_cpu(stats, start, end))
    pending: set[asyncio.Task[None]] = set()
    monotonic = time.monotonic

    async def fire(target: float, factory: Callable[[], Request]) -> None:
        try:
            conn = await pool.acquire()
        except OSError:
            if target >= start:
                stats.record("connect", monotonic() - target, "connect-failed")
            return
        kind, raw, check = factory()
        try:
            status, body = await conn.request(raw)
        except ConnectionLost:
            pool.release(conn)
            if target >= start:
                stats.record(kind, monotonic() - target, "connection-lost")
            return
        done = monotonic()
        pool.release(conn)
        error = check(status, body)
        if target >= start:
            stats.record(kind, done - target, error)

    loop = asyncio.get_running_loop()
    for offset, factory in events:
        target = t0 + offset
        delay = target - monotonic()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        if target >= start:
            stats.lag.append(max(0.0, monotonic() - target))
        task = loop.create_task(fire(target, factory))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await _sleep_until(end)
    if pending:
        _done, still = await asyncio.wait(pending, timeout=job.drain_timeout)
        stats.timeouts = len(still)
        for task in still:
            task.cancel()
    await cpu


def worker_main(job: Job, ready: Any, go: Any, results: Any) -> None:
    """Entry point of one generator process."""
    import uvloop

    workload = Workload(job)  # build envelopes before the clock starts
    ready.put(os.getpid())
    t0 = go.get()
    stats = Stats()
    runner = closed_loop if job.mode == "closed" else open_loop
    uvloop.run(runner(job, workload, t0, stats))
    received = sum(p.received for p in workload.pollers) + sum(
        getattr(m, "received", 0) for m in workload.modern
    )
    results.put(stats.as_dict(received))
