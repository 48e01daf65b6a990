"""All cryptography of the server (and of the bundled test client), on `cryptography` and PyNaCl.

What lives here: the server's X25519 key pair, the v3 onion envelope (parse, derive the
symmetric key, decrypt, encrypt the reply), the per-room auth challenge, and Signal's
`curve25519_verify` for message signatures. The client half (signing, building envelopes,
opening challenges) is here too, so tests exercise both sides of every wire format.
The modern API's server side is in submodules: `blinding` (15 <-> 05 ids), `request_auth`
(X-SOGS headers), `message_signatures` (a post's `signature`, by the poster's prefix); its
client side is in `opengroup.testing.modern`.

Exceptions form one tree:

    CryptoError                 anything this module refuses: a PEM file or raw key it cannot
    │                           load, a user key unusable for a challenge (wrong size, low order)
    ├── InvalidSessionId        (blinding.py) a 05/15 id that is malformed or not a valid point
    ├── SogsAuthError           (request_auth.py) a refused X-SOGS request: exact status and text
    └── BadEnvelope             an onion body we cannot use: short body, N past the end, bad JSON,
        │                       bad hex, key not 32 bytes, unknown enc_type, low-order key
        └── DecryptionFailed    the AEAD tag does not match (wrong key, tampered or cut data)

`verify_session_signature` never raises: a bad signature, key or length is just `False`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final, TypeAlias

import nacl.bindings as sodium
import nacl.exceptions
import orjson
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "BadEnvelope",
    "CryptoError",
    "DecryptionFailed",
    "EncType",
    "OnionCipher",
    "OnionEnvelope",
    "ServerKeys",
    "SessionKeys",
    "build_onion_request",
    "decrypt_auth_challenge",
    "make_auth_challenge",
    "onion_cipher_for",
    "onion_cipher_for_client",
    "onion_envelope_id",
    "open_onion_request",
    "parse_enc_type",
    "parse_onion_envelope",
    "session_public_key",
    "sign_session_message",
    "verify_session_signature",
]

Buffer: TypeAlias = bytes | bytearray | memoryview

KEY_BYTES: Final = 32
GCM_IV_BYTES: Final = 12
XCHACHA_NONCE_BYTES: Final = 24
TAG_BYTES: Final = 16
SIGNATURE_BYTES: Final = 64

_LOKI: Final = b"LOKI"
_LENGTH_PREFIX: Final = struct.Struct("<I")
_P: Final = 2**255 - 19
_U_MASK: Final = (1 << 255) - 1
# Signal's curve_sigs hashes this 32-byte pad before the key when it derives the nonce.
_NONCE_PAD: Final = b"\xfe" + b"\xff" * 31
_SESSION_ID: Final = re.compile(r"05[0-9a-fA-F]{64}")


class CryptoError(Exception):
    """Base of every error this module raises."""


class BadEnvelope(CryptoError):
    """An onion request body that cannot be used; the transport answers a plain 400."""


class DecryptionFailed(BadEnvelope):
    """The authentication tag did not match."""


class EncType(enum.Enum):
    AES_GCM = "aes-gcm"
    XCHACHA20 = "xchacha20-poly1305"


_ENC_TYPES: Final[dict[str, EncType]] = {
    "aes-gcm": EncType.AES_GCM,
    "gcm": EncType.AES_GCM,
    "xchacha20": EncType.XCHACHA20,
    "xchacha20-poly1305": EncType.XCHACHA20,
}


def parse_enc_type(value: object) -> EncType:
    """The `enc_type` of envelope metadata; absent (None) means AES-GCM."""
    if value is None:
        return EncType.AES_GCM
    if isinstance(value, str) and value in _ENC_TYPES:
        return _ENC_TYPES[value]
    raise BadEnvelope("unknown enc_type")


def _x25519(private: bytes, public: bytes) -> bytes:
    """X25519 with both lengths checked (libsodium reads 32 bytes whatever it is given)."""
    if len(private) != KEY_BYTES or len(public) != KEY_BYTES:
        raise CryptoError("X25519 keys are 32 bytes")
    try:
        return sodium.crypto_scalarmult(private, public)
    except nacl.exceptions.CryptoError:  # libsodium refuses an all-zero result
        raise CryptoError("low-order X25519 public key") from None


def _reduce(wide: bytes) -> bytes:
    """A 64-byte little-endian number mod L, as a 32-byte scalar."""
    return sodium.crypto_core_ed25519_scalar_reduce(wide)


def _clamp(scalar: bytes) -> bytes:
    clamped = bytearray(scalar)
    clamped[0] &= 248
    clamped[31] = (clamped[31] & 127) | 64
    return bytes(clamped)


# ---------------------------------------------------------------------------- server keys


@dataclass(frozen=True, slots=True)
class ServerKeys:
    """The server's X25519 key pair; its public key is the one in every join URL."""

    private: X25519PrivateKey = field(repr=False, compare=False)  # equal iff publics are
    public: bytes
    # The raw private key, exported once: for derived secrets.
    _raw: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.private.public_key().public_bytes_raw() != self.public:
            raise CryptoError("public key does not belong to the private key")
        object.__setattr__(self, "_raw", self.private.private_bytes_raw())

    @property
    def public_hex(self) -> str:
        return self.public.hex()

    def shared_secret(self, peer_public: bytes) -> bytes:
        """X25519 with a peer's 32-byte public key: OpenSSL's, on the key object made once
        (~3.5 µs less per onion request than libsodium's on raw bytes); CryptoError for a
        low-order key (an all-zero result)."""
        if len(peer_public) != KEY_BYTES:
            raise CryptoError("X25519 keys are 32 bytes")
        try:
            return self.private.exchange(X25519PublicKey.from_public_bytes(peer_public))
        except ValueError:
            raise CryptoError("low-order X25519 public key") from None

    def derived_secret(self, purpose: bytes) -> bytes:
        """A 32-byte secret for one purpose, derived from the private key: the same in every
        process that holds the key, unrelated to it and to every other purpose's."""
        return hmac.digest(self._raw, b"opengroup derived secret: " + purpose, "sha256")

    @classmethod
    def generate(cls) -> ServerKeys:
        return cls._of(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw32: bytes) -> ServerKeys:
        if len(raw32) != KEY_BYTES:
            raise CryptoError("an X25519 private key is 32 bytes")
        return cls._of(X25519PrivateKey.from_private_bytes(raw32))

    @classmethod
    def from_pem(cls, pem: bytes) -> ServerKeys:
        """Load the PKCS8 PEM that `openssl genpkey -algorithm x25519` writes."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CryptoError(f"not an unencrypted PEM private key: {exc}") from None
        if not isinstance(key, X25519PrivateKey):
            raise CryptoError(f"PEM holds a {type(key).__name__}, not an X25519 private key")
        return cls._of(key)

    def to_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def private_bytes(self) -> bytes:
        return self._raw

    @classmethod
    def _of(cls, private: X25519PrivateKey) -> ServerKeys:
        return cls(private, private.public_key().public_bytes_raw())


# ---------------------------------------------------------------------------- onion cipher


class OnionCipher:
    """The symmetric cipher of one onion request, and of its reply."""

    __slots__ = ("_aes", "enc_type", "key")
    enc_type: EncType
    key: bytes

    def __init__(self, enc_type: EncType, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise CryptoError("onion keys are 32 bytes")
        self.enc_type = enc_type
        self.key = key
        self._aes = AESGCM(key) if enc_type is EncType.AES_GCM else None

    def __repr__(self) -> str:
        return f"OnionCipher({self.enc_type})"

    def decrypt(self, data: Buffer) -> bytes:
        """AES-GCM: `iv(12) || ct || tag(16)`; XChaCha20: `nonce(24) || ct || tag(16)`."""
        view = memoryview(data)
        if self._aes is not None:
            if len(view) < GCM_IV_BYTES + TAG_BYTES:
                raise DecryptionFailed("ciphertext shorter than iv and tag")
            try:
                return self._aes.decrypt(view[:GCM_IV_BYTES], view[GCM_IV_BYTES:], None)
            except InvalidTag:
                raise DecryptionFailed("AES-GCM tag mismatch") from None
        if len(view) < XCHACHA_NONCE_BYTES + TAG_BYTES:
            raise DecryptionFailed("ciphertext shorter than nonce and tag")
        try:
            return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                bytes(view[XCHACHA_NONCE_BYTES:]), None, bytes(view[:XCHACHA_NONCE_BYTES]), self.key
            )
        except nacl.exceptions.CryptoError:
            raise DecryptionFailed("XChaCha20-Poly1305 tag mismatch") from None

    def encrypt(self, plaintext: Buffer) -> bytes:
        """Encrypt under a fresh random IV/nonce, laid out as `decrypt` reads it."""
        if self._aes is not None:
            iv = os.urandom(GCM_IV_BYTES)
            return iv + self._aes.encrypt(iv, plaintext, None)
        nonce = os.urandom(XCHACHA_NONCE_BYTES)
        return nonce + sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(plaintext), None, nonce, self.key
        )


def _derive_cipher(
    enc_type: EncType, shared: bytes, client_public: bytes, server_public: bytes
) -> OnionCipher:
    if enc_type is EncType.AES_GCM:
        key = hmac.digest(_LOKI, shared, "sha256")
    else:
        key = hashlib.blake2b(shared + client_public + server_public, digest_size=32).digest()
    return OnionCipher(enc_type, key)


# ---------------------------------------------------------------------------- onion envelope


@dataclass(slots=True)
class OnionEnvelope:
    """A v3 onion body: `[N uint32 LE][N bytes ciphertext][UTF-8 JSON metadata]`."""

    ciphertext: bytes
    metadata: dict[str, object]
    ephemeral_key: bytes
    enc_type: EncType


def _split_envelope(body: Buffer) -> tuple[memoryview, dict[str, object], bytes, EncType]:
    """Parse without copying the ciphertext out of the body."""
    view = memoryview(body)
    if len(view) < _LENGTH_PREFIX.size:
        raise BadEnvelope("body shorter than its length prefix")
    (size,) = _LENGTH_PREFIX.unpack_from(view)
    end = _LENGTH_PREFIX.size + size
    if end > len(view):
        raise BadEnvelope("ciphertext length runs past the end of the body")
    try:
        metadata = orjson.loads(view[end:])
    except orjson.JSONDecodeError:
        raise BadEnvelope("metadata is not UTF-8 JSON") from None
    if not isinstance(metadata, dict):
        raise BadEnvelope("metadata is not a JSON object")
    key_hex = metadata.get("ephemeral_key")
    if not isinstance(key_hex, str) or len(key_hex) != 2 * KEY_BYTES:
        raise BadEnvelope("ephemeral_key is not 64 hex characters")
    try:
        ephemeral_key = bytes.fromhex(key_hex)
    except ValueError:
        raise BadEnvelope("ephemeral_key is not hex") from None
    if len(ephemeral_key) != KEY_BYTES:  # fromhex skips whitespace
        raise BadEnvelope("ephemeral_key is not 32 bytes")
    enc_type = parse_enc_type(metadata.get("enc_type"))
    return view[_LENGTH_PREFIX.size : end], metadata, ephemeral_key, enc_type


def parse_onion_envelope(body: bytes) -> OnionEnvelope:
    ciphertext, metadata, ephemeral_key, enc_type = _split_envelope(body)
    return OnionEnvelope(bytes(ciphertext), metadata, ephemeral_key, enc_type)


def _server_cipher(keys: ServerKeys, ephemeral_key: bytes, enc_type: EncType) -> OnionCipher:
    try:
        shared = keys.shared_secret(ephemeral_key)
    except CryptoError as exc:
        raise BadEnvelope(str(exc)) from None
    return _derive_cipher(enc_type, shared, ephemeral_key, keys.public)


def onion_cipher_for(keys: ServerKeys, envelope: OnionEnvelope) -> OnionCipher:
    """The server side of the key agreement for this envelope."""
    return _server_cipher(keys, envelope.ephemeral_key, envelope.enc_type)


def open_onion_request(keys: ServerKeys, body: bytes) -> tuple[bytes, OnionCipher]:
    """Parse, derive and decrypt: `(inner request plaintext, cipher for the reply)`."""
    ciphertext, _metadata, ephemeral_key, enc_type = _split_envelope(body)
    cipher = _server_cipher(keys, ephemeral_key, enc_type)
    return cipher.decrypt(ciphertext), cipher


def onion_envelope_id(cipher: OnionCipher, body: Buffer) -> bytes:
    """What identifies an opened onion envelope, hashed to 16 bytes: its symmetric key (one
    per ephemeral key) and the nonce its ciphertext starts with (right after the 4-byte
    length). Its unencrypted metadata may be rewritten in transit without changing this; a new
    request from a client always changes it."""
    start = 4 + XCHACHA_NONCE_BYTES  # enough for either nonce; decryption checked the length
    return hashlib.sha256(cipher.key + bytes(memoryview(body)[4:start])).digest()[:16]


# ---------------------------------------------------------------------------- auth challenge


def _challenge_cipher(shared: bytes) -> OnionCipher:
    return OnionCipher(EncType.AES_GCM, hmac.digest(_LOKI, shared, "sha256"))


def make_auth_challenge(token: bytes, user_public: bytes) -> tuple[bytes, bytes]:
    """Encrypt `token` for a user: `(iv || ct || tag, ephemeral public key)`.

    Raises CryptoError when `user_public` is not a usable X25519 key (length, low order).
    """
    ephemeral_private = os.urandom(KEY_BYTES)
    shared = _x25519(ephemeral_private, user_public)
    ciphertext = _challenge_cipher(shared).encrypt(token)
    return ciphertext, sodium.crypto_scalarmult_base(ephemeral_private)


def decrypt_auth_challenge(
    user_private: bytes, ephemeral_public: bytes, ciphertext: bytes
) -> bytes:
    """Client side of the challenge: the raw token (clients send it as lowercase hex)."""
    return _challenge_cipher(_x25519(user_private, ephemeral_public)).decrypt(ciphertext)


# ---------------------------------------------------------------------------- signatures


@lru_cache(maxsize=8192)
def _edwards_public(montgomery: bytes, sign_bit: int) -> bytes | None:
    """Signal's u -> y conversion, with the sign bit the signature carries; None if undefined."""
    u = (int.from_bytes(montgomery, "little") & _U_MASK) % _P
    if u + 1 == _P:
        return None
    y = (u - 1) * pow(u + 1, -1, _P) % _P
    return (y | (sign_bit << 255)).to_bytes(KEY_BYTES, "little")


