"""15-blinding on the server side (SOGS-API.md §4.1, §4.3): relate a user's 15 and 05 ids.

The server never blinds or signs; it only needs, for every 15 id that authenticates or is
named, its root 05 id (bans, moderators and rate limits are keyed by root, §4.4), and for a
05 id the two 15 ids it may appear as. Both directions are one scalar multiplication on
libsodium; the only arithmetic done here by hand is §4.3's u -> y conversion, which libsodium
lacks (`_edwards_public`, shared with the XEdDSA verifier).

Errors: `InvalidSessionId` (a `CryptoError`) for an id that is malformed or names no usable
point. Results are cached: the API layer may ask for the same root on every request.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions

from . import KEY_BYTES, CryptoError, _edwards_public

__all__ = [
    "InvalidSessionId",
    "blinded_candidates",
    "blinding_factor",
    "is_valid_ed25519_point",
    "root_session_id",
]

_ID: Final = re.compile(r"(05|15|25)[0-9a-f]{64}")
_SIGN_BIT: Final = 0x80


class InvalidSessionId(CryptoError):
    """Not a 05/15 id we can work with: bad shape, wrong prefix, or not a valid curve point."""


def is_valid_ed25519_point(key: bytes) -> bool:
    """True for a canonical point of the prime-order subgroup (rejects small and mixed order).

    A small-order key would let anyone forge "signatures" for it, so X-SOGS row 4 refuses it.
    The answer depends on the key alone, and every signed request asks (~30 µs): cached.
    """
    return isinstance(key, bytes) and len(key) == KEY_BYTES and _valid_point(key)


@lru_cache(maxsize=65_536)
def _valid_point(key: bytes) -> bool:
    return bool(sodium.crypto_core_ed25519_is_valid_point(key))


@lru_cache(maxsize=64)
def blinding_factor(server_pk: bytes) -> bytes:
    """k = reduce(BLAKE2b-512(server_pk)): public, one per server key (§4.1)."""
    if len(server_pk) != KEY_BYTES:
        raise CryptoError("a server public key is 32 bytes")
    return sodium.crypto_core_ed25519_scalar_reduce(
        hashlib.blake2b(server_pk, digest_size=64).digest()
    )


@lru_cache(maxsize=64)
def _inverse_blinding_factor(server_pk: bytes) -> bytes:
    return sodium.crypto_core_ed25519_scalar_invert(blinding_factor(server_pk))


def _split_id(session_id: str) -> tuple[str, bytes]:
    """`(prefix, key bytes)` of a 05/15/25 id in any case; InvalidSessionId otherwise."""
    if not isinstance(session_id, str):
        raise InvalidSessionId("a session id is a string")
    lowered = session_id.lower()
    if _ID.fullmatch(lowered) is None:
        raise InvalidSessionId("a session id is 05, 15 or 25 followed by 64 hex characters")
    return lowered[:2], bytes.fromhex(lowered[2:])


@lru_cache(maxsize=16384)
def root_session_id(blinded_id: str, server_pk: bytes) -> str:
    """The 05 id behind a 15 id (exact, §4.3); a 05 id is its own root (returned lowercase).

    A' = k^-1 · kA is the user's Ed25519 key or its negation, and both map to the same X25519
    key, so the answer is unique. A 25 id cannot be un-blinded (§4.5): InvalidSessionId.
    """
    prefix, key = _split_id(blinded_id)
    if prefix == "05":
        return "05" + key.hex()
    if prefix != "15":
        raise InvalidSessionId("only a 15 id has a computable root")
    if not is_valid_ed25519_point(key):
        raise InvalidSessionId("the 15 id is not a valid Ed25519 point")
    try:
        unblinded = sodium.crypto_scalarmult_ed25519_noclamp(
            _inverse_blinding_factor(server_pk), key
        )
        x25519 = sodium.crypto_sign_ed25519_pk_to_curve25519(unblinded)
    except nacl.exceptions.CryptoError:  # unreachable for a valid point; kept as a named error
        raise InvalidSessionId("the 15 id cannot be un-blinded") from None
    return "05" + bytes(x25519).hex()


@lru_cache(maxsize=16384)
def blinded_candidates(session_id_05: str, server_pk: bytes) -> tuple[str, str]:
    """The two 15 ids `(pos, neg)` a 05 id may appear as on this server (§4.3).

    An X25519 key fixes the Ed25519 key only up to its sign; the user's 15 id is one of the two.
    """
    prefix, x25519 = _split_id(session_id_05)
    if prefix != "05":
        raise InvalidSessionId("blinded candidates are computed from a 05 id")
    edwards = _edwards_public(x25519, 0)
    if edwards is None:
        raise InvalidSessionId("the 05 id has no Ed25519 counterpart")
    try:
        positive = bytes(
            sodium.crypto_scalarmult_ed25519_noclamp(blinding_factor(server_pk), edwards)
        )
    except nacl.exceptions.CryptoError:  # not on the curve (the twist), or small order
        raise InvalidSessionId("the 05 id is not a usable X25519 key") from None
    negative = positive[:31] + bytes((positive[31] ^ _SIGN_BIT,))
    return "15" + positive.hex(), "15" + negative.hex()
