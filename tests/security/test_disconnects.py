"""A client that leaves mid-request costs one debug line, never a traceback (issue 16, item
9): while sending its body, while its upload is stored, while its download is sent."""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from pathlib import Path

import orjson

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer


def reset(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_aborted_requests_log_no_traceback(tmp_path: Path) -> None:
    server = RunningServer(data_dir=tmp_path / "data", extra_args=("--log-level", "debug"))
    server.start()
    try:
        with OpenGroupClient(server.base_url, server.public_key, transport="legacy") as og:
            token = og.authenticate(SessionKeys.generate(), "main")
            file_id = og.upload_file("main", token, os.urandom(2_000_000))["result"]
        lines_before = len(server.log().splitlines())
        auth = f"Host: x\r\nRoom: main\r\nAuthorization: {token}\r\n"
        upload = orjson.dumps({"file": base64.b64encode(os.urandom(2_000_000)).decode()})
        upload_head = f"POST /legacy/files HTTP/1.1\r\n{auth}Content-Length: {len(upload)}\r\n\r\n"
        requests = [
            f"GET /legacy/files/{file_id} HTTP/1.1\r\n{auth}\r\n".encode(),  # download
            upload_head.encode() + upload,  # whole upload, then gone
            upload_head.encode() + upload[:100_000],  # part of the body
            b"POST /legacy/compact_poll HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{",
        ]
        for request in requests * 5:
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(request)
            time.sleep(0.05)
            reset(sock)
        time.sleep(2)
    finally:
        server.stop()
    new_lines = server.log().splitlines()[lines_before:]
    assert not any("Traceback" in line or "ERROR" in line for line in new_lines), new_lines
    assert len(new_lines) <= 20 + 10, new_lines  # one per aborted request, and shutdown's
