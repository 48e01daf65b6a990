"""crypto/request_auth.py: the §3.4 rows it owns (1-9, 11), in order, and §4.6 V1-V5.

Rows 10 (global ban) and 12 (nonce reuse) need the store: the API layer's tests cover them.
"""

from __future__ import annotations

import base64
import hashlib
import itertools

import nacl.bindings as sodium
import pytest

from opengroup.crypto import CryptoError
from opengroup.crypto.request_auth import (
    ADMIN_REQUIRED_TEXT,
    AUTH_REQUIRED_TEXT,
    BANNED_TEXT,
    BLINDED_REQUIRED_TEXT,
    INVALID_PATH_TEXT,
    MODERATOR_REQUIRED_TEXT,
    NONCE_REUSED_TEXT,
    READ_REQUIRED_TEXT,
    SogsAuthError,
    SogsCredentials,
    parse_sogs_credentials,
    signed_message,
    signed_path,
    verify_request_signature,
)
from opengroup.testing.modern import BlindedUser

# §4.6 V1-V3 inputs.
SERVER_PK = bytes.fromhex("c3b3c6f32f0ab5a57f853cc4f30f5da7fda5624b0c77b3fb0829de562ada081d")
USER = BlindedUser.from_seed("c010d89eccbaf5d1c6d19df766c6eedf965d4a28a56f87c9fc819edb59896dd9")
NONCE = bytes.fromhex("09d0799f2295990182c3ab3406fbfc5b")
TS = 1642472103
ID05 = "0588672ccb97f40bb57238989226cf429b575ba355443f47bc76c5ab144a96c65b"
PUBKEY_00 = "00bac6e71efd7dfa4a83c98ed24f254ab2c267f9ccdb172a5280a0444ad24e89cc"
PUBKEY_15 = "1598932d4bccbe595a8789d7eb1629cefc483a0eaddc7e20e8fe5c771efafd9af5"
V1 = ("GET", "/room/the-best-room/messages/recent?limit=25", b"")
V1_SIG_00 = (
    "xxLpXHbomAJMB9AtGMyqvBsXrdd2040y+Ol/IKzElWfKJa3EYZRv1GLO6CTLhrDFUwVQe8PPltyGs54Kd7O5Cg=="
)
V1_SIG_15 = (
    "gYqpWZX6fnF4Gb2xQM3xaXs0WIYEI49+B8q4mUUEg8Rw0ObaHUWfoWjMHMArAtP9QlORfiydsKWz1o6zdPVeCQ=="
)
V2_PATH = "/room/the-best-room/reaction/1/🍍"
V2_PATH_ENCODED = "/room/the-best-room/reaction/1/%F0%9F%8D%8D"
V2_SIG_00 = (
    "bvKrfpecER8E41RjYUe1XQSycSG6ObJ5mzKhrnqiuFWFn2HDykVnIs1zoviTetLWfcE3Su5Ca50NJqzqJuvZCQ=="
)
V2_SIG_15 = (
    "7ekLl2IOBP/vnVSk+ytnglolEpybiInaW+RDrIozpi2JebFHxSr3fjA5V9pXSgeDDBaoQNYdTBmdjpCeB2EhBA=="
)
V3_BODY = b'[{"method":"GET","path":"/capabilities"}]'
V3_HASH = (
    "dc16cc75da790171105833c53cbe61cc611b34e9336e40d2e4254b1e937648e4"
    "e2925020d87e12e8948743631cd13f50e45a8720003a222dcc669ae5219197d5"
)
V3_SIG_00 = (
    "2JUeYWUd4VakbjcrmVmFb6TdGxH5zbIvYilRrF8nV/8piX0dfIgK0vdj1RZC+JtqixGeUKrEKgK/dKFIx6OXAA=="
)
V3_SIG_15 = (
    "xncb//TjejQkE0tV1OJcsNZxzpfv9imkvWl0dTsEmAAKWI0B7UpFUdb6eVEjS2tJJWoTt33YKZE97nN0eaFMCQ=="
)
SMALL_ORDER_15 = "15c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"

