"""`opengroup import-rust`: a Rust-era data directory becomes this server, checked through
the API: same key and join URLs, same message ids and deletion cursors, old tokens still
valid, files by their old ids, room images, moderators and bans."""

from __future__ import annotations

import base64
import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from opengroup.crypto import ServerKeys, SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import RunningServer

from .conftest import all_deletions, all_messages, cli, ok, refused, server_key
from .rust_server import RustServer, build_rust_server


@pytest.fixture(scope="module")
def rust(tmp_path_factory: pytest.TempPathFactory) -> RustServer:
    return build_rust_server(tmp_path_factory.mktemp("rust") / "sogs")


@pytest.fixture(scope="module")
def imported(
    rust: RustServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningServer, str]]:
    data = tmp_path_factory.mktemp("imported") / "data"
    done = cli("import-rust", str(rust.path), "--data-dir", str(data))
    server = RunningServer(data).start()
    yield server, done.stdout
    server.stop()


@pytest.fixture
def og(imported: tuple[RunningServer, str], rust: RustServer) -> Iterator[OpenGroupClient]:
    with OpenGroupClient(imported[0].base_url, rust.keys.public, transport="onion") as client:
        yield client


def token_of(rust: RustServer, room: str, user: SessionKeys) -> str:
    return next(t for t, u in rust.rooms[room].tokens.items() if u == user)


def any_token(rust: RustServer, room: str) -> str:
    return next(iter(rust.rooms[room].tokens))


def test_the_server_keeps_the_rust_key_and_join_urls(
    imported: tuple[RunningServer, str], rust: RustServer
) -> None:
    server, report = imported
    assert server_key(server.data_dir).public == rust.keys.public
    assert f"public key {rust.keys.public_hex}" in report
    urls = cli("url", "--data-dir", str(server.data_dir), "--base-url", "http://sogs.example")
    assert f"http://sogs.example/main?public_key={rust.keys.public_hex}" in urls.stdout.split()


def test_rooms_keep_ids_and_names(og: OpenGroupClient) -> None:
    rooms = {room["id"]: room["name"] for room in ok(og.get_rooms())["rooms"]}
    assert rooms == {"main": "Main Room", "lokinet": "Lokinet Updates"}


def test_old_tokens_stay_valid_and_messages_keep_their_ids(
    og: OpenGroupClient, rust: RustServer
) -> None:
    token = any_token(rust, "main")
    messages = all_messages(og, "main", token)
    assert [m["server_id"] for m in messages] == [1, 2, 4, 6]  # 3 and 5 stay deleted
    for message in messages:
        assert message == rust.rooms["main"].messages[message["server_id"]]
    latest = ok(og.get_messages("main", token))["messages"]
    assert [m["server_id"] for m in latest] == [6, 4, 2, 1]
    lokinet = all_messages(og, "lokinet", any_token(rust, "lokinet"))
    assert [m["server_id"] for m in lokinet] == [1, 2]


def test_deletion_cursors_are_the_rust_ones(og: OpenGroupClient, rust: RustServer) -> None:
    token = any_token(rust, "main")
    assert all_deletions(og, "main", token) == [
        {"id": 1, "deleted_message_id": 3},
        {"id": 2, "deleted_message_id": 5},
        {"id": 3, "deleted_message_id": 5},
    ]
    headers = {"Room": "main", "Authorization": token}
    after_two = ok(og.request("GET", "deleted_messages?from_server_id=2", headers=headers))
    assert after_two["ids"] == [{"id": 3, "deleted_message_id": 5}]


def test_compact_poll_with_old_cursors(og: OpenGroupClient, rust: RustServer) -> None:
    token = any_token(rust, "main")
    poll: dict[str, object] = {"room_id": "main", "auth_token": token}
    poll |= {"from_message_server_id": 2, "from_deletion_server_id": 1}
    reply = ok(og.compact_poll([poll]))
    result = reply["results"][0]
    assert result["status_code"] == 200
    assert [m["server_id"] for m in result["messages"]] == [4, 6]
    assert [d["id"] for d in result["deletions"]] == [2, 3]


def test_files_download_by_their_old_ids(og: OpenGroupClient, rust: RustServer) -> None:
    token = any_token(rust, "main")
    for file_id, content in rust.rooms["main"].files.items():
        reply = ok(og.get_file("main", token, file_id))
        assert base64.b64decode(reply["result"]) == content
    for file_id in rust.rooms["main"].expired_files:
        assert og.get_file("main", token, file_id)["status_code"] == 404
    # A file belongs to its room.
    file_id = next(iter(rust.rooms["main"].files))
    assert og.get_file("lokinet", any_token(rust, "lokinet"), file_id)["status_code"] == 404


def test_room_image(og: OpenGroupClient, rust: RustServer) -> None:
    reply = ok(og.request("GET", "rooms/main/image"))
    assert base64.b64decode(reply["result"]) == rust.rooms["main"].image
    assert og.request("GET", "rooms/lokinet/image")["status_code"] == 404


