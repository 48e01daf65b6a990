"""Secrets stay secret: tokens are stored hashed, secrets are compared in constant time, the
key file is private and never logged, and no reply tells whether a token exists."""

from __future__ import annotations

import ast
import base64
import re
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from cryptography.hazmat.primitives import serialization

from opengroup.api.legacy.routes import ROUTES
from opengroup.crypto import ServerKeys, SessionKeys
from opengroup.testing.client import OpenGroupClient
from opengroup.web.openapi import OPERATIONS
from tests.support.fuzzing import InProcess, authenticate, call
from tests.support.server import RunningServer

SRC = Path(__file__).resolve().parents[2] / "src" / "opengroup"


# ------------------------------------------------------------------ tokens are stored hashed


def stored_values(db_path: Path) -> list[Any]:
    with sqlite3.connect(db_path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        values: list[Any] = []
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                values.extend(value for value in row if value is not None)
    return values


def candidate_tokens(value: Any) -> set[str]:
    """Every way a stored value could be meant as a token."""
    if isinstance(value, bytes):
        texts = {value.hex(), base64.b64encode(value).decode()}
        if len(value) == 48:
            texts.add(value.hex())
    else:
        texts = {str(value)}
    found = set()
    for text in texts:
        found |= {text, text.lower()}
        found |= {match.lower() for match in re.findall(r"[0-9a-fA-F]{96}", text)}
    return found


def test_a_copy_of_the_database_yields_no_usable_token(inproc: InProcess, tmp_path: Path) -> None:
    users = [SessionKeys.generate() for _ in range(3)]
    live_tokens = [authenticate(inproc.ctx, user, "main") for user in users]
    live_tokens += [inproc.mod_token, inproc.user_token]
    # A pending token too.
    call(
        inproc.ctx,
        "GET",
        "auth_token_challenge",
        query={"public_key": users[0].session_id},
        headers={"Room": "main"},
    )
    data = inproc.ctx.config.data_path
    copy = tmp_path / "stolen.db"
    with sqlite3.connect(data / "opengroup.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)

    # The tokens themselves are nowhere on disk, in any encoding.
    raw = b"".join(path.read_bytes() for path in data.glob("opengroup.db*"))
    for token in live_tokens:
        for form in (token.encode(), token.upper().encode(), bytes.fromhex(token)):
            assert form not in raw

    # And no stored value, tried as a token, gets anywhere.
    candidates: set[str] = set()
    for value in stored_values(copy):
        candidates |= candidate_tokens(value)
    assert len(candidates) > 10
    for candidate in candidates:
        for room in ("main", "second"):
            reply = call(
                inproc.ctx,
                "GET",
                "messages",
                headers={"Room": room, "Authorization": candidate},
            )
            assert reply.status_code == 401, (candidate, reply)
    for token in live_tokens:  # while the real tokens still work
        assert call(inproc.ctx, "GET", "messages", headers=inproc.headers(token)).status_code == 200


# ------------------------------------------------------------------ constant-time comparisons

SECRET_NAME = re.compile(r"token|secret|hmac|\bmac\b|tag|digest|private|shared|password|hash")


def _is_sql_column(node: ast.expr) -> bool:
    """`table.c.name`: comparing it builds an SQL expression and compares nothing in Python."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "c"
    )


def _compared_name(node: ast.expr) -> str | None:
    """The identifier of what an operand is: `record.token_hash` -> token_hash,
    `key.public_bytes_raw()` -> public_bytes_raw; len()/isinstance() compare no secret bytes."""
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in ("len", "isinstance", "type"):
            return None
        return _compared_name(node.func)
    if isinstance(node, ast.Subscript):
        return _compared_name(node.value)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def secret_comparisons(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        if not any(isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops):
            continue
        operands = [node.left, *node.comparators]
        if any(_is_sql_column(operand) for operand in operands):
            continue
        for operand in operands:
            name = _compared_name(operand)
            # An UPPER_CASE name is a constant (a size such as TOKEN_BYTES), never a secret.
            if name and not name.isupper() and SECRET_NAME.search(name.lower()):
                found.append(f"{node.lineno}: {ast.unparse(node)}")
                break
    return found


def test_the_audit_finds_a_secret_compared_with_equality() -> None:
    assert secret_comparisons("if token == sent: pass")
    assert secret_comparisons("ok = record.token_hash != hash_token(raw)")
    assert secret_comparisons("ok = expected_tag == data[-16:]")
    assert not secret_comparisons("q = tokens.c.token_hash == token_hash")
    assert not secret_comparisons("ok = len(signature) != 64")
    assert not secret_comparisons("ok = len(token) != TOKEN_BYTES")
    assert not secret_comparisons("ok = hmac.compare_digest(token, sent)")


def test_no_secret_is_compared_with_equality() -> None:
    """Audit of every `==`/`!=`/`in` in the server: none has a secret on either side.

    Secrets are compared by the cryptography libraries (AES-GCM and Poly1305 tags, Ed25519) or
    with `hmac.compare_digest`. Tokens are found by an indexed lookup of their SHA-256, which
    is fine: see the comment on `store.auth.find_token`.
    """
    offenders = [
        f"{path.relative_to(SRC)}:{found}"
        for path in sorted(SRC.rglob("*.py"))
        for found in secret_comparisons(path.read_text())
    ]
    assert offenders == []


def test_tokens_are_hashed_before_any_lookup() -> None:
    """The legacy use cases turn a client's token into its SHA-256 before the store sees
    it: the store only ever searches hashes (indexed; see store/auth.py find_token)."""
    source = (SRC / "usecases" / "legacy_access.py").read_text()
    assert "hash_token(parse_token(" in source
    for path in (SRC / "store").rglob("*.py"):
        assert "parse_token" not in path.read_text(), path


# ------------------------------------------------------------------ the key file


def test_key_file_is_private_and_never_logged(live: RunningServer) -> None:
    key_path = live.data_dir / "key.pem"
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    keys = ServerKeys.from_pem(key_path.read_bytes())
    # Some traffic, errors included, so that the log has something to say.
    with OpenGroupClient(live.base_url, keys.public) as client:
        user = SessionKeys.generate()
        token = client.authenticate(user, "main")
        client.post_message("main", token, user, b"hello")
        client.request("GET", "messages", headers={"Room": "main", "Authorization": "00" * 48})
    httpx.post(live.base_url + "/loki/v3/lsrpc", content=b"\x00garbage")
    httpx.get(live.base_url + "/legacy/rooms/main")

    private = keys.private_bytes()
    pem = key_path.read_text()
    pem_lines = [line for line in pem.splitlines() if line and not line.startswith("-----")]
    der = keys.private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    secrets = {
        private.hex(),
        private.hex().upper(),
        base64.b64encode(private).decode(),
        base64.b64encode(der).decode(),
        *pem_lines,
    }
    log = live.log()
    assert keys.public_hex in log  # the log does name the public key
    for secret in secrets:
        assert secret not in log
    for output in (live.cli("key").stdout, live.cli("rooms", "list").stdout, repr(keys)):
        for secret in secrets:
            assert secret not in output


def test_key_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    import os

    from opengroup.crypto.keyfile import load_or_create_server_keys

    old = os.umask(0)
    try:
        load_or_create_server_keys(tmp_path / "key.pem")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "key.pem").stat().st_mode) == 0o600


# ------------------------------------------------------------------ tokens of others


def _authenticated_routes() -> list[tuple[str, str]]:
    return [
        (route.method, route.pattern)
        for route in ROUTES
        if OPERATIONS[(route.method, route.pattern)].needs in ("basic", "mod")
    ]


@pytest.fixture(scope="module")
def other_tokens(inproc: InProcess) -> dict[str, str]:
    """Tokens that are real but not this user's in this room."""
    other = SessionKeys.generate()
    elsewhere = authenticate(inproc.ctx, inproc.user, "second")  # user's token, other room
    pending = call(
        inproc.ctx,
        "GET",
        "auth_token_challenge",
        query={"public_key": other.session_id},
        headers={"Room": "main"},
    )
    assert pending.status_code == 200
    from opengroup.crypto import decrypt_auth_challenge

    challenge = pending.fields["challenge"]
    pending_token = decrypt_auth_challenge(
        other.private,
        base64.b64decode(challenge["ephemeral_public_key"]),
        base64.b64decode(challenge["ciphertext"]),
    ).hex()
    revoked = authenticate(inproc.ctx, other, "main")
    assert (
        call(inproc.ctx, "DELETE", "auth_token", headers=inproc.headers(revoked)).status_code == 200
    )
    return {
        "unknown": "ab" * 48,
        "other room": elsewhere,
        "pending (unclaimed)": pending_token,
        "revoked": revoked,
    }


@pytest.mark.parametrize(("method", "pattern"), _authenticated_routes())
def test_no_endpoint_tells_an_unknown_token_from_someone_elses(
    inproc: InProcess, other_tokens: dict[str, str], method: str, pattern: str
) -> None:
    path = (
        pattern.replace("{server_id}", "1")
        .replace("{file_id}", str(2**31))
        .replace("{session_id}", inproc.user.session_id)
        .replace("{room_id}", "main")
    )
    body = orjson.dumps(
        {
            "public_key": inproc.user.session_id,
            "ids": [1],
            "file": "AAAA",
            "data": "AAAA",
            "signature": base64.b64encode(bytes(64)).decode(),
        }
    )
    replies = {
        name: call(inproc.ctx, method, path, body=body, headers=inproc.headers(token))
        for name, token in other_tokens.items()
    }
    answers = {(reply.status_code, orjson.dumps(reply.fields)) for reply in replies.values()}
    assert len(answers) == 1, replies
    assert replies["unknown"].status_code == 401


def test_claiming_someone_elses_token_looks_like_an_unknown_token(
    inproc: InProcess, other_tokens: dict[str, str]
) -> None:
    """claim_auth_token with a real token of another user (or room) and one's own key."""
    me = SessionKeys.generate()
    replies = [
        call(
            inproc.ctx,
            "POST",
            "claim_auth_token",
            body=orjson.dumps({"public_key": me.session_id}),
            headers=inproc.headers(token),
        )
        for token in [*other_tokens.values(), inproc.user_token, inproc.mod_token]
    ]
    assert {(r.status_code, r.fields["error"]) for r in replies} == {(401, "unknown auth token")}


def test_compact_poll_tells_an_unknown_token_from_someone_elses_the_same_way(
    inproc: InProcess, other_tokens: dict[str, str]
) -> None:
    entries = [{"room_id": "main", "auth_token": token} for token in other_tokens.values()]
    reply = call(inproc.ctx, "POST", "compact_poll", body=orjson.dumps({"requests": entries}))
    results = [{key: value for key, value in result.items()} for result in reply.fields["results"]]
    assert len({orjson.dumps(result) for result in results}) == 1, results
    assert results[0]["status_code"] == 401


def test_copy_of_database_files_with_wal(inproc: InProcess, tmp_path: Path) -> None:
    """Copying the raw files (database, WAL and all) as a thief would gives no token either."""
    token = authenticate(inproc.ctx, SessionKeys.generate(), "main")
    for path in inproc.ctx.config.data_path.glob("opengroup.db*"):
        shutil.copy(path, tmp_path / path.name)
    raw = b"".join(path.read_bytes() for path in tmp_path.iterdir())
    assert bytes.fromhex(token) not in raw and token.encode() not in raw
