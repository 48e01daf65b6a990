"""crypto.py beyond the client vectors: malformed input, both ciphers, keys, signing."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import subprocess
from pathlib import Path

import orjson
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from opengroup.crypto import (
    BadEnvelope,
    CryptoError,
    DecryptionFailed,
    EncType,
    OnionCipher,
    OnionEnvelope,
    ServerKeys,
    SessionKeys,
    build_onion_request,
    decrypt_auth_challenge,
    make_auth_challenge,
    onion_cipher_for,
    onion_cipher_for_client,
    open_onion_request,
    parse_enc_type,
    parse_onion_envelope,
    session_public_key,
    sign_session_message,
    verify_session_signature,
)

OPENSSL = Path("/usr/bin/openssl")
SERVER = ServerKeys.generate()
INNER = b'{"method":"GET","body":"","endpoint":"rooms/main","headers":{"Room":"main"}}'
ROUTING: dict[str, object] = {
    "host": "sog.example.org",
    "target": "/loki/v3/lsrpc",
    "method": "POST",
    "protocol": "http",
    "port": 80,
}
P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P  # the Edwards curve constant


def envelope(ciphertext: bytes, metadata: object) -> bytes:
    return len(ciphertext).to_bytes(4, "little") + ciphertext + orjson.dumps(metadata)


def valid_metadata(**changes: object) -> dict[str, object]:
    return {**ROUTING, "ephemeral_key": SessionKeys.generate().public.hex(), **changes}


# ---------------------------------------------------------------------------- enc_type


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, EncType.AES_GCM),
        ("aes-gcm", EncType.AES_GCM),
        ("gcm", EncType.AES_GCM),
        ("xchacha20", EncType.XCHACHA20),
        ("xchacha20-poly1305", EncType.XCHACHA20),
    ],
)
def test_parse_enc_type(value: object, expected: EncType) -> None:
    assert parse_enc_type(value) is expected


@pytest.mark.parametrize("value", ["", "aes-cbc", "AES-GCM", "xchacha", 1, True, [], {}])
def test_unknown_enc_type(value: object) -> None:
    with pytest.raises(BadEnvelope):
        parse_enc_type(value)
    body = envelope(b"\x00" * 40, valid_metadata(enc_type=value))
    with pytest.raises(BadEnvelope) as raised:
        open_onion_request(SERVER, body)
    assert type(raised.value) is BadEnvelope


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("enc_type", list(EncType))
def test_round_trip_both_directions(enc_type: EncType) -> None:
    body, client = build_onion_request(SERVER.public, INNER, enc_type=enc_type, metadata=ROUTING)
    plaintext, server = open_onion_request(SERVER, body)
    assert plaintext == INNER
    assert server.enc_type is client.enc_type is enc_type
    assert server.key == client.key
    reply = b'{"status_code":200}'
    sealed = server.encrypt(reply)
    assert sealed != server.encrypt(reply)  # fresh IV / nonce every time
    assert client.decrypt(sealed) == reply
    assert server.decrypt(client.encrypt(reply)) == reply


@pytest.mark.parametrize("enc_type", list(EncType))
def test_key_derivation_matches_spec(enc_type: EncType) -> None:
    """Recompute the key with `cryptography` and hashlib, independently of crypto.py."""
    body, client = build_onion_request(SERVER.public, INNER, enc_type=enc_type)
    parsed = parse_onion_envelope(body)
    shared = SERVER.private.exchange(X25519PublicKey.from_public_bytes(parsed.ephemeral_key))
    if enc_type is EncType.AES_GCM:
        expected = hmac.digest(b"LOKI", shared, hashlib.sha256)
        nonce_size = 12
    else:
        material = shared + parsed.ephemeral_key + SERVER.public
        expected = hashlib.blake2b(material, digest_size=32).digest()
        nonce_size = 24
    assert onion_cipher_for(SERVER, parsed).key == client.key == expected
    assert len(parsed.ciphertext) == nonce_size + len(INNER) + 16


def test_client_cipher_matches_server_cipher() -> None:
    ephemeral = os.urandom(32)
    ephemeral_public = X25519PrivateKey.from_private_bytes(ephemeral).public_key()
    for enc_type in EncType:
        client = onion_cipher_for_client(ephemeral, SERVER.public, enc_type)
        parsed = OnionEnvelope(b"", {}, ephemeral_public.public_bytes_raw(), enc_type)
        assert onion_cipher_for(SERVER, parsed).key == client.key


def test_built_envelope_layout() -> None:
    body, _ = build_onion_request(SERVER.public, INNER, metadata=ROUTING)
    size = int.from_bytes(body[:4], "little")
    metadata = orjson.loads(body[4 + size :])
    assert list(metadata) == [*ROUTING, "ephemeral_key"]
    assert "enc_type" not in metadata
    parsed = parse_onion_envelope(body)
    assert parsed.metadata == metadata
    assert parsed.ciphertext == body[4 : 4 + size]
    assert parsed.ephemeral_key.hex() == metadata["ephemeral_key"]
    assert parsed.enc_type is EncType.AES_GCM

    body, _ = build_onion_request(SERVER.public, INNER, enc_type=EncType.XCHACHA20)
    parsed = parse_onion_envelope(body)
    assert parsed.metadata["enc_type"] == "xchacha20-poly1305"
    assert parsed.enc_type is EncType.XCHACHA20


@pytest.mark.parametrize("spelling", ["gcm", "aes-gcm", "xchacha20", "xchacha20-poly1305"])
def test_enc_type_spellings_in_envelope(spelling: str) -> None:
    enc_type = parse_enc_type(spelling)
    body, client = build_onion_request(SERVER.public, INNER, enc_type=enc_type)
    parsed = parse_onion_envelope(body)
    rewritten = envelope(parsed.ciphertext, {**parsed.metadata, "enc_type": spelling})
    plaintext, server = open_onion_request(SERVER, rewritten)
    assert plaintext == INNER and server.key == client.key


def test_empty_plaintext() -> None:
    body, _ = build_onion_request(SERVER.public, b"")
    assert open_onion_request(SERVER, body)[0] == b""


# ---------------------------------------------------------------------------- malformed envelopes


@pytest.mark.parametrize("enc_type", list(EncType))
def test_every_truncation_is_a_bad_envelope(enc_type: EncType) -> None:
    body, _ = build_onion_request(SERVER.public, INNER, enc_type=enc_type, metadata=ROUTING)
    for end in range(len(body)):
        with pytest.raises(BadEnvelope):
            open_onion_request(SERVER, body[:end])
        with pytest.raises(BadEnvelope):
            parse_onion_envelope(body[:end])


@pytest.mark.parametrize("enc_type", list(EncType))
def test_every_flipped_ciphertext_byte_fails_decryption(enc_type: EncType) -> None:
    body, _ = build_onion_request(SERVER.public, INNER, enc_type=enc_type, metadata=ROUTING)
    size = int.from_bytes(body[:4], "little")
    for index in range(4, 4 + size):
        tampered = bytearray(body)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionFailed):
            open_onion_request(SERVER, bytes(tampered))


def test_wrong_server_key_fails_decryption() -> None:
    body, _ = build_onion_request(ServerKeys.generate().public, INNER)
    with pytest.raises(DecryptionFailed):
        open_onion_request(SERVER, body)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\x05\x00\x00", id="short-prefix"),
        pytest.param(b"\xff\xff\xff\xff" + b"x" * 100, id="length-past-end"),
        pytest.param(b"\x05\x00\x00\x00abcde", id="no-metadata"),
    ],
)
def test_bad_framing(body: bytes) -> None:
    with pytest.raises(BadEnvelope):
        parse_onion_envelope(body)


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"\xff\xfe{}", id="not-utf8"),
        pytest.param(b'{"ephemeral_key": "00"', id="unterminated"),
        pytest.param(b"[]", id="array"),
        pytest.param(b'"ephemeral_key"', id="string"),
        pytest.param(b"42", id="number"),
        pytest.param(b"null", id="null"),
    ],
)
def test_metadata_not_a_json_object(metadata: bytes) -> None:
    with pytest.raises(BadEnvelope):
        parse_onion_envelope(b"\x03\x00\x00\x00abc" + metadata)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(None, id="null"),
        pytest.param(12, id="number"),
        pytest.param(["00"] * 32, id="list"),
        pytest.param("", id="empty"),
        pytest.param("ab" * 31, id="31-bytes"),
        pytest.param("ab" * 33, id="33-bytes"),
        pytest.param("05" + "ab" * 32, id="05-prefixed"),
        pytest.param("zz" * 32, id="not-hex"),
        pytest.param("ab " * 21 + "a", id="whitespace"),
        pytest.param("\u0661" * 64, id="unicode-digits"),
    ],
)
def test_bad_ephemeral_key(key: object) -> None:
    with pytest.raises(BadEnvelope):
        parse_onion_envelope(envelope(b"\x00" * 40, valid_metadata(ephemeral_key=key)))


def test_missing_ephemeral_key() -> None:
    with pytest.raises(BadEnvelope):
        parse_onion_envelope(envelope(b"\x00" * 40, ROUTING))


@pytest.mark.parametrize("low_order", ["00" * 32, "01" + "00" * 31, "ec" + "ff" * 30 + "7f"])
def test_low_order_ephemeral_key(low_order: str) -> None:
    body = envelope(b"\x00" * 40, valid_metadata(ephemeral_key=low_order))
    parse_onion_envelope(body)  # well formed...
    with pytest.raises(BadEnvelope):  # ...but the shared secret is all zero
        open_onion_request(SERVER, body)


def test_unknown_metadata_keys_are_ignored() -> None:
    body, _ = build_onion_request(
        SERVER.public, INNER, metadata={"future": {"nested": [1, 2]}, "port": "not a number"}
    )
    assert open_onion_request(SERVER, body)[0] == INNER


@pytest.mark.parametrize("size", [0, 31, 33])
def test_cipher_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(CryptoError):
        OnionCipher(EncType.AES_GCM, b"k" * size)


@pytest.mark.parametrize("enc_type", list(EncType))
def test_short_ciphertext(enc_type: EncType) -> None:
    cipher = OnionCipher(enc_type, os.urandom(32))
    for size in range(45):
        if size < (28 if enc_type is EncType.AES_GCM else 40):
            with pytest.raises(DecryptionFailed):
                cipher.decrypt(os.urandom(size))


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_bad_envelope(body: bytes) -> None:
    with contextlib.suppress(BadEnvelope):
        parse_onion_envelope(body)
    with contextlib.suppress(BadEnvelope):
        open_onion_request(SERVER, body)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)
_KEYS = st.one_of(
    _JSON,
    st.text(alphabet="0123456789abcdefABCDEF \t\n", min_size=60, max_size=68),
    st.binary(min_size=32, max_size=32).map(bytes.hex),
)


@settings(max_examples=300, deadline=None)
@given(
    ciphertext=st.binary(max_size=80),
    extra=st.integers(min_value=-8, max_value=8),
    metadata=st.dictionaries(st.text(max_size=12), _JSON, max_size=4),
    key=_KEYS,
    enc_type=st.one_of(_JSON, st.sampled_from(["gcm", "aes-gcm", "xchacha20"])),
)
def test_structured_garbage_only_raises_bad_envelope(
    ciphertext: bytes, extra: int, metadata: dict[str, object], key: object, enc_type: object
) -> None:
    size = max(0, len(ciphertext) + extra)
    body = (
        size.to_bytes(4, "little")
        + ciphertext
        + json.dumps({**metadata, "ephemeral_key": key, "enc_type": enc_type}).encode()
    )
    with contextlib.suppress(BadEnvelope):
        open_onion_request(SERVER, body)


# ---------------------------------------------------------------------------- server keys


def test_server_keys() -> None:
    keys = ServerKeys.generate()
    assert len(keys.public) == 32
    assert keys.public_hex == keys.public.hex() and keys.public_hex.islower()
    assert len(keys.public_hex) == 64
    assert keys.private.public_key().public_bytes_raw() == keys.public
    again = ServerKeys.from_private_bytes(keys.private_bytes())
    assert again.public == keys.public and again.private_bytes() == keys.private_bytes()
    assert again == keys and hash(again) == hash(keys)
    assert ServerKeys.generate() != keys
    assert keys.private_bytes().hex() not in repr(keys)
    with pytest.raises(CryptoError):
        ServerKeys(keys.private, ServerKeys.generate().public)


def test_pem_round_trip() -> None:
    keys = ServerKeys.generate()
    pem = keys.to_pem()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = ServerKeys.from_pem(pem)
    assert loaded.public == keys.public and loaded.private_bytes() == keys.private_bytes()
    assert loaded.to_pem() == pem


@pytest.mark.skipif(not OPENSSL.exists(), reason="needs /usr/bin/openssl")
def test_pem_interoperates_with_openssl(tmp_path: Path) -> None:
    theirs = tmp_path / "openssl.pem"
    subprocess.run(
        [str(OPENSSL), "genpkey", "-algorithm", "x25519", "-out", str(theirs)],
        check=True,
        capture_output=True,
    )
    keys = ServerKeys.from_pem(theirs.read_bytes())
    assert openssl_public_key(theirs) == keys.public
    assert keys.to_pem() == theirs.read_bytes()

    ours = tmp_path / "ours.pem"
    generated = ServerKeys.generate()
    ours.write_bytes(generated.to_pem())
    assert openssl_public_key(ours) == generated.public


def openssl_public_key(pem: Path) -> bytes:
    der = subprocess.run(
        [str(OPENSSL), "pkey", "-in", str(pem), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return der[-32:]


def _ed25519_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _encrypted_pem() -> bytes:
    return X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret"),
    )


def _public_pem() -> bytes:
    return (
        X25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    "pem",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"garbage", id="garbage"),
        pytest.param(_ed25519_pem(), id="ed25519"),
        pytest.param(_encrypted_pem(), id="encrypted"),
        pytest.param(_public_pem(), id="public-key"),
        pytest.param(ServerKeys.generate().to_pem()[:-40], id="truncated"),
    ],
)
def test_from_pem_rejects(pem: bytes) -> None:
    with pytest.raises(CryptoError):
        ServerKeys.from_pem(pem)


@pytest.mark.parametrize("size", [0, 31, 33])
def test_private_bytes_must_be_32(size: int) -> None:
    with pytest.raises(CryptoError):
        ServerKeys.from_private_bytes(b"k" * size)
    with pytest.raises(CryptoError):
        SessionKeys.from_private_bytes(b"k" * size)


# ---------------------------------------------------------------------------- auth challenge


def test_auth_challenge_round_trip() -> None:
    user = SessionKeys.generate()
    token = os.urandom(48)
    ciphertext, ephemeral = make_auth_challenge(token, user.public)
    assert len(ciphertext) == 12 + 48 + 16 and len(ephemeral) == 32
    assert decrypt_auth_challenge(user.private, ephemeral, ciphertext) == token
    again, other_ephemeral = make_auth_challenge(token, user.public)
    assert other_ephemeral != ephemeral and again != ciphertext
    # The key is HMAC-SHA256("LOKI", X25519(user, ephemeral)), recomputed independently.
    shared = X25519PrivateKey.from_private_bytes(user.private).exchange(
        X25519PublicKey.from_public_bytes(ephemeral)
    )
    key = hmac.digest(b"LOKI", shared, hashlib.sha256)
    assert OnionCipher(EncType.AES_GCM, key).decrypt(ciphertext) == token

    tampered = bytearray(ciphertext)
    tampered[20] ^= 0x80
    with pytest.raises(DecryptionFailed):
        decrypt_auth_challenge(user.private, ephemeral, bytes(tampered))


@pytest.mark.parametrize("user_public", [b"\x00" * 32, b"\x01" + b"\x00" * 31, b"\x09" * 31])
def test_auth_challenge_for_unusable_key(user_public: bytes) -> None:
    with pytest.raises(CryptoError):
        make_auth_challenge(os.urandom(48), user_public)


# ---------------------------------------------------------------------------- session ids


def test_session_public_key() -> None:
    key = os.urandom(32)
    assert session_public_key("05" + key.hex()) == key
    assert session_public_key("05" + key.hex().upper()) == key
    user = SessionKeys.generate()
    assert session_public_key(user.session_id) == user.public
    assert user.session_id == "05" + user.public.hex()


@pytest.mark.parametrize(
    "session_id",
    [
        "",
        "05",
        "06" + "ab" * 32,
        "05" + "ab" * 31,
        "05" + "ab" * 33,
        "05" + "zz" * 32,
        "05" + "ab" * 31 + "a ",
        "05" + "ab" * 32 + "\n",
        " 05" + "ab" * 32,
        "05" + "\u0661" * 64,
        "ab" * 32,
        None,
        b"05" + b"ab" * 32,
    ],
)
def test_session_public_key_rejects(session_id: object) -> None:
    with pytest.raises(ValueError):
        session_public_key(session_id)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- signatures


def reference_verify(
    user_public: bytes, data: bytes, signature: bytes, *, force_sign_bit_zero: bool = False
) -> bool:
    """Signal's curve25519_verify with `cryptography`'s Ed25519, independent of crypto.py."""
    u = int.from_bytes(user_public, "little") & (2**255 - 1)
    y = (u - 1) * pow(u + 1, -1, P) % P
    ed_public = bytearray(y.to_bytes(32, "little"))
    if not force_sign_bit_zero:
        ed_public[31] |= signature[63] & 0x80
    cleared = bytearray(signature)
    cleared[63] &= 0x7F
    try:
        Ed25519PublicKey.from_public_bytes(bytes(ed_public)).verify(bytes(cleared), data)
    except InvalidSignature:
        return False
    return True


def test_signatures_of_random_keys_carry_the_sign_bit() -> None:
    sign_bit_zero_rejects = 0
    for index in range(50):
        user = SessionKeys.generate()
        data = os.urandom(index * 7)
        signature = sign_session_message(user.private, data)
        assert len(signature) == 64
        assert verify_session_signature(user.public, data, signature)
        assert reference_verify(user.public, data, signature)
        carried = signature[63] >> 7
        accepted = reference_verify(user.public, data, signature, force_sign_bit_zero=True)
        assert accepted == (carried == 0)
        sign_bit_zero_rejects += not accepted
        flipped = bytearray(signature)
        flipped[63] ^= 0x80
        assert not verify_session_signature(user.public, data, bytes(flipped))
    # About half; with 50 keys, none or all would happen with probability 2 * 2**-50.
    assert 0 < sign_bit_zero_rejects < 50


def test_signatures_are_randomised_and_bound_to_data_and_key() -> None:
    user, other = SessionKeys.generate(), SessionKeys.generate()
    data = b"\x08\x01" + b"\x80" + b"\x00" * 157
    first, second = (
        sign_session_message(user.private, data),
        sign_session_message(user.private, data),
    )
    assert first != second
    assert verify_session_signature(user.public, data, second)
    assert not verify_session_signature(other.public, data, first)
    assert not verify_session_signature(user.public, data[:-1], first)


def test_unclamped_private_key_signs_for_its_public_key() -> None:
    raw = bytes([0xFF] * 32)  # X25519 clamps; so must signing
    user = SessionKeys.from_private_bytes(raw)
    signature = sign_session_message(raw, b"data")
    assert verify_session_signature(user.public, b"data", signature)


def test_high_bit_of_public_key_is_ignored() -> None:
    user = SessionKeys.generate()
    signature = sign_session_message(user.private, b"data")
    high = bytearray(user.public)
    high[31] |= 0x80
    assert verify_session_signature(bytes(high), b"data", signature)


def _u_with_invalid_edwards_point() -> bytes:
    for u in range(2, 1000):
        y = (u - 1) * pow(u + 1, -1, P) % P
        x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
        if x2 and pow(x2, (P - 1) // 2, P) != 1:
            return u.to_bytes(32, "little")
    raise AssertionError("no such u below 1000")


@pytest.mark.parametrize(
    ("user_public", "signature"),
    [
        pytest.param(b"\x01" * 31, b"\x00" * 64, id="key-31"),
        pytest.param(b"\x01" * 33, b"\x00" * 64, id="key-33"),
        pytest.param(b"\x01" * 32, b"\x00" * 63, id="sig-63"),
        pytest.param(b"\x01" * 32, b"\x00" * 65, id="sig-65"),
        pytest.param(b"", b"", id="empty"),
        pytest.param((P - 1).to_bytes(32, "little"), b"\x00" * 64, id="u-plus-1-is-0"),
        pytest.param((P - 1).to_bytes(32, "little"), b"\xff" * 64, id="u-plus-1-is-0-sign"),
        pytest.param(((P - 1) | 1 << 255).to_bytes(32, "little"), b"\x00" * 64, id="u-high-bit"),
        pytest.param((2 * P - 1).to_bytes(32, "little"), b"\x00" * 64, id="u-non-canonical"),
        pytest.param(_u_with_invalid_edwards_point(), b"\x01" * 64, id="invalid-point"),
        pytest.param(_u_with_invalid_edwards_point(), b"\x01" * 63 + b"\x81", id="invalid-point-2"),
        pytest.param(b"\x00" * 32, b"\x00" * 64, id="zero-key"),
        pytest.param(b"\xff" * 32, b"\xff" * 64, id="all-ones"),
    ],
)
def test_verify_never_raises(user_public: bytes, signature: bytes) -> None:
    assert verify_session_signature(user_public, b"data", signature) is False


def test_verify_with_wrong_types_is_false() -> None:
    user = SessionKeys.generate()
    signature = sign_session_message(user.private, b"data")
    assert verify_session_signature(user.public, "data", signature) is False  # type: ignore[arg-type]
    assert verify_session_signature(None, b"data", signature) is False  # type: ignore[arg-type]
    assert verify_session_signature(bytearray(user.public), b"data", signature) is True  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40), st.binary(max_size=100), st.binary(max_size=70))
def test_verify_arbitrary_bytes_is_a_bool(user_public: bytes, data: bytes, sig: bytes) -> None:
    assert verify_session_signature(user_public, data, sig) in (True, False)