def verify_session_signature(user_public: bytes, data: bytes, signature: bytes) -> bool:
    """Signal `curve25519_verify` of `signature` over `data` by X25519 key `user_public`."""
    try:
        if len(user_public) != KEY_BYTES or len(signature) != SIGNATURE_BYTES:
            return False
        sign_bit = signature[63] >> 7
        ed_public = _edwards_public(bytes(user_public), sign_bit)
        if ed_public is None:
            return False
        signed = b"".join((signature[:63], bytes((signature[63] & 0x7F,)), data))
        sodium.crypto_sign_open(signed, ed_public)
    except (nacl.exceptions.CryptoError, TypeError, ValueError):
        return False
    return True


def session_public_key(session_id: str) -> bytes:
    """`05` + 64 hex (any case) -> the 32-byte X25519 key; ValueError for anything else."""
    if not isinstance(session_id, str) or _SESSION_ID.fullmatch(session_id) is None:
        raise ValueError("a Session ID is 05 followed by 64 hex characters")
    return bytes.fromhex(session_id[2:])


# ---------------------------------------------------------------------------- client side


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """A Session user's identity: an X25519 key pair."""

    private: bytes
    public: bytes

    @property
    def session_id(self) -> str:
        return "05" + self.public.hex()

    @classmethod
    def generate(cls) -> SessionKeys:
        return cls.from_private_bytes(_clamp(os.urandom(KEY_BYTES)))

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> SessionKeys:
        if len(raw) != KEY_BYTES:
            raise CryptoError("an X25519 private key is 32 bytes")
        return cls(bytes(raw), sodium.crypto_scalarmult_base(bytes(raw)))


