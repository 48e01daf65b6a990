"""A modern (SOGS API) client's cryptography, for tests and benchmarks.

It is written from the client's side of SOGS-API.md (§2.2, §3.1-3.2, §4.1, §6.4) and shares
no code with the server's verifiers in `opengroup.crypto`, so a test that signs here and
verifies there checks two readings of the spec against each other; the vectors in §4.6 and
tests/data/modern-client-vectors.json pin both to what real clients produce.

Like Desktop, `sogs_headers` signs the endpoint exactly as given (raw UTF-8, query included):
give it `/room/R/reaction/1/🍍`, not the %-encoded form, as Desktop does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any, Final

import nacl.bindings as sodium
import orjson

__all__ = [
    "BlindedUser",
    "blinding_factor_of",
    "decode_v4_reply",
    "decode_v4_request",
    "encode_v4_request",
]

_SEED_BYTES: Final = 32
_NONCE_BYTES: Final = 16
_LENGTH: Final = re.compile(rb"(0|[1-9][0-9]*):")


def blinding_factor_of(server_pk: bytes) -> bytes:
    """k = reduce(BLAKE2b-512(server_pk)), as a client derives it (§4.1)."""
    return sodium.crypto_core_ed25519_scalar_reduce(
        hashlib.blake2b(server_pk, digest_size=64).digest()
    )


def _reduce_sha512(*parts: bytes) -> bytes:
    return sodium.crypto_core_ed25519_scalar_reduce(hashlib.sha512(b"".join(parts)).digest())


@dataclass(frozen=True, slots=True)
class BlindedUser:
    """A Session user's Ed25519 identity, able to act as its 15 id on any server."""

    seed: bytes = field(repr=False)
    ed25519_public: bytes = field(init=False)
    _secret: bytes = field(init=False, repr=False)  # libsodium's 64-byte seed ‖ public key

    def __post_init__(self) -> None:
        if len(self.seed) != _SEED_BYTES:
            raise ValueError("an Ed25519 seed is 32 bytes")
        public, secret = sodium.crypto_sign_seed_keypair(self.seed)
        object.__setattr__(self, "ed25519_public", bytes(public))
        object.__setattr__(self, "_secret", bytes(secret))

    @classmethod
    def generate(cls) -> BlindedUser:
        return cls(os.urandom(_SEED_BYTES))

    @classmethod
    def from_seed(cls, seed: bytes | str) -> BlindedUser:
        """From 32 raw bytes or their 64 hex digits."""
        return cls(bytes.fromhex(seed) if isinstance(seed, str) else bytes(seed))

    # ------------------------------------------------------------------------ ids and keys

    @property
    def session_id(self) -> str:
        """The 05 id: the X25519 form of the Ed25519 key."""
        return "05" + bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(self.ed25519_public)).hex()

    @property
    def x25519_private(self) -> bytes:
        """The X25519 private key of the 05 id: what a 2021 client signs and decrypts with."""
        return bytes(sodium.crypto_sign_ed25519_sk_to_curve25519(self._secret))

    @property
    def unblinded_pubkey(self) -> str:
        """The `X-SOGS-Pubkey` of unblinded requests: 00 ‖ the Ed25519 key."""
        return "00" + self.ed25519_public.hex()

    def blinded_keys(self, server_pk: bytes) -> tuple[bytes, bytes]:
        """(ka, kA): the blinded private scalar and public key for this server (§4.1)."""
        a = sodium.crypto_sign_ed25519_sk_to_curve25519(self._secret)
        ka = sodium.crypto_core_ed25519_scalar_mul(blinding_factor_of(server_pk), a)
        return bytes(ka), bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(ka))

    def blinded_id(self, server_pk: bytes) -> str:
        """The 15 id this user has on the server whose X25519 public key is `server_pk`."""
        return "15" + self.blinded_keys(server_pk)[1].hex()

    # ------------------------------------------------------------------------ signing

    def sign_blinded(self, message: bytes, server_pk: bytes) -> bytes:
        """Ed25519 under the blinded key, with r derived as §4.1 (and Desktop) do."""
        ka, big_ka = self.blinded_keys(server_pk)
        nonce_key = hashlib.sha512(self.seed).digest()[32:64]
        r = _reduce_sha512(nonce_key, big_ka, message)
        big_r = bytes(sodium.crypto_scalarmult_ed25519_base_noclamp(r))
        h = _reduce_sha512(big_r, big_ka, message)
        s = sodium.crypto_core_ed25519_scalar_add(r, sodium.crypto_core_ed25519_scalar_mul(h, ka))
        return big_r + bytes(s)

    def sign_unblinded(self, message: bytes) -> bytes:
        """Plain Ed25519 with the master key: what a 00 X-SOGS key signs with."""
        return bytes(sodium.crypto_sign(message, self._secret))[:64]

    def sign_post(self, data: bytes, server_pk: bytes) -> bytes:
        """A message's `signature` (§6.4): the blinded key over the raw data bytes."""
        return self.sign_blinded(data, server_pk)

    def sogs_headers(
        self,
        server_pk: bytes,
        method: str,
        endpoint: str,
        body: bytes = b"",
        *,
        blinded: bool = True,
        timestamp: int | None = None,
        nonce: bytes | None = None,
    ) -> dict[str, str]:
        """The four X-SOGS headers, encoded as Desktop sends them (hex key, base64 rest)."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = os.urandom(_NONCE_BYTES) if nonce is None else nonce
        message = b"".join(
            (server_pk, nonce, stamp.encode(), method.encode(), endpoint.encode("utf-8"))
        )
        if body:
            message += hashlib.blake2b(body, digest_size=64).digest()
        if blinded:
            pubkey = self.blinded_id(server_pk)
            signature = self.sign_blinded(message, server_pk)
        else:
            pubkey = self.unblinded_pubkey
            signature = self.sign_unblinded(message)
        return {
            "X-SOGS-Pubkey": pubkey,
            "X-SOGS-Timestamp": stamp,
            "X-SOGS-Nonce": base64.b64encode(nonce).decode(),
            "X-SOGS-Signature": base64.b64encode(signature).decode(),
        }


# ---------------------------------------------------------------------------- onion v4 framing


def encode_v4_request(meta: dict[str, Any], body: bytes | None) -> bytes:
    """`l<n>:<meta JSON>[<m>:<body>]e` (§2.2); body None omits the part, b"" sends `0:`."""
    encoded = orjson.dumps(meta)
    parts = [b"l", b"%d:" % len(encoded), encoded]
    if body is not None:
        parts += (b"%d:" % len(body), body)
    parts.append(b"e")
    return b"".join(parts)


def _decode_list(plaintext: bytes) -> list[bytes]:
    """A bencoded list of byte strings, strictly: nothing before `l` or after the final `e`."""
    if plaintext[:1] != b"l" or plaintext[-1:] != b"e":
        raise ValueError("not a bencoded list")
    items: list[bytes] = []
    position, end = 1, len(plaintext) - 1
    while position < end:
        match = _LENGTH.match(plaintext, position, end)
        if match is None:
            raise ValueError(f"no byte-string length at offset {position}")
        start = match.end()
        stop = start + int(match.group(1))
        if stop > end:
            raise ValueError("byte string runs past the end of the list")
        items.append(plaintext[start:stop])
        position = stop
    return items


def _meta(raw: bytes) -> dict[str, Any]:
    meta = orjson.loads(raw)
    if not isinstance(meta, dict):
        raise ValueError("v4 meta is not a JSON object")
    return meta


def decode_v4_request(plaintext: bytes) -> tuple[dict[str, Any], bytes | None]:
    """The inverse of `encode_v4_request`: (meta, body or None when absent)."""
    items = _decode_list(plaintext)
    if len(items) not in (1, 2):
        raise ValueError("a v4 request is [meta] or [meta, body]")
    return _meta(items[0]), items[1] if len(items) == 2 else None


def decode_v4_reply(plaintext: bytes) -> tuple[dict[str, Any], bytes]:
    """A v4 reply as Desktop reads it (§2.3): exactly [meta, body], the body always present."""
    items = _decode_list(plaintext)
    if len(items) != 2:
        raise ValueError("a v4 reply is exactly [meta, body]")
    return _meta(items[0]), items[1]