def test_moderators_and_bans(og: OpenGroupClient, rust: RustServer) -> None:
    main = rust.rooms["main"]
    moderator_token = token_of(rust, "main", main.moderators[0])
    headers = {"Room": "main", "Authorization": moderator_token}
    assert ok(og.request("GET", "moderators", headers=headers))["moderators"] == [
        main.moderators[0].session_id
    ]
    assert ok(og.request("GET", "block_list", headers=headers))["banned_members"] == [
        main.banned[0].session_id
    ]
    banned_token = token_of(rust, "main", main.banned[0])
    assert og.get_messages("main", banned_token)["status_code"] == 403


def test_member_count_from_user_activity(og: OpenGroupClient, rust: RustServer) -> None:
    headers = {"Room": "main", "Authorization": any_token(rust, "main")}
    assert ok(og.request("GET", "member_count", headers=headers))["member_count"] >= 3


def test_new_posts_and_deletions_continue_after_the_imported_ids(
    og: OpenGroupClient, rust: RustServer
) -> None:
    moderator = rust.rooms["main"].moderators[0]
    token = token_of(rust, "main", moderator)
    message = ok(og.post_message("main", token, moderator, b"after the move"))["message"]
    assert message["server_id"] == 7
    ok(og.delete_messages("main", token, [7]))
    deletions = all_deletions(og, "main", token)
    # A deletion's id is the seqno it takes (SOGS-API.md 1.2). The room's counter starts at
    # highest deletion id + highest message id (3 + 6); the post took 10, the deletion 11:
    # above every imported deletion id, so the cursors clients hold stay valid.
    assert deletions[-1] == {"id": 11, "deleted_message_id": 7}
    assert all(d["id"] < 11 for d in deletions[:-1])


def test_tokens_are_stored_hashed(imported: tuple[RunningServer, str], rust: RustServer) -> None:
    server, _ = imported
    with sqlite3.connect(server.data_dir / "opengroup.db") as db:
        stored = {bytes(row[0]) for row in db.execute("SELECT token_hash FROM tokens")}
    for token in rust.rooms["main"].tokens:
        assert bytes.fromhex(token) not in stored
        assert hashlib.sha256(bytes.fromhex(token)).digest() in stored


def test_report_says_what_was_imported(imported: tuple[RunningServer, str]) -> None:
    _, report = imported
    assert "room main: 4 messages, 2 deleted, 3 deletions, 2 files" in report
    assert "skipped 1: file already expired" in report
    assert "imported 2 rooms" in report


# -- refusals and choices ----------------------------------------------------------------------


def test_room_ids_invalid_here_need_a_rename_or_skip(tmp_path: Path) -> None:
    rust = build_rust_server(tmp_path / "sogs", {"session-updates": "Session Updates"})
    data = tmp_path / "data"
    message = refused("import-rust", str(rust.path), "--data-dir", str(data))
    assert "session-updates" in message
    assert "--rename session-updates=" in message
    assert not (data / "key.pem").exists()  # nothing written

    cli(
        "import-rust",
        str(rust.path),
        "--data-dir",
        str(data),
        "--rename",
        "session-updates=session_updates",
    )
    listing = cli("rooms", "list", "--data-dir", str(data)).stdout
    assert "session_updates" in listing and "Session Updates" in listing

    skipped = tmp_path / "skipped"
    cli("import-rust", str(rust.path), "--data-dir", str(skipped), "--skip", "session-updates")
    assert "Session Updates" not in cli("rooms", "list", "--data-dir", str(skipped)).stdout


def test_refuses_a_server_with_another_key(rust: RustServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    cli("init", "--data-dir", str(data))  # a server of its own
    message = refused("import-rust", str(rust.path), "--data-dir", str(data))
    assert "different key" in message
    assert "join URL" in message


def test_refuses_a_server_with_data(rust: RustServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(rust.path / "x25519_private_key.pem", data / "key.pem")
    cli("init", "--data-dir", str(data))
    cli("rooms", "add", "lounge", "Lounge", "--data-dir", str(data))
    message = refused("import-rust", str(rust.path), "--data-dir", str(data))
    assert "already has data" in message and "lounge" in message


def test_an_empty_first_start_server_is_fine(rust: RustServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(rust.path / "x25519_private_key.pem", data / "key.pem")
    cli("init", "--data-dir", str(data))  # as a first start: creates the empty room main
    cli("import-rust", str(rust.path), "--data-dir", str(data))
    listing = cli("rooms", "list", "--data-dir", str(data)).stdout
    assert "Main Room" in listing
    assert ServerKeys.from_pem((data / "key.pem").read_bytes()).public == rust.keys.public


def test_refuses_a_directory_that_is_no_rust_server(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    message = refused("import-rust", str(tmp_path / "nothing"), "--data-dir", str(tmp_path / "d"))
    assert "database.db" in message


def test_refuses_without_the_rust_key(rust: RustServer, tmp_path: Path) -> None:
    copy = tmp_path / "sogs"
    shutil.copytree(rust.path, copy)
    (copy / "x25519_private_key.pem").unlink()
    message = refused("import-rust", str(copy), "--data-dir", str(tmp_path / "d"))
    assert "x25519_private_key.pem" in message
