"""crypto/message_signatures.py: a post's `signature` checked by the poster's prefix (§4.2)."""

from __future__ import annotations

import os

import pytest

from opengroup.crypto import SessionKeys, sign_session_message
from opengroup.crypto.message_signatures import verify_message_signature
from opengroup.testing.modern import BlindedUser

SERVER_PK = os.urandom(32)
DATA = b"\x0a\x05hello\x80" + bytes(20)


def test_a_15_post_verifies_under_its_blinded_key_only() -> None:
    user = BlindedUser.generate()
    signature = user.sign_post(DATA, SERVER_PK)
    assert verify_message_signature(user.blinded_id(SERVER_PK), DATA, signature)
    assert verify_message_signature(user.blinded_id(SERVER_PK).upper(), DATA, signature)
    assert not verify_message_signature(user.blinded_id(os.urandom(32)), DATA, signature)
    assert not verify_message_signature(user.session_id, DATA, signature)
    assert not verify_message_signature(user.unblinded_pubkey, DATA, signature)
    assert not verify_message_signature(user.blinded_id(SERVER_PK), DATA[:-1], signature)


def test_a_25_id_verifies_as_plain_ed25519() -> None:
    user = BlindedUser.generate()
    signature = user.sign_unblinded(DATA)
    assert verify_message_signature("25" + user.ed25519_public.hex(), DATA, signature)
    assert not verify_message_signature("00" + user.ed25519_public.hex(), DATA, signature)


def test_a_05_post_verifies_xeddsa() -> None:
    user = SessionKeys.generate()
    signature = sign_session_message(user.private, DATA)
    assert verify_message_signature(user.session_id, DATA, signature)
    assert not verify_message_signature(user.session_id, DATA + b"x", signature)
    assert not verify_message_signature("15" + user.public.hex(), DATA, signature)


@pytest.mark.parametrize(
    ("session_id", "signature"),
    [
        ("", bytes(64)),
        ("15", bytes(64)),
        ("15" + "00" * 32, bytes(64)),  # small-order key
        ("15" + "zz" * 32, bytes(64)),
        ("05" + "00" * 32, bytes(64)),
        ("05" + "ab" * 32, bytes(63)),
        ("15" + "ab" * 32, bytes(65)),
        (None, bytes(64)),
        ("15" + "ab" * 32, None),
    ],
)
def test_never_raises(session_id: object, signature: object) -> None:
    assert verify_message_signature(session_id, DATA, signature) is False  # type: ignore[arg-type]
