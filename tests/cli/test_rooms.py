"""`opengroup rooms add | list | rename | describe | set-image | delete`."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

from .conftest import (
    INVALID_ROOM_IDS,
    assert_usage_error,
    og,
    ok,
    parse_rooms_list,
    public_key_hex,
    query,
    table_rows,
)


def test_add_and_list(initialised: Path) -> None:
    data_dir = initialised
    created = ok(og("rooms", "add", "lokinet", "Lokinet Updates", data_dir=data_dir))
    assert "lokinet" in created.stdout
    longest = "a_" * 32  # 64 characters
    ok(og("rooms", "add", longest, "Two", data_dir=data_dir))
    listed = parse_rooms_list(ok(og("rooms", "list", data_dir=data_dir)).stdout)
    assert set(listed) == {"main", "lokinet", longest}
    assert listed["lokinet"].name == "Lokinet Updates"
    assert (listed["lokinet"].messages, listed["lokinet"].files, listed["lokinet"].active) == (
        0,
        0,
        0,
    )
    assert listed["main"].name == "Main"


def test_describe_shows_in_the_list_and_moves_info_updates(initialised: Path) -> None:
    def info_updates() -> int:
        return int(query(initialised, "SELECT info_updates FROM rooms WHERE id = 'main'")[0][0])

    before = info_updates()
    done = ok(og("rooms", "describe", "main", "Say hi\tto  everyone\nhere", data_dir=initialised))
    assert "main" in done.stdout
    stored = query(initialised, "SELECT description FROM rooms WHERE id = 'main'")
    assert stored == [("Say hi\tto  everyone\nhere",)]
    assert info_updates() == before + 1
    listed = parse_rooms_list(ok(og("rooms", "list", data_dir=initialised)).stdout)
    assert listed["main"].description == "Say hi to everyone here"  # one line per room
    ok(og("rooms", "describe", "main", "", data_dir=initialised))
    assert query(initialised, "SELECT description FROM rooms WHERE id = 'main'") == [(None,)]
    assert (
        parse_rooms_list(ok(og("rooms", "list", data_dir=initialised)).stdout)["main"].description
        == ""
    )
    assert info_updates() == before + 2


def test_describe_errors_change_nothing(initialised: Path) -> None:
    before = table_rows(initialised)
    assert_usage_error(og("rooms", "describe", "nosuchroom", "text", data_dir=initialised))
    assert_usage_error(og("rooms", "describe", "Bad-Id", "text", data_dir=initialised))
    assert_usage_error(og("rooms", "describe", "main", "x" * 5000, data_dir=initialised))
    assert table_rows(initialised) == before


def test_add_existing_room_changes_nothing(initialised: Path) -> None:
    before = table_rows(initialised)
    assert_usage_error(og("rooms", "add", "main", "Another Main", data_dir=initialised))
    assert table_rows(initialised) == before


def test_add_invalid_room_ids(initialised: Path) -> None:
    before = table_rows(initialised)
    for room_id in INVALID_ROOM_IDS:
        assert_usage_error(og("rooms", "add", room_id, "Some Room", data_dir=initialised))
    assert table_rows(initialised) == before


def test_add_with_bad_name(initialised: Path) -> None:
    before = table_rows(initialised)
    for name in ("", "x" * 257, "two\nlines"):
        assert_usage_error(og("rooms", "add", "named", name, data_dir=initialised))
    assert table_rows(initialised) == before


def test_rename(initialised: Path) -> None:
    ok(og("rooms", "rename", "main", "The Lobby", data_dir=initialised))
    listed = parse_rooms_list(ok(og("rooms", "list", data_dir=initialised)).stdout)
    assert listed["main"].name == "The Lobby"
    assert query(initialised, "SELECT name FROM rooms WHERE id = 'main'") == [("The Lobby",)]


def test_rename_errors_change_nothing(initialised: Path) -> None:
    before = table_rows(initialised)
    for room_id in ["nosuchroom", *INVALID_ROOM_IDS]:
        assert_usage_error(og("rooms", "rename", room_id, "X", data_dir=initialised))
    assert_usage_error(og("rooms", "rename", "main", "", data_dir=initialised))
    assert table_rows(initialised) == before


def test_delete_errors_change_nothing(initialised: Path) -> None:
    before = table_rows(initialised)
    assert_usage_error(og("rooms", "delete", "main", data_dir=initialised))  # no --yes
    assert_usage_error(og("rooms", "delete", "nosuchroom", "--yes", data_dir=initialised))
    assert_usage_error(og("rooms", "delete", "Bad-Id", "--yes", data_dir=initialised))
    assert table_rows(initialised) == before


def test_set_image_errors(tmp_path: Path, initialised: Path) -> None:
    image = tmp_path / "logo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(100))
    before = table_rows(initialised)
    files_before = sorted(os.listdir(initialised / "files"))
    assert_usage_error(og("rooms", "set-image", "nosuchroom", str(image), data_dir=initialised))
    assert_usage_error(og("rooms", "set-image", "Bad-Id", str(image), data_dir=initialised))
    missing = str(tmp_path / "missing.png")
    assert_usage_error(og("rooms", "set-image", "main", missing, data_dir=initialised))
    too_big = og(
        "rooms",
        "set-image",
        "main",
        str(image),
        data_dir=initialised,
        env={"OPENGROUP_MAX_FILE_SIZE": "50"},
    )
    assert_usage_error(too_big)
    assert table_rows(initialised) == before
    assert sorted(os.listdir(initialised / "files")) == files_before


# ---------------------------------------------------------------------------- with a server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = RunningServer(data_dir=tmp_path_factory.mktemp("rooms") / "data").start()
    try:
        yield running
    finally:
        running.stop()


def client(server: RunningServer, transport: str = "legacy") -> OpenGroupClient:
    public = bytes.fromhex(public_key_hex(server.data_dir))
    return OpenGroupClient(server.base_url, public, transport=transport)


def test_list_counts_what_was_posted(server: RunningServer) -> None:
    ok(server.cli("rooms", "add", "counted", "Counted Room"))
    alice, bob = SessionKeys.generate(), SessionKeys.generate()
    with client(server) as og_client:
        alice_token = og_client.authenticate(alice, "counted")
        bob_token = og_client.authenticate(bob, "counted")
        for data in (b"one", b"two"):
            assert og_client.post_message("counted", alice_token, alice, data)["status_code"] == 200
        assert og_client.post_message("counted", bob_token, bob, b"three")["status_code"] == 200
        assert og_client.upload_file("counted", bob_token, b"a file")["status_code"] == 200
    listed = parse_rooms_list(ok(server.cli("rooms", "list")).stdout)
    counted = listed["counted"]
    assert (counted.name, counted.messages, counted.files, counted.active) == (
        "Counted Room",
        3,
        1,
        2,
    )


def test_set_image_is_served(tmp_path: Path, server: RunningServer) -> None:
    ok(server.cli("rooms", "add", "pictured", "Pictured"))
    image = tmp_path / "logo.png"
    content = b"\x89PNG\r\n\x1a\n" + os.urandom(3000)
    image.write_bytes(content)
    ok(server.cli("rooms", "set-image", "pictured", str(image)))
    for transport in ("legacy", "onion"):
        with client(server, transport) as og_client:
            reply = og_client.request("GET", "rooms/pictured/image")
            assert reply["status_code"] == 200, reply
            assert base64.b64decode(reply["result"]) == content
            room = og_client.get_room("pictured")["room"]
            assert room["image_id"], room
    # A second image replaces the first; the first then expires as an ordinary file would
    # (SOGS-API.md 9: upload time + file_expiry_days), the new one never.
    old_files = set(os.listdir(server.data_dir / "files"))
    image.write_bytes(b"GIF87a second image")
    ok(server.cli("rooms", "set-image", "pictured", str(image)))
    with client(server) as og_client:
        reply = og_client.request("GET", "rooms/pictured/image")
        assert base64.b64decode(reply["result"]) == b"GIF87a second image"
    new_files = set(os.listdir(server.data_dir / "files")) - old_files
    assert len(new_files) == 1
    expiries = dict(query(server.data_dir, "SELECT id, expires_at FROM files"))
    assert expiries[int(new_files.pop())] is None
    first = int(room["image_id"])
    assert expiries[first] is not None


ROOM_TABLES = ("messages", "deletions", "moderators", "bans", "tokens", "user_activity", "files")


def rows_of_room(data_dir: Path, room_pk: object) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: sorted(
            query(data_dir, f'SELECT * FROM "{table}" WHERE room_pk = ?', room_pk), key=repr
        )
        for table in ROOM_TABLES
    }


def test_delete_room_removes_everything_of_it(tmp_path: Path, server: RunningServer) -> None:
    data_dir = server.data_dir
    for room_id in ("doomed", "kept"):
        ok(server.cli("rooms", "add", room_id, room_id.title()))
    user, other = SessionKeys.generate(), SessionKeys.generate()
    ok(server.cli("moderators", "add", user.session_id, "doomed"))
    ok(server.cli("moderators", "add", user.session_id, "kept"))
    ok(server.cli("bans", "add", other.session_id, "doomed"))
    ok(server.cli("bans", "add", other.session_id, "kept"))
    global_mod = SessionKeys.generate().session_id
    ok(server.cli("moderators", "add", global_mod, "--global"))
    image = tmp_path / "img.bin"
    image.write_bytes(b"RIFF\x00\x00\x00\x00WEBP room image")
    ok(server.cli("rooms", "set-image", "doomed", str(image)))
    file_ids: dict[str, int] = {}
    tokens: dict[str, str] = {}
    with client(server) as og_client:
        for room_id in ("doomed", "kept"):
            token = tokens[room_id] = og_client.authenticate(user, room_id)
            first = og_client.post_message(room_id, token, user, b"first")["message"]["server_id"]
            og_client.post_message(room_id, token, user, b"second")
            assert og_client.delete_messages(room_id, token, [first])["status_code"] == 200
            file_ids[room_id] = og_client.upload_file(room_id, token, b"file")["result"]
        # a pending token too
        og_client.request(
            "GET",
            f"auth_token_challenge?public_key={SessionKeys.generate().session_id}",
            headers={"Room": "doomed"},
        )
    (doomed_pk,) = query(data_dir, "SELECT pk FROM rooms WHERE id = 'doomed'")[0]
    (kept_pk,) = query(data_dir, "SELECT pk FROM rooms WHERE id = 'kept'")[0]
    (image_id,) = query(data_dir, "SELECT image_id FROM rooms WHERE id = 'doomed'")[0]
    doomed_before = rows_of_room(data_dir, doomed_pk)
    assert all(doomed_before[table] for table in ROOM_TABLES), "setup left a table empty"
    kept_before = rows_of_room(data_dir, kept_pk)
    other_rooms = query(data_dir, "SELECT * FROM rooms WHERE id != 'doomed' ORDER BY id")
    global_before = query(data_dir, "SELECT * FROM global_moderators")
    doomed_files = {str(file_ids["doomed"]), str(image_id)}
    assert doomed_files <= set(os.listdir(data_dir / "files"))

    before = table_rows(data_dir)
    assert_usage_error(og("rooms", "delete", "doomed", data_dir=data_dir))
    assert table_rows(data_dir) == before, "delete without --yes changed something"

    ok(server.cli("rooms", "delete", "doomed", "--yes"))

    assert query(data_dir, "SELECT * FROM rooms WHERE id = 'doomed'") == []
    assert all(rows == [] for rows in rows_of_room(data_dir, doomed_pk).values()), rows_of_room(
        data_dir, doomed_pk
    )
    on_disk = set(os.listdir(data_dir / "files"))
    assert not doomed_files & on_disk, f"files of the deleted room left on disk: {on_disk}"
    assert str(file_ids["kept"]) in on_disk
    assert rows_of_room(data_dir, kept_pk) == kept_before
    assert query(data_dir, "SELECT * FROM rooms WHERE id != 'doomed' ORDER BY id") == other_rooms
    assert query(data_dir, "SELECT * FROM global_moderators") == global_before
    # The running server agrees.
    with client(server) as og_client:
        assert og_client.get_room("doomed")["status_code"] == 404
        assert og_client.get_room("kept")["status_code"] == 200
        poll = og_client.compact_poll(
            [
                {"room_id": "doomed", "auth_token": tokens["doomed"]},
                {"room_id": "kept", "auth_token": tokens["kept"]},
            ]
        )
        assert [r["status_code"] for r in poll["results"]] == [404, 200], poll
        kept_file = og_client.get_file("kept", tokens["kept"], file_ids["kept"])
        assert base64.b64decode(kept_file["result"]) == b"file"
    assert "doomed" not in parse_rooms_list(ok(server.cli("rooms", "list")).stdout)