ROW = {
    2: "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
    3: "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
    4: "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
    5: "Invalid authentication: this server requires the use of blinded ids",
    6: "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
    7: "Invalid authentication: X-SOGS-Signature is not base64[88]",
    8: "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
    9: "Invalid authentication: X-SOGS-Timestamp is too far from current time",
    11: "Invalid authentication: X-SOGS-Signature verification failed",
}
STATUS = {**dict.fromkeys(range(1, 9), 400), 9: 425, 11: 401}


def headers(
    method: str = "GET",
    endpoint: str = "/capabilities",
    body: bytes = b"",
    *,
    blinded: bool = True,
    signed_at: int = TS,
    nonce_bytes: bytes = NONCE,
    **overrides: str,
) -> dict[str, str]:
    """Lowercase X-SOGS headers signed by the V1 user; `pubkey=...` etc. replace one value."""
    made = USER.sogs_headers(
        SERVER_PK, method, endpoint, body, blinded=blinded, timestamp=signed_at, nonce=nonce_bytes
    )
    lowered = {name.lower(): value for name, value in made.items()}
    lowered.update({f"x-sogs-{name}": value for name, value in overrides.items()})
    return lowered


def authenticate(
    values: dict[str, str],
    method: str = "GET",
    endpoint: str = "/capabilities",
    body: bytes = b"",
    *,
    now: float = TS,
    blinding_required: bool = True,
    accept_25: bool = False,
) -> SogsCredentials:
    """Rows 1-9 then 11, as the API layer will chain them; fails on an anonymous request."""
    credentials = parse_sogs_credentials(
        values, now=now, blinding_required=blinding_required, accept_25=accept_25
    )
    assert credentials is not None
    path, query = signed_path(endpoint)
    verify_request_signature(credentials, SERVER_PK, method, path, query, body)
    return credentials


def refused(row: int, values: dict[str, str], **kwargs: object) -> None:
    with pytest.raises(SogsAuthError) as caught:
        authenticate(values, **kwargs)  # type: ignore[arg-type]
    assert (caught.value.status, caught.value.text) == (STATUS[row], ROW[row])
    assert str(caught.value) == ROW[row] and isinstance(caught.value, CryptoError)


# ---------------------------------------------------------------------------- §4.6 V1-V3


@pytest.mark.parametrize(
    ("method", "endpoint", "body", "blinded", "signature"),
    [
        (*V1, True, V1_SIG_15),
        (*V1, False, V1_SIG_00),
        ("PUT", V2_PATH, b"", True, V2_SIG_15),
        ("PUT", V2_PATH, b"", False, V2_SIG_00),
        ("PUT", V2_PATH_ENCODED, b"", True, V2_SIG_15),  # same signature, %-encoded path
        ("PUT", V2_PATH_ENCODED, b"", False, V2_SIG_00),
        ("POST", "/batch", V3_BODY, True, V3_SIG_15),
        ("POST", "/batch", V3_BODY, False, V3_SIG_00),
    ],
    ids=["v1-15", "v1-00", "v2-15", "v2-00", "v2-encoded-15", "v2-encoded-00", "v3-15", "v3-00"],
)
def test_spec_vectors_verify(
    method: str, endpoint: str, body: bytes, blinded: bool, signature: str
) -> None:
    values = {
        "x-sogs-pubkey": PUBKEY_15 if blinded else PUBKEY_00,
        "x-sogs-timestamp": str(TS),
        "x-sogs-nonce": "CdB5nyKVmQGCw6s0Bvv8Ww==",
        "x-sogs-signature": signature,
    }
    credentials = authenticate(values, method, endpoint, body, blinding_required=False)
    assert credentials.session_id == (PUBKEY_15 if blinded else ID05)
    assert credentials.blinded is blinded
    # The client helper produces exactly these signatures for the raw UTF-8 endpoint.
    raw = endpoint.replace(V2_PATH_ENCODED, V2_PATH)
    made = USER.sogs_headers(
        SERVER_PK, method, raw, body, blinded=blinded, timestamp=TS, nonce=NONCE
    )
    assert made["X-SOGS-Signature"] == signature
    # One changed byte anywhere fails: the signature covers the body too.
    with pytest.raises(SogsAuthError):
        authenticate(values, method, endpoint, body + b" ", blinding_required=False)


