"""X-SOGS request authentication (SOGS-API.md §3.1-3.4), as pure functions.

No database and no HTTP framework: the API layer calls, in the order of the §3.4 table,

    credentials = parse_sogs_credentials(headers, now=..., blinding_required=...)   # rows 1-9
    <global ban check, row 10: answer 403 BANNED_TEXT>
    path, query = signed_path(endpoint)
    verify_request_signature(credentials, server_pk, method, path, query, body)     # row 11
    <record the nonce, row 12: answer 425 NONCE_REUSED_TEXT>

Every refusal is a `SogsAuthError` (a `CryptoError`) carrying the exact status and text body of
its row: Desktop compares row 5's text byte for byte, so the texts are constants, never
formatted ad hoc. The §3.7 texts live here too so that every layer answers with one spelling.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_to_bytes

import nacl.bindings as sodium
import nacl.exceptions

from . import CryptoError
from .blinding import is_valid_ed25519_point

__all__ = [
    "ADMIN_REQUIRED_TEXT",
    "AUTH_REQUIRED_TEXT",
    "BANNED_TEXT",
    "BLINDED_REQUIRED_TEXT",
    "MODERATOR_REQUIRED_TEXT",
    "NONCE_REUSED_TEXT",
    "READ_REQUIRED_TEXT",
    "TIMESTAMP_WINDOW",
    "SogsAuthError",
    "SogsCredentials",
    "parse_sogs_credentials",
    "signed_message",
    "signed_path",
    "verify_request_signature",
]

# §3.4, rows 1-12, in order. Row 1 is a template: N is the number of missing headers.
MISSING_HEADERS_TEXT: Final = (
    "Invalid authentication headers: missing {missing}/4 required X-SOGS-* headers"
)
PUBKEY_FORMAT_TEXT: Final = "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id"
PUBKEY_PREFIX_TEXT: Final = "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed"
PUBKEY_POINT_TEXT: Final = (
    "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey"
)
BLINDING_REQUIRED_TEXT: Final = (
    "Invalid authentication: this server requires the use of blinded ids"
)
NONCE_FORMAT_TEXT: Final = (
    "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)"
)
SIGNATURE_FORMAT_TEXT: Final = "Invalid authentication: X-SOGS-Signature is not base64[88]"
TIMESTAMP_FORMAT_TEXT: Final = "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp"
TIMESTAMP_RANGE_TEXT: Final = (
    "Invalid authentication: X-SOGS-Timestamp is too far from current time"
)
BANNED_TEXT: Final = "Banned"
SIGNATURE_FAILED_TEXT: Final = "Invalid authentication: X-SOGS-Signature verification failed"
NONCE_REUSED_TEXT: Final = "Invalid authentication: X-SOGS-Nonce cannot be reused"

# §3.7: what an endpoint answers when the caller lacks what it requires.
AUTH_REQUIRED_TEXT: Final = "X-SOGS-* request authentication required"
BLINDED_REQUIRED_TEXT: Final = "This endpoint requires blinded pubkeys be used"
READ_REQUIRED_TEXT: Final = "This endpoint requires room message 'read' permission"
MODERATOR_REQUIRED_TEXT: Final = "This endpoint requires moderator room permissions"
ADMIN_REQUIRED_TEXT: Final = "This endpoint requires admin room permissions"

# §3.2: a path whose %XX escapes do not decode to UTF-8 cannot be signed by anyone.
INVALID_PATH_TEXT: Final = "Invalid request: the path is not valid UTF-8 once %-decoded"

TIMESTAMP_WINDOW: Final = 86400  # seconds either side of the server clock (row 9)

_HEADERS: Final = ("x-sogs-pubkey", "x-sogs-timestamp", "x-sogs-nonce", "x-sogs-signature")
_PUBKEY_BYTES: Final = 33
_NONCE_BYTES: Final = 16
_SIGNATURE_BYTES: Final = 64
_PREFIX_UNBLINDED: Final = 0x00
_PREFIX_BLIND15: Final = 0x15
_PREFIX_BLIND25: Final = 0x25
_HEX: Final = re.compile(r"[0-9a-fA-F]*")
_DIGITS: Final = re.compile(r"[0-9]+")
# Python's int() refuses more than 4300 digits; anything over 20 is out of range anyway.
_MAX_TIMESTAMP_DIGITS: Final = 20


class SogsAuthError(CryptoError):
    """A refused X-SOGS request: `status` and `text` are the exact answer (text/plain)."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


@dataclass(frozen=True, slots=True)
class SogsCredentials:
    """Headers that passed rows 1-9: who claims to send the request, not yet verified."""

    session_id: str  # the user id: "15"/"25" + key hex, or "05" + X25519 of a 00 key
    ed25519_key: bytes  # the key the signature verifies under (the pubkey without its prefix)
    nonce: bytes
    timestamp: int
    timestamp_text: str  # exactly as sent: it is signed as ASCII
    signature: bytes

    @property
    def blinded(self) -> bool:
        """True for a 15 (or 25) key; False for a 00 key, whose user is a 05 id."""
        return not self.session_id.startswith("05")


