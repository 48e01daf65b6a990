"""Modern files (SOGS-API.md 7.6, 9): raw uploads and downloads with their names, attaching
through a post's `files`, one file table with the legacy API, and the file lifetime rulebook
(unattached, attached, pinned, deleted, room image), with expired files refused at once."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from opengroup.crypto import SessionKeys
from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient

from .conftest import (
    LENIENT_MAX_FILE_SIZE,
    CheckedClient,
    Member,
    Server,
    b64,
    start_server,
    status,
    unb64,
)
from .sogs_content import (
    download,
    expires_in,
    filename_in,
    new_admin,
    post_with_files,
    session_content,
    upload,
    upload_id,
)

HOUR, DAY = 3600.0, 86_400.0


@pytest.fixture
def room(server: Server) -> str:
    return server.new_room("Files room")


def since(client: SogsClient, room: str, user: BlindedUser, seqno: int) -> list[dict[str, object]]:
    reply = client.get(f"/room/{room}/messages/since/{seqno}?t=r", user=user)
    assert reply.code == 200, reply.text
    return list(reply.json)


# -- upload, attach, poll, download -----------------------------------------------------------


def test_upload_attach_poll_download(sogs: SogsClient, room: str) -> None:
    poster, reader = BlindedUser.generate(), BlindedUser.generate()
    content = os.urandom(1_048_576)  # 1 MiB, as Desktop sends an image
    started = time.time()
    file_id = upload_id(sogs, room, poster, content)
    fresh = download(sogs, room, file_id, reader)
    assert fresh.code == 200 and fresh.raw == content
    assert fresh.content_type == "application/octet-stream"
    assert fresh.headers["content-disposition"] == "attachment"  # no name was given
    left = expires_in(fresh, started)
    assert left is not None and HOUR - 60 < left < HOUR + 60  # an unattached upload: 1 hour
    cursor = sogs.get(f"/room/{room}", user=reader).json["message_sequence"]

    row = post_with_files(sogs, room, poster, [str(file_id)])  # Desktop sends strings

    polled = since(sogs, room, reader, cursor)
    assert [r["id"] for r in polled] == [row["id"]]
    assert unb64(str(polled[0]["data"])) == session_content("see attached", (file_id,))
    attached = download(sogs, room, file_id, reader)
    assert attached.code == 200 and attached.raw == content
    left = expires_in(attached, started)
    assert left is not None and 15 * DAY - 60 < left < 15 * DAY + 60  # attached: 15 days


def test_a_10_mb_upload_works_and_one_byte_more_is_413(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    content = os.urandom(10_000_000)
    file_id = upload_id(sogs, room, user, content)
    assert download(sogs, room, file_id, user).raw == content
    too_big = upload(sogs, room, user, content + b"x")
    assert too_big.code == 413, too_big.text


def _client(server: Server, transport: str = "v4") -> SogsClient:
    return SogsClient(server.base_url, server.public_key, transport=transport)  # type: ignore[arg-type]


def _stored(server: Server) -> list[str]:
    return sorted(os.listdir(server.running.data_dir / "files"))


def test_the_configured_limit_is_413_and_writes_nothing(lenient_server: Server) -> None:
    room = lenient_server.new_room()
    user = BlindedUser.generate()
    before = _stored(lenient_server)
    client = _client(lenient_server)
    try:
        refused = upload(client, room, user, os.urandom(LENIENT_MAX_FILE_SIZE + 1))
        assert refused.code == 413 and refused.content_type.startswith("text/plain")
        assert upload(client, room, user, os.urandom(LENIENT_MAX_FILE_SIZE)).code == 201
    finally:
        client.close()
    assert len(_stored(lenient_server)) == len(before) + 1


def test_bad_uploads_answer_4xx_and_write_nothing(
    sogs: SogsClient, server: Server, room: str
) -> None:
    user = BlindedUser.generate()
    before = _stored(server)
    dispositions = [
        "attachment; filename*=UTF-8''%ff",  # not UTF-8
        "attachment; filename*=abc",  # not charset''value
        "attachment; filename*=koi8-r''x",  # neither UTF-8 nor ISO-8859-1
        f'attachment; filename="{"n" * 300}"',  # too long
    ]
    cases = [
        (upload(sogs, room, user, b""), 400),  # empty
        (upload(sogs, room, None, b"anonymous"), 401),
        (upload(sogs, "nosuchroom", user, b"bytes"), 404),
        (upload(sogs, "Bad-Room", user, b"bytes"), 404),
    ] + [
        (upload(sogs, room, user, b"x", {"Content-Disposition": value}), 400)
        for value in dispositions
    ]
    for reply, expected in cases:
        assert reply.code == expected, (expected, reply.code, reply.text)
        assert reply.content_type == "text/plain; charset=utf-8"
    assert _stored(server) == before


def test_upload_and_read_permissions(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin, user = new_admin(server, room), BlindedUser.generate()
    file_id = upload_id(sogs, room, user, b"before the lock")
    assert sogs.request("PUT", f"/room/{room}", {"default_upload": False}, user=admin).code == 200
    refused = upload(sogs, room, user, b"no upload permission")
    assert refused.code == 403, refused.text
    assert upload(sogs, room, admin, b"admins may").code == 201
    assert sogs.request("PUT", f"/room/{room}", {"default_read": False}, user=admin).code == 200
    assert download(sogs, room, file_id, user).code == 403
    assert download(sogs, room, file_id, None).code == 403
    assert download(sogs, room, file_id, admin).code == 200


def test_download_of_bad_or_unknown_ids(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    file_id = upload_id(sogs, room, user, b"known")
    for endpoint in (
        f"/room/{room}/file/{file_id + 1}",
        f"/room/{room}/file/abc",
        f"/room/{room}/file/-1",
        f"/room/{room}/file/0",
        f"/room/nosuchroom/file/{file_id}",
    ):
        reply = sogs.get(endpoint, user=user)
        assert reply.code == 404, (endpoint, reply.code, reply.text)
    named = sogs.get(f"/room/{room}/file/{file_id}/any-name.jpg", user=user)
    assert named.code == 200 and named.raw == b"known"


# -- names ------------------------------------------------------------------------------------

NAMES = [
    "holiday photo.jpg",
    'say "cheese".png',
    "a/b\\c.txt",
    "../../etc/passwd",
    "..",
    "Grüße aus Köln — 東京 🦒.pdf",
    "semi;colon, comma=equals.txt",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_given_with_filename_star_come_back(
    sogs: SogsClient, server: Server, room: str, name: str
) -> None:
    user = BlindedUser.generate()
    file_id = upload_id(sogs, room, user, b"named bytes", name)
    reply = download(sogs, room, file_id, user)
    assert reply.code == 200 and reply.raw == b"named bytes"
    assert filename_in(reply) == name
    # The bytes on disk are named by id only, never by the client's name.
    assert all(entry.isdigit() or entry.startswith(".upload-") for entry in _stored(server))


@pytest.mark.parametrize("name", [n for n in NAMES if n.isascii()])
def test_names_given_as_quoted_filename_come_back(sogs: SogsClient, room: str, name: str) -> None:
    user = BlindedUser.generate()
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    reply = upload(
        sogs, room, user, b"plain", {"Content-Disposition": f'attachment; filename="{quoted}"'}
    )
    assert reply.code == 201, reply.text
    assert filename_in(download(sogs, room, reply.json["id"], user)) == name


def test_filename_star_wins_and_a_bare_attachment_has_no_name(sogs: SogsClient, room: str) -> None:
    user = BlindedUser.generate()
    both = "attachment; filename=\"fallback.txt\"; filename*=UTF-8''r%C3%A9al.txt"
    reply = upload(sogs, room, user, b"both", {"Content-Disposition": both})
    assert filename_in(download(sogs, room, reply.json["id"], user)) == "réal.txt"
    bare = upload(sogs, room, user, b"bare", {"Content-Disposition": "attachment"})  # Android
    assert filename_in(download(sogs, room, bare.json["id"], user)) is None
    typed = upload(sogs, room, user, b"typed", {"Content-Type": "application/octet-stream"})
    assert filename_in(download(sogs, room, typed.json["id"], user)) is None
    control = "attachment; filename*=UTF-8''a%00b%0Ac.txt"
    cleaned = upload(sogs, room, user, b"ctl", {"Content-Disposition": control})
    assert filename_in(download(sogs, room, cleaned.json["id"], user)) == "abc.txt"


# -- rooms ------------------------------------------------------------------------------------


def test_a_file_of_room_a_is_404_in_room_b(
    sogs: SogsClient, server: Server, legacy: CheckedClient
) -> None:
    room_a, room_b = server.new_room(), server.new_room()
    user = BlindedUser.generate()
    file_id = upload_id(sogs, room_a, user, b"room a only")
    assert download(sogs, room_b, file_id, user).code == 404
    assert download(sogs, room_a, file_id, user).code == 200
    # Listing it in a post of room B attaches nothing: it stays an hour-long upload of A.
    post_with_files(sogs, room_b, user, [file_id])
    left = expires_in(download(sogs, room_a, file_id, user), time.time())
    assert left is not None and left < HOUR + 60
    member_b = Member.join(legacy, room_b)
    assert status(member_b.get(f"files/{file_id}")) == 404
    member_a = Member.join(legacy, room_a)
    assert unb64(member_a.get(f"files/{file_id}")["result"]) == b"room a only"


def test_legacy_and_modern_uploads_are_one_file_table(
    sogs: SogsClient, server: Server, legacy: CheckedClient
) -> None:
    room = server.new_room()
    member = Member.join(legacy, room)
    legacy_bytes = os.urandom(5000)
    reply = member.post("files", {"file": b64(legacy_bytes)})
    assert status(reply) == 200, reply
    legacy_id = int(reply["result"])
    reader = BlindedUser.generate()
    fetched = download(sogs, room, legacy_id, reader)
    assert fetched.code == 200 and fetched.raw == legacy_bytes
    modern_bytes = os.urandom(6000)
    modern_id = upload_id(sogs, room, reader, modern_bytes, "modern.bin")
    assert unb64(member.get(f"files/{modern_id}")["result"]) == modern_bytes


# -- who may attach what ----------------------------------------------------------------------


def test_only_own_fresh_unattached_uploads_are_attached(sogs: SogsClient, room: str) -> None:
    owner, other = BlindedUser.generate(), BlindedUser.generate()
    theirs = upload_id(sogs, room, other, b"not yours")
    mine = upload_id(sogs, room, owner, b"mine")
    first = post_with_files(sogs, room, owner, [theirs, str(mine), 999_999_999_999])
    now = time.time()
    assert (expires_in(download(sogs, room, theirs, owner), now) or 0) < HOUR + 60
    assert (expires_in(download(sogs, room, mine, owner), now) or 0) > 14 * DAY
    # Attached once: a second post does not take it over (its expiry stays that of the first).
    post_with_files(sogs, room, other, [mine])
    edit_data = session_content("edited", (theirs,))
    edited = sogs.request(
        "PUT", f"/room/{room}/message/{first['id']}",
        {"data": b64(edit_data), "signature": b64(owner.sign_post(edit_data, sogs.server_pk)),
         "files": [theirs]},
        user=owner,
    )  # fmt: skip
    assert edited.code == 200
    assert (expires_in(download(sogs, room, theirs, owner), now) or 0) < HOUR + 60
    # An edit attaches the author's own new upload.
    later = upload_id(sogs, room, owner, b"added by an edit")
    edit_data = session_content("edited again", (later,))
    assert sogs.request(
        "PUT", f"/room/{room}/message/{first['id']}",
        {"data": b64(edit_data), "signature": b64(owner.sign_post(edit_data, sogs.server_pk)),
         "files": [str(later)]},
        user=owner,
    ).code == 200  # fmt: skip
    assert (expires_in(download(sogs, room, later, owner), now) or 0) > 14 * DAY


@pytest.mark.parametrize("files", [["abc"], [1.5], [True], ["-3"], "123", [[1]], [None]])
def test_malformed_files_lists_are_400_and_post_nothing(
    sogs: SogsClient, room: str, files: object
) -> None:
    user = BlindedUser.generate()
    before = sogs.get(f"/room/{room}", user=user).json["message_sequence"]
    data = session_content("never posted")
    reply = sogs.post(
        f"/room/{room}/message",
        {"data": b64(data), "signature": b64(user.sign_post(data, sogs.server_pk)), "files": files},
        user=user,
    )
    assert reply.code == 400, reply.text
    assert sogs.get(f"/room/{room}", user=user).json["message_sequence"] == before


# -- lifetimes --------------------------------------------------------------------------------

UNATTACHED_SECONDS = 2.0
ATTACHED_SECONDS = 3.0


@pytest.fixture(scope="module")
def lifetimes(tmp_path_factory: pytest.TempPathFactory, session_db_url: str) -> Iterator[Server]:
    """Uploads live UNATTACHED_SECONDS unattached, ATTACHED_SECONDS once attached; the prune
    job runs rarely, so what is tested is the refusal at once, not the cleaner."""
    handle = start_server(
        tmp_path_factory.mktemp("lifetimes") / "data",
        "--upload-unattached-seconds", str(UNATTACHED_SECONDS),
        "--file-expiry-days", str(ATTACHED_SECONDS / DAY),
        "--prune-interval-seconds", "3600",
        database_url=session_db_url,
    )  # fmt: skip
    yield handle
    handle.running.stop()


def test_an_unattached_upload_is_gone_after_its_lifetime(lifetimes: Server) -> None:
    client = _client(lifetimes)
    try:
        room = lifetimes.new_room()
        user = BlindedUser.generate()
        file_id = upload_id(client, room, user, b"soon gone")
        assert download(client, room, file_id, user).code == 200
        time.sleep(UNATTACHED_SECONDS + 0.5)
        assert download(client, room, file_id, user).code == 404
        # Too late to attach it: the post goes through, the file stays gone.
        post_with_files(client, room, user, [file_id])
        assert download(client, room, file_id, user).code == 404
    finally:
        client.close()


def test_a_pinned_posts_file_outlives_the_expiry_until_unpinned(lifetimes: Server) -> None:
    client = _client(lifetimes)
    try:
        room = lifetimes.new_room()
        admin, user = new_admin(lifetimes, room), BlindedUser.generate()
        pinned_file = upload_id(client, room, user, b"kept while pinned")
        plain_file = upload_id(client, room, user, b"ordinary")
        pinned_post = post_with_files(client, room, user, [pinned_file])
        post_with_files(client, room, user, [plain_file])
        pinned = client.post(f"/room/{room}/pin/{pinned_post['id']}", {}, user=admin)
        assert pinned.code == 200, pinned.text
        kept = download(client, room, pinned_file, user)
        assert kept.code == 200 and "expires" not in kept.headers
        time.sleep(ATTACHED_SECONDS + 0.5)
        assert download(client, room, plain_file, user).code == 404
        assert download(client, room, pinned_file, user).raw == b"kept while pinned"
        unpinned = client.post(f"/room/{room}/unpin/{pinned_post['id']}", {}, user=admin)
        assert unpinned.code == 200 and unpinned.json["unpinned"] is True
        # Upload time + the configured expiry is past: refused at once.
        assert download(client, room, pinned_file, user).code == 404
    finally:
        client.close()


def test_a_deleted_posts_files_are_404_at_once(
    sogs: SogsClient, server: Server, legacy: CheckedClient
) -> None:
    room = server.new_room()
    user = BlindedUser.generate()
    own = upload_id(sogs, room, user, b"deleted by its author")
    post = post_with_files(sogs, room, user, [own])
    assert sogs.request("DELETE", f"/room/{room}/message/{post['id']}", user=user).code == 200
    assert download(sogs, room, own, user).code == 404
    # The same through the legacy API, by a moderator.
    moderator_keys = SessionKeys.generate()
    server.add_moderator(moderator_keys.session_id, room)
    moderator = Member.join(legacy, room, moderator_keys)
    second = upload_id(sogs, room, user, b"deleted by a legacy moderator")
    post = post_with_files(sogs, room, user, [second])
    assert status(moderator.delete(f"messages/{post['id']}")) == 200
    assert download(sogs, room, second, user).code == 404
    assert status(moderator.get(f"files/{second}")) == 404


def test_the_room_image_survives_the_deletion_of_its_post(sogs: SogsClient, server: Server) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    image = upload_id(sogs, room, admin, b"\x89PNG\r\n\x1a\n image and attachment")
    post = post_with_files(sogs, room, admin, [image])
    assert sogs.request("PUT", f"/room/{room}", {"image": image}, user=admin).code == 200
    assert sogs.request("DELETE", f"/room/{room}/message/{post['id']}", user=admin).code == 200
    kept = download(sogs, room, image, admin)
    assert kept.code == 200 and "expires" not in kept.headers


def test_a_replaced_room_image_expires_as_an_ordinary_file(
    sogs: SogsClient, server: Server
) -> None:
    room = server.new_room()
    admin = new_admin(server, room)
    first = upload_id(sogs, room, admin, b"GIF89a first image")
    second = upload_id(sogs, room, admin, b"GIF89a second image")
    assert sogs.request("PUT", f"/room/{room}", {"image": first}, user=admin).code == 200
    assert "expires" not in download(sogs, room, first, admin).headers
    assert sogs.request("PUT", f"/room/{room}", {"image": str(second)}, user=admin).code == 200
    assert "expires" not in download(sogs, room, second, admin).headers
    left = expires_in(download(sogs, room, first, admin), time.time())
    assert left is not None and 14 * DAY < left < 15 * DAY + 60