def test_v3_body_hash_and_message_layout() -> None:
    assert hashlib.blake2b(V3_BODY, digest_size=64).hexdigest() == V3_HASH
    message = signed_message(SERVER_PK, NONCE, str(TS), "POST", "/batch", b"", V3_BODY)
    assert message == SERVER_PK + NONCE + b"1642472103POST/batch" + bytes.fromhex(V3_HASH)
    get = signed_message(SERVER_PK, NONCE, str(TS), "GET", "/room/r/messages", b"limit=2", b"")
    assert get == SERVER_PK + NONCE + b"1642472103GET/room/r/messages?limit=2"
    no_query = signed_message(SERVER_PK, NONCE, str(TS), "GET", "/a", b"", b"")
    assert no_query.endswith(b"GET/a")


@pytest.mark.parametrize("pubkey", ["00" + "00" * 32, SMALL_ORDER_15])
@pytest.mark.parametrize("blinding_required", [True, False])
def test_v5_small_subgroup_keys_are_row_4(pubkey: str, blinding_required: bool) -> None:
    refused(4, headers(pubkey=pubkey), blinding_required=blinding_required)


# ---------------------------------------------------------------------------- anonymous, row 1


def test_no_headers_or_all_empty_is_anonymous() -> None:
    assert parse_sogs_credentials({}, now=TS, blinding_required=True) is None
    empty = dict.fromkeys(headers(), "")
    assert parse_sogs_credentials(empty, now=TS, blinding_required=True) is None
    other = {"content-type": "application/json"}
    assert parse_sogs_credentials(other, now=TS, blinding_required=True) is None


@pytest.mark.parametrize(
    "absent",
    [
        combination
        for count in (1, 2, 3)
        for combination in itertools.combinations(
            ("pubkey", "timestamp", "nonce", "signature"), count
        )
    ],
    ids="-".join,
)
@pytest.mark.parametrize("how", ["missing", "empty"])
def test_row_1_some_headers_missing_or_empty(absent: tuple[str, ...], how: str) -> None:
    # The remaining headers are all bad too: row 1 answers first.
    values = headers(pubkey="zz", nonce="zz", signature="zz", timestamp="soon")
    for name in absent:
        if how == "missing":
            del values[f"x-sogs-{name}"]
        else:
            values[f"x-sogs-{name}"] = ""
    with pytest.raises(SogsAuthError) as caught:
        parse_sogs_credentials(values, now=TS, blinding_required=True)
    assert caught.value.status == 400
    assert caught.value.text == (
        f"Invalid authentication headers: missing {len(absent)}/4 required X-SOGS-* headers"
    )


# ---------------------------------------------------------------------------- rows 2-9 in order


@pytest.mark.parametrize(
    "pubkey",
    [
        PUBKEY_15[2:],  # 32 bytes, no prefix
        PUBKEY_15 + "00",  # 34 bytes as hex
        "zz" + PUBKEY_15[2:],  # 66 characters, not hex, not base64
        base64.b64encode(bytes.fromhex(PUBKEY_15[2:])).decode(),  # 32 bytes as base64
        "!!!!",
        " " + PUBKEY_15[1:],
    ],
)
def test_row_2_pubkey_not_33_bytes(pubkey: str) -> None:
    # Every later check would fail too (prefix, nonce, signature, timestamp).
    refused(2, headers(pubkey=pubkey, nonce="x", signature="x", timestamp="x"))


@pytest.mark.parametrize("prefix", ["05", "01", "16", "25", "ff"])
def test_row_3_prefix(prefix: str) -> None:
    refused(3, headers(pubkey=prefix + PUBKEY_15[2:], nonce="x", timestamp="x"))


def test_row_4_before_row_5_and_later_rows() -> None:
    refused(4, headers(pubkey="15" + "00" * 32, nonce="x", signature="x"))
    refused(4, headers(pubkey="00" + "00" * 32, nonce="x"), blinding_required=True)


def test_row_5_unblinded_key_while_blinding_is_required() -> None:
    values = headers(blinded=False)
    refused(5, values, blinding_required=True)
    refused(5, headers(blinded=False, nonce="short", signature="x"), blinding_required=True)
    # Not required: accepted, and the user is the 05 id of the key.
    credentials = authenticate(values, blinding_required=False)
    assert credentials.session_id == ID05 == USER.session_id
    expected = "05" + bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(USER.ed25519_public)).hex()
    assert credentials.session_id == expected
    assert credentials.ed25519_key == USER.ed25519_public and not credentials.blinded