def _decode_hex_or_base64(value: str, size: int) -> bytes | None:
    """§3.1: hex when the length is exactly 2 x size and all hex; else base64 (padding optional).

    None when neither gives bytes; the caller checks the decoded length.
    """
    if len(value) == 2 * size and _HEX.fullmatch(value):
        return bytes.fromhex(value)
    padded = value + "=" * (-len(value) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _decode_exact(value: str, size: int) -> bytes | None:
    decoded = _decode_hex_or_base64(value, size)
    return decoded if decoded is not None and len(decoded) == size else None


def parse_sogs_credentials(
    headers: Mapping[str, str],
    *,
    now: float,
    blinding_required: bool,
    accept_25: bool = False,
) -> SogsCredentials | None:
    """Rows 1-9 of §3.4, in that order; None for an anonymous request (no X-SOGS headers).

    `headers` has lowercase names. `now` is the server clock in unix seconds. Raises
    SogsAuthError with the row's exact status and text.
    """
    pubkey_text, timestamp_text, nonce_text, signature_text = (
        headers.get(name) or "" for name in _HEADERS
    )
    missing = sum(
        1 for value in (pubkey_text, timestamp_text, nonce_text, signature_text) if not value
    )
    if missing == len(_HEADERS):
        return None
    if missing:
        raise SogsAuthError(400, MISSING_HEADERS_TEXT.format(missing=missing))

    pubkey = _decode_exact(pubkey_text, _PUBKEY_BYTES)
    if pubkey is None:
        raise SogsAuthError(400, PUBKEY_FORMAT_TEXT)
    prefix, key = pubkey[0], pubkey[1:]
    allowed = (
        (_PREFIX_UNBLINDED, _PREFIX_BLIND15, _PREFIX_BLIND25)
        if accept_25
        else (
            _PREFIX_UNBLINDED,
            _PREFIX_BLIND15,
        )
    )
    if prefix not in allowed:
        raise SogsAuthError(400, PUBKEY_PREFIX_TEXT)
    if not is_valid_ed25519_point(key):
        raise SogsAuthError(400, PUBKEY_POINT_TEXT)
    if prefix == _PREFIX_UNBLINDED and blinding_required:
        raise SogsAuthError(400, BLINDING_REQUIRED_TEXT)

    nonce = _decode_exact(nonce_text, _NONCE_BYTES)
    if nonce is None:
        raise SogsAuthError(400, NONCE_FORMAT_TEXT)
    signature = _decode_exact(signature_text, _SIGNATURE_BYTES)
    if signature is None:
        raise SogsAuthError(400, SIGNATURE_FORMAT_TEXT)

    if not _DIGITS.fullmatch(timestamp_text):
        raise SogsAuthError(400, TIMESTAMP_FORMAT_TEXT)
    if len(timestamp_text) > _MAX_TIMESTAMP_DIGITS:
        raise SogsAuthError(425, TIMESTAMP_RANGE_TEXT)
    timestamp = int(timestamp_text)
    if abs(timestamp - now) > TIMESTAMP_WINDOW:
        raise SogsAuthError(425, TIMESTAMP_RANGE_TEXT)

    return SogsCredentials(
        session_id=_user_id(prefix, key),
        ed25519_key=key,
        nonce=nonce,
        timestamp=timestamp,
        timestamp_text=timestamp_text,
        signature=signature,
    )


def _user_id(prefix: int, key: bytes) -> str:
    """§3.3: a 00 key is the user's master key, so the user is its 05 (X25519) id."""
    if prefix == _PREFIX_UNBLINDED:
        return "05" + bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(key)).hex()
    return f"{prefix:02x}" + key.hex()


def signed_path(endpoint: str) -> tuple[str, bytes]:
    """Split an endpoint into (path with %XX decoded once, raw query bytes as received).

    `/room/x/reaction/1/%F0%9F%8D%8D?limit=2` and `/room/x/reaction/1/🍍?limit=2` give the same
    path, so both sign alike (§3.2). Raises SogsAuthError 400 when the decoded path is not UTF-8.
    """
    path, _, query = endpoint.partition("?")
    try:
        decoded = unquote_to_bytes(path).decode("utf-8")
        raw_query = query.encode("utf-8")
    except UnicodeError:  # invalid escapes, or lone surrogates in the given text
        raise SogsAuthError(400, INVALID_PATH_TEXT) from None
    return decoded, raw_query


def signed_message(
    server_pk: bytes,
    nonce: bytes,
    timestamp_text: str,
    method: str,
    path: str,
    raw_query: bytes,
    body: bytes,
) -> bytes:
    """§3.2: server_pk ‖ nonce ‖ timestamp ‖ method ‖ path[?query] ‖ BLAKE2b-512(body) if any."""
    parts = [
        server_pk,
        nonce,
        timestamp_text.encode("ascii"),
        method.encode("utf-8"),  # ASCII for every method the transports let through
        path.encode("utf-8"),
    ]
    if raw_query:
        parts += (b"?", raw_query)
    if body:
        parts.append(hashlib.blake2b(body, digest_size=64).digest())
    return b"".join(parts)


def verify_request_signature(
    credentials: SogsCredentials,
    server_pk: bytes,
    method: str,
    path: str,
    raw_query: bytes,
    body: bytes,
) -> None:
    """Row 11: plain Ed25519 under the header's key (15, 25 and 00 alike, §3.3), or 401."""
    message = signed_message(
        server_pk,
        credentials.nonce,
        credentials.timestamp_text,
        method,
        path,
        raw_query,
        body,
    )
    try:
        sodium.crypto_sign_open(credentials.signature + message, credentials.ed25519_key)
    except nacl.exceptions.CryptoError:  # BadSignatureError, and keys libsodium refuses
        raise SogsAuthError(401, SIGNATURE_FAILED_TEXT) from None
