"""POST files, GET files/:id: ids, room scoping and size limits."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import httpx
import pytest

from opengroup.crypto import SessionKeys

from .conftest import (
    LENIENT_MAX_FILE_SIZE,
    SHORT_LIFETIME_SECONDS,
    CheckedClient,
    Member,
    Server,
    b64,
    is_int,
    status,
    unb64,
)

DEFAULT_MAX_FILE = 10_000_000


@pytest.fixture(scope="module")
def other_room(server: Server) -> str:
    return server.new_room("Files Elsewhere")


def test_upload_and_download(join: Callable[..., Member]) -> None:
    member = join()
    content = bytes(range(256)) + os.urandom(3000)
    reply = member.post("files", {"file": b64(content)})
    assert status(reply) == 200, reply
    assert set(reply) == {"status_code", "result"}
    file_id = reply["result"]
    assert is_int(file_id)
    assert 2**31 <= file_id < 2**53

    fetched = member.get(f"files/{file_id}")
    assert status(fetched) == 200, fetched
    assert set(fetched) == {"status_code", "result"}
    assert unb64(fetched["result"]) == content

    # Any member of the room may fetch it, not only the uploader.
    assert unb64(join().get(f"files/{file_id}")["result"]) == content


def test_file_ids_differ(join: Callable[..., Member]) -> None:
    member = join()
    ids = {member.post("files", {"file": b64(b"same")})["result"] for _ in range(3)}
    assert len(ids) == 3
    assert all(2**31 <= file_id < 2**53 for file_id in ids)


def test_file_is_served_only_in_its_room(join: Callable[..., Member], other_room: str) -> None:
    member = join("main")
    file_id = member.post("files", {"file": b64(b"main only")})["result"]
    elsewhere = join(other_room, member.keys)
    reply = elsewhere.get(f"files/{file_id}")
    assert status(reply) == 404
    assert "result" not in reply
    assert unb64(member.get(f"files/{file_id}")["result"]) == b"main only"


def test_unknown_file_is_404(join: Callable[..., Member]) -> None:
    member = join()
    assert status(member.get(f"files/{2**31 + 12345}")) == 404
    assert status(member.get("files/1")) == 404


def test_files_need_a_token(client: CheckedClient, join: Callable[..., Member]) -> None:
    file_id = join().post("files", {"file": b64(b"private")})["result"]
    assert status(client.request("GET", f"files/{file_id}", headers={"Room": "main"})) == 401
    reply = client.request("POST", "files", body={"file": b64(b"x")}, headers={"Room": "main"})
    assert status(reply) == 401


def test_bad_file_bodies_are_400(join: Callable[..., Member]) -> None:
    member = join()
    assert status(member.post("files", {})) == 400
    assert status(member.post("files", {"file": "not base64!"})) == 400
    assert status(member.post("files", {"file": 12})) == 400
    assert status(member.get("files/notanumber")) == 400


def test_file_size_limit(lenient_server: Server, transport: str) -> None:
    with lenient_server.client(transport) as og:
        member = Member.join(og)
        exact = os.urandom(LENIENT_MAX_FILE_SIZE)
        reply = member.post("files", {"file": b64(exact)})
        assert status(reply) == 200, reply
        assert unb64(member.get(f"files/{reply['result']}")["result"]) == exact

        reply = member.post("files", {"file": b64(os.urandom(LENIENT_MAX_FILE_SIZE + 1))})
        assert status(reply) == 413, reply
        assert "result" not in reply


def test_room_image_size_limit(lenient_server: Server, transport: str) -> None:
    room = lenient_server.new_room("Small Images")
    with lenient_server.client(transport) as og:
        member = Member.join(og, room)
        lenient_server.add_moderator(member.session_id, room)
        reply = member.post(
            f"rooms/{room}/image", {"file": b64(os.urandom(LENIENT_MAX_FILE_SIZE + 1))}
        )
        assert status(reply) == 413, reply
        assert status(og.request("GET", f"rooms/{room}/image")) == 404


def test_ten_megabyte_limit_over_legacy(legacy: CheckedClient) -> None:
    """The real limit: 10,000,000 decoded bytes pass, one more is 413 (legacy: no 10 MiB cap)."""
    member = Member.join(legacy)
    content = os.urandom(DEFAULT_MAX_FILE)
    reply = member.post("files", {"file": b64(content)})
    assert status(reply) == 200, reply
    assert unb64(member.get(f"files/{reply['result']}")["result"]) == content

    reply = member.post("files", {"file": b64(content + b"!")})
    assert status(reply) == 413, reply


def test_legacy_body_over_16_mib_is_413(server: Server) -> None:
    with server.client("legacy") as og:
        member = Member.join(og)
    body = b'{"file": "' + b"A" * (16 * 1024 * 1024 + 16) + b'"}'
    response = httpx.post(
        server.base_url + "/legacy/files",
        content=body,
        headers={**member.headers, "Content-Type": "application/json"},  # type: ignore[dict-item]
        timeout=60,
    )
    assert response.status_code == 413
    assert response.json()["status_code"] == 413


def test_files_expire_but_room_images_do_not(short_lived_server: Server) -> None:
    keys = SessionKeys.generate()
    short_lived_server.add_moderator(keys.session_id, "main")
    with short_lived_server.client("onion") as og:
        member = Member.join(og, "main", keys)
        file_id = member.post("files", {"file": b64(b"fleeting")})["result"]
        image = b"\x89PNG\r\n\x1a\n" + os.urandom(100)
        assert status(member.post("rooms/main/image", {"file": b64(image)})) == 200
        assert unb64(member.get(f"files/{file_id}")["result"]) == b"fleeting"

        time.sleep(SHORT_LIFETIME_SECONDS + 1)
        member = Member.join(og, "main", keys)  # the old token has expired too
        assert status(member.get(f"files/{file_id}")) == 404
        assert unb64(og.request("GET", "rooms/main/image")["result"]) == image