def test_row_5_text_is_byte_exact() -> None:
    # Desktop compares it byte for byte (D17 invalidAuthRequiresBlinding).
    with pytest.raises(SogsAuthError) as caught:
        parse_sogs_credentials(headers(blinded=False), now=TS, blinding_required=True)
    assert caught.value.text.encode() == (
        b"Invalid authentication: this server requires the use of blinded ids"
    )


@pytest.mark.parametrize(
    "nonce",
    [
        base64.b64encode(bytes(15)).decode(),
        base64.b64encode(bytes(17)).decode(),
        "00" * 15,
        "00" * 17,
        "not base64 at all!",
        "A",
    ],
)
def test_row_6_nonce_not_16_bytes_before_signature(nonce: str) -> None:
    refused(6, headers(nonce=nonce, signature="x", timestamp="x"))


@pytest.mark.parametrize(
    "signature",
    [
        base64.b64encode(bytes(63)).decode(),
        base64.b64encode(bytes(65)).decode(),
        "00" * 63,
        "x",
    ],
)
def test_row_7_signature_not_64_bytes_before_timestamp(signature: str) -> None:
    refused(7, headers(signature=signature, timestamp="x"))


@pytest.mark.parametrize("timestamp", ["x", "1.5", "-5", "+1642472103", " 1642472103", "1e9", "٣"])
def test_row_8_timestamp_not_an_integer(timestamp: str) -> None:
    refused(8, headers(timestamp=timestamp))


@pytest.mark.parametrize("offset", [86399, -86399, 86400, -86400, 0])
def test_row_9_within_a_day_passes(offset: int) -> None:
    authenticate(headers(signed_at=TS + offset), now=TS)
    authenticate(headers(), now=TS - offset)  # the server's clock is the one that is off


@pytest.mark.parametrize("offset", [86402, -86402, 86400.5, -86400.5, 10**12])
def test_row_9_more_than_a_day_is_425(offset: float) -> None:
    refused(9, headers(), now=TS - offset)  # `now` is a float clock
    if offset == int(offset):
        refused(9, headers(signed_at=TS + int(offset)), now=TS)


def test_row_9_before_row_11_and_huge_timestamps() -> None:
    refused(9, headers(signed_at=TS + 86402, signature=V1_SIG_15))
    refused(9, headers(timestamp="9" * 5000))


# ---------------------------------------------------------------------------- row 11


@pytest.mark.parametrize(
    ("what", "kwargs"),
    [
        ("other method", {"method": "POST"}),
        ("other path", {"endpoint": "/capabilities/"}),
        ("a query", {"endpoint": "/capabilities?x=1"}),
        ("a body", {"body": b"{}"}),
        ("other server", {}),
    ],
)
def test_row_11_signature_does_not_verify(what: str, kwargs: dict[str, object]) -> None:
    values = headers()
    if what == "other server":
        values = {
            name.lower(): value
            for name, value in USER.sogs_headers(
                bytes(reversed(SERVER_PK)), "GET", "/capabilities", timestamp=TS, nonce=NONCE
            ).items()
        }
    refused(11, values, **kwargs)


def test_row_11_flipped_bit_in_each_signed_part() -> None:
    good = headers()
    signature = base64.b64decode(good["x-sogs-signature"])
    for index in (0, 31, 32, 63):
        flipped = bytearray(signature)
        flipped[index] ^= 1
        refused(11, {**good, "x-sogs-signature": base64.b64encode(flipped).decode()})
    refused(11, {**good, "x-sogs-nonce": base64.b64encode(b"\x01" + NONCE[1:]).decode()})
    refused(11, {**good, "x-sogs-timestamp": str(TS + 1)})
    other = BlindedUser.generate().blinded_id(SERVER_PK)
    refused(11, {**good, "x-sogs-pubkey": other})


# ---------------------------------------------------------------------------- encodings