def sign_session_message(private: bytes, data: bytes) -> bytes:
    """Signal `curve25519_sign`: an XEdDSA-style signature that `curve25519_verify` accepts."""
    if len(private) != KEY_BYTES:
        raise CryptoError("an X25519 private key is 32 bytes")
    a = _clamp(private)
    ed_public = sodium.crypto_scalarmult_ed25519_base_noclamp(a)  # A = aB, not negated
    r = _reduce(hashlib.sha512(_NONCE_PAD + a + data + os.urandom(64)).digest())
    big_r = sodium.crypto_scalarmult_ed25519_base_noclamp(r)
    h = _reduce(hashlib.sha512(big_r + ed_public + data).digest())
    h_a = sodium.crypto_core_ed25519_scalar_mul(h, _reduce(a + bytes(32)))
    signature = bytearray(big_r + sodium.crypto_core_ed25519_scalar_add(h_a, r))
    signature[63] |= ed_public[31] & 0x80  # S < L leaves this bit free: it carries A's sign
    return bytes(signature)


def onion_cipher_for_client(
    ephemeral_private: bytes, server_public: bytes, enc_type: EncType = EncType.AES_GCM
) -> OnionCipher:
    """The client side of the key agreement: what `onion_cipher_for` derives on the server."""
    shared = _x25519(ephemeral_private, server_public)
    ephemeral_public = sodium.crypto_scalarmult_base(ephemeral_private)
    return _derive_cipher(enc_type, shared, ephemeral_public, server_public)


def build_onion_request(
    server_public: bytes,
    plaintext: bytes,
    *,
    enc_type: EncType = EncType.AES_GCM,
    metadata: dict[str, object] | None = None,
) -> tuple[bytes, OnionCipher]:
    """The body a Service Node forwards to us, and the cipher that opens the reply.

    `metadata` (the last hop's host, target, method, protocol, port) comes first in the JSON,
    then `ephemeral_key`, then `enc_type` unless it is AES-GCM, as clients write it.
    """
    ephemeral_private = os.urandom(KEY_BYTES)
    ephemeral_public = sodium.crypto_scalarmult_base(ephemeral_private)
    shared = _x25519(ephemeral_private, server_public)
    cipher = _derive_cipher(enc_type, shared, ephemeral_public, server_public)
    ciphertext = cipher.encrypt(plaintext)
    routing: dict[str, object] = {**(metadata or {}), "ephemeral_key": ephemeral_public.hex()}
    if enc_type is not EncType.AES_GCM:
        routing["enc_type"] = enc_type.value
    body = b"".join((_LENGTH_PREFIX.pack(len(ciphertext)), ciphertext, orjson.dumps(routing)))
    return body, cipher
