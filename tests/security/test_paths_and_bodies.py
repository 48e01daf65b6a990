"""Path components never reach outside the data directory, and bodies over the limit are
refused before they are read whole. Against the real server over raw sockets, so that paths
and headers arrive exactly as written."""

from __future__ import annotations

import base64
import contextlib
import os
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opengroup.api.legacy.parsing import path_int
from opengroup.crypto import SessionKeys, build_onion_request
from opengroup.errors import BadInput
from opengroup.store import BlobStore
from opengroup.testing.client import OpenGroupClient
from tests.support.fuzzing import fuzz_settings
from tests.support.server import RunningServer

MiB = 1024 * 1024
MARKER = b"SENTINEL-outside-the-data-dir-7f3a"


def send_raw(
    port: int, head: bytes, chunks: Iterator[bytes] | None = None, timeout: float = 10
) -> tuple[int, bytes, int]:
    """Send a request head and then body chunks until the server answers; returns
    (status, response bytes, body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):
            for chunk in chunks or iter(()):
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break  # the server has answered: stop sending
                sock.sendall(chunk)
                sent += len(chunk)
        response = b""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(OSError):
            while time.monotonic() < deadline and b"\r\n\r\n" not in response:
                data = sock.recv(65536)
                if not data:
                    break
                response += data
            # the rest of a small body
            sock.settimeout(0.5)
            with contextlib.suppress(OSError):
                while len(response) < 100_000:
                    data = sock.recv(65536)
                    if not data:
                        break
                    response += data
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1]), response, sent


def head(method: str, path: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


# ------------------------------------------------------------------ path components


@fuzz_settings(scale=5)
@given(value=st.text(max_size=40) | st.sampled_from(["..", "../key.pem", "0", "1" * 19, "٣"]))
def test_file_ids_map_to_a_name_inside_the_files_directory(value: str) -> None:
    root = Path("/srv/og/files")
    try:
        file_id = path_int(value, "file id")
    except BadInput:
        return
    path = BlobStore(root).path(file_id)
    assert path.parent == root and path.name.isdigit()


@pytest.fixture(scope="module")
def sentinel(live: RunningServer) -> Iterator[Path]:
    outside = live.data_dir.parent / "sentinel"
    outside.write_bytes(MARKER)
    yield outside
    outside.unlink()


@pytest.fixture(scope="module")
def auth(live: RunningServer) -> dict[str, str]:
    with OpenGroupClient(live.base_url, live.public_key, transport="legacy") as client:
        token = client.authenticate(SessionKeys.generate(), "main")
    return {"Room": "main", "Authorization": token}


TRAVERSALS = [
    "/legacy/files/..%2F..%2Fsentinel",
    "/legacy/files/..%2F..%2F..%2Fsentinel",
    "/legacy/files/..%2Fkey.pem",
    "/legacy/files/%2e%2e%2f%2e%2e%2fsentinel",
    "/legacy/files/../../sentinel",
    "/legacy/files/-1",
    "/legacy/files/0x10",
    "/legacy/files/%00",
    "/legacy/files/99999999999999999999",
    "/legacy/rooms/..%2F..%2Fsentinel",
    "/legacy/rooms/..%2F..%2Fsentinel/image",
    "/legacy/rooms/..%2Fkey.pem/image",
    "/legacy/rooms/%2e%2e/image",
    "/static/images/..%2F..%2Fsentinel",
    "/static/images/..%2Fkey.pem",
    "/static/images/../../sentinel",
    "/..%2F..%2Fsentinel",
    "/..%2Fkey.pem",
    "/%2e%2e/%2e%2e/sentinel",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_cannot_reach_outside_the_data_dir(
    live: RunningServer, sentinel: Path, auth: dict[str, str], path: str
) -> None:
    key_pem = (live.data_dir / "key.pem").read_bytes()
    key_body = key_pem.splitlines()[1]
    before = sorted(p.name for p in live.data_dir.parent.iterdir())
    status, response, _ = send_raw(live.port, head("GET", path, auth))
    assert status in (400, 401, 404), response[:300]
    assert MARKER not in response and key_body not in response
    after = sorted(p.name for p in live.data_dir.parent.iterdir())
    assert before == after


@pytest.mark.parametrize(
    "room", ["../../sentinel", "..%2F..%2Fsentinel", "main/../..", "main\\..\\..", "."]
)
def test_room_header_cannot_name_a_path(
    live: RunningServer, sentinel: Path, auth: dict[str, str], room: str
) -> None:
    headers = {**auth, "Room": room}
    for path in ("/legacy/messages", "/legacy/files/1"):
        status, response, _ = send_raw(live.port, head("GET", path, headers))
        assert status == 400 and MARKER not in response


def test_onion_endpoints_cannot_name_a_path(live: RunningServer, sentinel: Path) -> None:
    import orjson

    server_public = live.public_key
    for endpoint in ("files/..%2F..%2Fsentinel", "rooms/../../sentinel/image", "files/../key.pem"):
        inner = {"method": "GET", "endpoint": endpoint, "body": "", "headers": {"Room": "main"}}
        body, cipher = build_onion_request(server_public, orjson.dumps(inner))
        status, response, _ = send_raw(
            live.port,
            head("POST", "/loki/v3/lsrpc", {"Content-Length": str(len(body))}) + body,
        )
        assert status == 200
        payload = response.split(b"\r\n\r\n", 1)[1]
        reply = orjson.loads(cipher.decrypt(base64.b64decode(payload)))
        assert reply["status_code"] in (400, 401, 404), reply
        assert MARKER not in orjson.dumps(reply)


# ------------------------------------------------------------------ body limits


@pytest.mark.parametrize(
    ("path", "limit"), [("/loki/v3/lsrpc", 10 * MiB), ("/legacy/messages", 16 * MiB)]
)
def test_declared_length_over_the_limit_is_refused_at_once(
    live: RunningServer, path: str, limit: int
) -> None:
    started = time.monotonic()
    status, _, _ = send_raw(
        live.port,
        head("POST", path, {"Content-Length": str(20 * MiB), "Room": "main"}) + b"{}",
        timeout=8,
    )
    # At once: the other 20 MiB never come, so a server waiting for them would not answer.
    assert status == 413
    assert time.monotonic() - started < 4


def test_declared_length_just_over_the_onion_limit(live: RunningServer) -> None:
    status, _, _ = send_raw(
        live.port,
        head("POST", "/loki/v3/lsrpc", {"Content-Length": str(10 * MiB + 1)}) + b"x",
        timeout=5,
    )
    assert status == 413


def _chunked(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    chunk = os.urandom(size)
    framed = f"{size:x}\r\n".encode() + chunk + b"\r\n"
    for _ in range(total // size):
        yield framed


@pytest.mark.parametrize(
    ("path", "limit"), [("/loki/v3/lsrpc", 10 * MiB), ("/legacy/files", 16 * MiB)]
)
def test_streamed_body_over_the_limit_is_cut_off(
    live: RunningServer, auth: dict[str, str], path: str, limit: int
) -> None:
    """No Content-Length: the server reads up to the limit, answers 413 and stops reading;
    its memory does not grow by the 200 MiB offered."""
    assert live.process is not None
    before = rss_kib(live.process.pid)
    status, _, sent = send_raw(
        live.port,
        head("POST", path, {**auth, "Transfer-Encoding": "chunked"}),
        _chunked(200 * MiB),
        timeout=30,
    )
    grown_mib = (rss_kib(live.process.pid) - before) / 1024
    assert status == 413
    # What was sent before the answer: the limit plus what socket buffers hold in flight.
    assert sent < limit + 16 * MiB, sent
    assert grown_mib < 48, grown_mib


@pytest.mark.parametrize("path", ["/loki/v3/lsrpc", "/oxen/v3/lsrpc", "/oxen/v4/lsrpc"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_onion_paths_take_only_post(live: RunningServer, path: str, method: str) -> None:
    status, response, _ = send_raw(live.port, head(method, path, {}), timeout=5)
    assert status == 405
    assert b"\r\nallow: post\r\n" in response.lower()
