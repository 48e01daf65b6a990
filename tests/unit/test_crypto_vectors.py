"""crypto.py against data produced by the real Session Desktop v1.7.4 code.

Every entry of `shared/testdata/client-vectors.json` is one test case. A missing file is a
failure, never a skip: set OPENGROUP_CLIENT_VECTORS to point elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from opengroup.crypto import (
    DecryptionFailed,
    EncType,
    ServerKeys,
    SessionKeys,
    decrypt_auth_challenge,
    make_auth_challenge,
    onion_cipher_for,
    onion_cipher_for_client,
    open_onion_request,
    parse_onion_envelope,
    session_public_key,
    sign_session_message,
    verify_session_signature,
)
from tests.support.spec import spec_file

Entry = dict[str, Any]

DEFAULT_VECTORS = spec_file("client-vectors.json")
VECTORS_PATH = Path(os.environ.get("OPENGROUP_CLIENT_VECTORS") or DEFAULT_VECTORS)


def _load() -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(VECTORS_PATH.read_text())
    except FileNotFoundError:
        return None
    return data


VECTORS = _load()
MISSING = f"client vectors not found at {VECTORS_PATH} (set OPENGROUP_CLIENT_VECTORS)"


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")[:40]


def _signature_id(index: int, entry: Entry) -> str:
    verdict = (
        "valid" if entry["valid"] else "invalid-" + _slug(entry.get("reason", "").split("(")[0])
    )
    return f"sig{index:02d}-{verdict}"


def _challenge_id(index: int, entry: Entry) -> str:
    return f"challenge{index:02d}-{entry['session_id'][:10]}"


def _onion_id(index: int, entry: Entry) -> str:
    inner = json.loads(entry["inner_json"])
    return f"onion{index:02d}-{inner['method']}-{_slug(inner['endpoint'].split('?')[0])}"


def _params(
    kind: str,
    make_id: Callable[[int, Entry], str],
    keep: Callable[[Entry], bool] | None = None,
) -> list[Any]:
    if VECTORS is None:
        return [pytest.param(None, id=f"{kind}-vectors-missing")]
    return [
        pytest.param(entry, id=make_id(index, entry))
        for index, entry in enumerate(VECTORS[kind])
        if keep is None or keep(entry)
    ]


def _need(entry: Entry | None) -> Entry:
    if entry is None:
        pytest.fail(MISSING)
    return entry


def test_vectors_are_present_and_cover_every_kind() -> None:
    assert VECTORS is not None, MISSING
    signatures = VECTORS["signatures"]
    assert len(signatures) >= 2 and len(VECTORS["challenges"]) >= 1
    assert len(VECTORS["onion_requests"]) >= 1
    assert {entry["valid"] for entry in signatures} == {True, False}
    # The point of the vectors: real signatures with both values of the carried sign bit.
    bits = {base64.b64decode(e["signature_b64"])[63] >> 7 for e in signatures if e["valid"]}
    assert bits == {0, 1}


# ---------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("entry", _params("signatures", _signature_id))
def test_signature_vector(entry: Entry | None) -> None:
    entry = _need(entry)
    user_public = session_public_key(entry["session_id"])
    data = base64.b64decode(entry["data_b64"])
    signature = base64.b64decode(entry["signature_b64"])
    assert verify_session_signature(user_public, data, signature) is entry["valid"]


@pytest.mark.parametrize(
    "entry", _params("signatures", _signature_id, keep=lambda entry: entry["valid"])
)
def test_our_signature_with_vector_key(entry: Entry | None) -> None:
    entry = _need(entry)
    user = SessionKeys.from_private_bytes(bytes.fromhex(entry["x25519_private"]))
    assert user.session_id == entry["session_id"]
    data = base64.b64decode(entry["data_b64"])
    signature = sign_session_message(user.private, data)
    assert verify_session_signature(user.public, data, signature)
    assert not verify_session_signature(user.public, data + b"\x00", signature)


# ---------------------------------------------------------------------------- challenges


@pytest.mark.parametrize("entry", _params("challenges", _challenge_id))
def test_challenge_vector(entry: Entry | None) -> None:
    entry = _need(entry)
    user_private = bytes.fromhex(entry["user_x25519_private"])
    token = decrypt_auth_challenge(
        user_private,
        base64.b64decode(entry["ephemeral_public_key_b64"]),
        base64.b64decode(entry["ciphertext_b64"]),
    )
    assert token.hex() == entry["token_hex"]

    user = SessionKeys.from_private_bytes(user_private)
    assert user.session_id == entry["session_id"]
    ciphertext, ephemeral_public = make_auth_challenge(token, user.public)
    assert len(ephemeral_public) == 32
    assert len(ciphertext) == len(base64.b64decode(entry["ciphertext_b64"]))
    assert decrypt_auth_challenge(user.private, ephemeral_public, ciphertext) == token
    with pytest.raises(DecryptionFailed):
        decrypt_auth_challenge(SessionKeys.generate().private, ephemeral_public, ciphertext)


# ---------------------------------------------------------------------------- onion requests


@pytest.mark.parametrize("entry", _params("onion_requests", _onion_id))
def test_onion_request_vector(entry: Entry | None) -> None:
    entry = _need(entry)
    keys = ServerKeys.from_private_bytes(bytes.fromhex(entry["server_x25519_private"]))
    assert keys.public_hex == entry["server_x25519_public"]
    body = base64.b64decode(entry["body_b64"])

    plaintext, cipher = open_onion_request(keys, body)
    assert plaintext == entry["inner_json"].encode()
    assert cipher.enc_type is EncType.AES_GCM

    envelope = parse_onion_envelope(body)
    assert envelope.metadata == entry["routing_json"]
    assert envelope.enc_type is EncType.AES_GCM
    assert onion_cipher_for(keys, envelope).key == cipher.key

    # The client side of the same agreement, from the ephemeral key the client used.
    ephemeral_private = bytes.fromhex(entry["ephemeral_private"])
    ephemeral = X25519PrivateKey.from_private_bytes(ephemeral_private)
    assert envelope.ephemeral_key == ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(keys.public))
    assert cipher.key == hmac.digest(b"LOKI", shared, hashlib.sha256)
    client = onion_cipher_for_client(ephemeral_private, keys.public)
    assert client.key == cipher.key
    assert client.decrypt(envelope.ciphertext) == plaintext

    reply = b'{"status_code":200,"room":{"id":"main","name":"Main"}}'
    assert client.decrypt(cipher.encrypt(reply)) == reply
    assert cipher.decrypt(client.encrypt(reply)) == reply
