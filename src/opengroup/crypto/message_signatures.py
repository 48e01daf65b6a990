"""The `signature` of a posted message (SOGS-API.md §4.2, §6.4), checked by the poster's prefix.

A 15 (or 25) id is an Ed25519 key: the post is signed with the blinded key over the raw
`data` bytes, so a plain Ed25519 verify suffices. A 05 id is an X25519 key: the post carries
an XEdDSA-style signature, checked by `verify_session_signature` as PROTOCOL.md says. The
server checks on post and edit, so that a forged message is refused with a 400 instead of
being stored and then dropped by every client.
"""

from __future__ import annotations

import re
from typing import Final

import nacl.bindings as sodium
import nacl.exceptions

from . import SIGNATURE_BYTES, session_public_key, verify_session_signature
from .blinding import is_valid_ed25519_point

__all__ = ["verify_message_signature"]

_ED25519_ID: Final = re.compile(r"[12]5[0-9a-fA-F]{64}")


def verify_message_signature(session_id: str, data: bytes, signature: bytes) -> bool:
    """True iff `signature` is the poster's signature over `data`; never raises.

    Any id other than 05, 15 or 25 + 64 hex (a 00 key included: it names no user) is False.
    """
    try:
        if len(signature) != SIGNATURE_BYTES:
            return False
        if session_id.startswith("05"):
            return verify_session_signature(session_public_key(session_id), data, signature)
        if _ED25519_ID.fullmatch(session_id) is None:
            return False
        key = bytes.fromhex(session_id[2:])
        if not is_valid_ed25519_point(key):
            return False
        sodium.crypto_sign_open(bytes(signature) + bytes(data), key)
    except (nacl.exceptions.CryptoError, TypeError, ValueError, AttributeError):
        return False
    return True