def test_hex_and_base64_forms_all_verify() -> None:
    good = headers()
    signature = base64.b64decode(good["x-sogs-signature"])
    pubkey = bytes.fromhex(good["x-sogs-pubkey"])
    variants = [
        {},
        {"x-sogs-nonce": NONCE.hex()},
        {"x-sogs-nonce": NONCE.hex().upper()},
        {"x-sogs-nonce": base64.b64encode(NONCE).decode().rstrip("=")},  # 22 characters
        {"x-sogs-signature": signature.hex()},
        {"x-sogs-signature": base64.b64encode(signature).decode().rstrip("=")},  # 86
        {"x-sogs-pubkey": base64.b64encode(pubkey).decode()},  # 44 characters
        {"x-sogs-pubkey": good["x-sogs-pubkey"].upper()},
    ]
    for variant in variants:
        credentials = authenticate({**good, **variant})
        assert (credentials.nonce, credentials.signature) == (NONCE, signature)
        assert credentials.session_id == PUBKEY_15


def test_hex_wins_when_a_value_is_both() -> None:
    # 32 hex digits are also valid base64 (24 bytes): §3.1 decodes them as hex.
    nonce_text = "0123456789abcdef0123456789abcdef"
    values = headers(nonce_bytes=bytes.fromhex(nonce_text))
    assert values["x-sogs-nonce"] != nonce_text
    values["x-sogs-nonce"] = nonce_text
    credentials = authenticate(values)
    assert credentials.nonce == bytes.fromhex(nonce_text)
    assert (credentials.timestamp, credentials.timestamp_text) == (TS, str(TS))


def test_25_prefix_only_when_accepted() -> None:
    made = headers()
    values = {**made, "x-sogs-pubkey": "25" + made["x-sogs-pubkey"][2:]}
    refused(3, values)
    # Same key and signature under prefix 25: verifies as plain Ed25519 (§4.5).
    credentials = authenticate(values, accept_25=True)
    assert credentials.session_id == "25" + PUBKEY_15[2:] and credentials.blinded


# ---------------------------------------------------------------------------- signed_path


@pytest.mark.parametrize(
    ("endpoint", "path", "query"),
    [
        ("/capabilities", "/capabilities", b""),
        ("/room/r/messages/recent?limit=25", "/room/r/messages/recent", b"limit=25"),
        ("/a?", "/a", b""),
        ("/a?x=1?y=2", "/a", b"x=1?y=2"),
        ("/room/x/reaction/1/%F0%9F%8D%8D?limit=2", "/room/x/reaction/1/🍍", b"limit=2"),
        ("/room/x/reaction/1/%f0%9f%8d%8d", "/room/x/reaction/1/🍍", b""),
        ("/room/x/reaction/1/🍍", "/room/x/reaction/1/🍍", b""),
        ("/room/x/reaction/1/❤️", "/room/x/reaction/1/❤️", b""),
        ("/a/%2525", "/a/%25", b""),  # decoded once, not twice
        ("/a/%zz", "/a/%zz", b""),  # not an escape: kept
        ("/a?q=%F0%9F%8D%8D&r=🍍", "/a", "q=%F0%9F%8D%8D&r=🍍".encode()),  # query kept raw
    ],
)
def test_signed_path(endpoint: str, path: str, query: bytes) -> None:
    assert signed_path(endpoint) == (path, query)


@pytest.mark.parametrize(
    "endpoint", ["/a/%FF", "/room/x/reaction/1/%F0%9F%8D", "/a/%C0%AF", "/a/\udcff"]
)
def test_signed_path_refuses_a_path_that_is_not_utf8_once_decoded(endpoint: str) -> None:
    with pytest.raises(SogsAuthError) as caught:
        signed_path(endpoint)
    assert (caught.value.status, caught.value.text) == (400, INVALID_PATH_TEXT)


# ---------------------------------------------------------------------------- shared texts


def test_texts_the_api_layer_reuses() -> None:
    assert BANNED_TEXT == "Banned"
    assert NONCE_REUSED_TEXT == "Invalid authentication: X-SOGS-Nonce cannot be reused"
    assert AUTH_REQUIRED_TEXT == "X-SOGS-* request authentication required"
    assert BLINDED_REQUIRED_TEXT == "This endpoint requires blinded pubkeys be used"
    assert READ_REQUIRED_TEXT == "This endpoint requires room message 'read' permission"
    assert MODERATOR_REQUIRED_TEXT == "This endpoint requires moderator room permissions"
    assert ADMIN_REQUIRED_TEXT == "This endpoint requires admin room permissions"
