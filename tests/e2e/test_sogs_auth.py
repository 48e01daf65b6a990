"""X-SOGS authentication through onion v4 and direct HTTP: every row of SOGS-API.md 3.4, in
order, with its exact status and text; nonces (3.5); the user record (3.6)."""

from __future__ import annotations

import base64
import os
import time

import pytest

from opengroup.testing.modern import BlindedUser
from opengroup.testing.sogs_client import SogsClient, SogsReply

TEXT = "text/plain; charset=utf-8"
ENDPOINT = "/room/main"
SMALL_ORDER_KEYS = (
    "00" + "00" * 32,
    "15c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
)


def signed(client: SogsClient, user: BlindedUser, **overrides: str | None) -> dict[str, str]:
    headers = user.sogs_headers(client.server_pk, "GET", ENDPOINT)
    for name, value in overrides.items():
        header = "X-SOGS-" + name.capitalize()
        if value is None:
            headers.pop(header)
        else:
            headers[header] = value
    return headers


def send(client: SogsClient, headers: dict[str, str], endpoint: str = ENDPOINT) -> SogsReply:
    return client.request("GET", endpoint, headers=headers)


def assert_refused(reply: SogsReply, code: int, text: str) -> None:
    assert (reply.code, reply.content_type, reply.text) == (code, TEXT, text)


def test_a_signed_request_is_accepted(sogs: SogsClient) -> None:
    reply = send(sogs, signed(sogs, BlindedUser.generate()))
    assert reply.code == 200 and reply.json["token"] == "main"


@pytest.mark.parametrize(
    "missing", [["nonce"], ["nonce", "signature"], ["pubkey", "timestamp", "signature"]]
)
def test_row_1_some_headers_missing(sogs: SogsClient, missing: list[str]) -> None:
    headers = signed(sogs, BlindedUser.generate(), **dict.fromkeys(missing))
    assert_refused(
        send(sogs, headers),
        400,
        f"Invalid authentication headers: missing {len(missing)}/4 required X-SOGS-* headers",
    )


def test_row_1_empty_counts_as_missing(sogs: SogsClient) -> None:
    headers = signed(sogs, BlindedUser.generate(), nonce="")
    assert_refused(
        send(sogs, headers),
        400,
        "Invalid authentication headers: missing 1/4 required X-SOGS-* headers",
    )


def test_row_2_pubkey_not_33_bytes(sogs: SogsClient) -> None:
    headers = signed(sogs, BlindedUser.generate(), pubkey="15" + "ab" * 31)
    assert_refused(
        send(sogs, headers),
        400,
        "Invalid authentication: X-SOGS-Pubkey is not a valid 66-hex digit id",
    )


def test_row_3_prefix(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    pubkey = "05" + user.blinded_id(sogs.server_pk)[2:]
    assert_refused(
        send(sogs, signed(sogs, user, pubkey=pubkey)),
        400,
        "Invalid authentication: X-SOGS-Pubkey must be 00- or 15- prefixed",
    )


@pytest.mark.parametrize("pubkey", SMALL_ORDER_KEYS)
def test_row_4_small_subgroup_keys(sogs: SogsClient, pubkey: str) -> None:
    assert_refused(
        send(sogs, signed(sogs, BlindedUser.generate(), pubkey=pubkey)),
        400,
        "Invalid authentication: given X-SOGS-Pubkey is not a valid Ed25519 pubkey",
    )


def test_row_5_unblinded_key_refused(sogs: SogsClient) -> None:
    reply = sogs.request("GET", ENDPOINT, user=BlindedUser.generate(), blinded=False)
    assert_refused(
        reply, 400, "Invalid authentication: this server requires the use of blinded ids"
    )


def test_row_6_nonce_size(sogs: SogsClient) -> None:
    nonce = base64.b64encode(os.urandom(15)).decode()
    assert_refused(
        send(sogs, signed(sogs, BlindedUser.generate(), nonce=nonce)),
        400,
        "Invalid authentication: X-SOGS-Nonce must be 16 bytes (encoded as base64 or hex)",
    )


def test_row_6_comes_before_row_7(sogs: SogsClient) -> None:
    headers = signed(sogs, BlindedUser.generate(), nonce="abc", signature="xyz")
    assert send(sogs, headers).text.startswith("Invalid authentication: X-SOGS-Nonce")


def test_row_7_signature_size(sogs: SogsClient) -> None:
    signature = base64.b64encode(os.urandom(63)).decode()
    assert_refused(
        send(sogs, signed(sogs, BlindedUser.generate(), signature=signature)),
        400,
        "Invalid authentication: X-SOGS-Signature is not base64[88]",
    )


def test_row_8_timestamp_not_an_integer(sogs: SogsClient) -> None:
    assert_refused(
        send(sogs, signed(sogs, BlindedUser.generate(), timestamp="12.5")),
        400,
        "Invalid authentication: X-SOGS-Timestamp is not a valid timestamp",
    )


@pytest.mark.parametrize(
    ("offset", "accepted"), [(86_399, True), (-86_399, True), (86_402, False), (-86_402, False)]
)
def test_row_9_timestamp_window(sogs: SogsClient, offset: int, accepted: bool) -> None:
    user = BlindedUser.generate()
    headers = user.sogs_headers(
        sogs.server_pk, "GET", ENDPOINT, timestamp=int(time.time()) + offset
    )
    reply = send(sogs, headers)
    if accepted:
        assert reply.code == 200, reply.text
    else:
        assert_refused(
            reply, 425, "Invalid authentication: X-SOGS-Timestamp is too far from current time"
        )


def test_row_11_signature_fails(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    headers = user.sogs_headers(sogs.server_pk, "GET", "/room/other")  # signed for another path
    assert_refused(
        send(sogs, headers), 401, "Invalid authentication: X-SOGS-Signature verification failed"
    )


def test_row_11_signature_for_another_server(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    other = bytes(32 - 1) + b"\x09"
    headers = user.sogs_headers(other, "GET", ENDPOINT)
    headers["X-SOGS-Pubkey"] = "15" + user.blinded_id(sogs.server_pk)[2:]
    assert send(sogs, headers).code == 401


def test_row_12_nonce_reuse_is_425_and_the_repeat_does_nothing(sogs: SogsClient) -> None:
    headers = signed(sogs, BlindedUser.generate())
    assert send(sogs, headers).code == 200
    assert_refused(
        send(sogs, headers), 425, "Invalid authentication: X-SOGS-Nonce cannot be reused"
    )


def test_a_bad_signature_does_not_burn_the_nonce(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    good = signed(sogs, user)
    bad = dict(good, **{"X-SOGS-Signature": base64.b64encode(os.urandom(64)).decode()})
    assert send(sogs, bad).code == 401
    assert send(sogs, good).code == 200


def test_hex_and_base64_forms_are_both_accepted(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    headers = signed(sogs, user)
    headers["X-SOGS-Nonce"] = base64.b64decode(headers["X-SOGS-Nonce"]).hex()
    headers["X-SOGS-Signature"] = base64.b64decode(headers["X-SOGS-Signature"]).hex()
    assert send(sogs, headers).code == 200
    other = signed(sogs, user)
    other["X-SOGS-Pubkey"] = base64.b64encode(bytes.fromhex(other["X-SOGS-Pubkey"])).decode()
    assert send(sogs, other).code == 200


def test_percent_encoded_and_raw_paths_give_the_same_verdict(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    # Signed over the decoded path, sent with an escape: the server decodes it once.
    reply = sogs.request("GET", "/room/%6Dain", user=user, sign_endpoint="/room/main")
    assert reply.code == 200 and reply.json["token"] == "main"
    raw = sogs.request("GET", "/room/ma\u00efn", user=user)
    escaped = sogs.request("GET", "/room/ma%C3%AFn", user=user, sign_endpoint="/room/ma\u00efn")
    assert (raw.code, raw.text) == (escaped.code, escaped.text) == (404, raw.text)


def test_a_query_is_signed_exactly_as_sent(sogs: SogsClient) -> None:
    user = BlindedUser.generate()
    reply = sogs.request("GET", "/room/main/messages/recent?limit=5&reactors=2", user=user)
    assert reply.code == 200
    unsigned_query = user.sogs_headers(sogs.server_pk, "GET", "/room/main/messages/recent")
    reply = send(sogs, unsigned_query, "/room/main/messages/recent?limit=5")
    assert reply.code == 401


def test_anonymous_requests_run_where_allowed(sogs: SogsClient) -> None:
    assert sogs.get("/capabilities").code == 200
    assert sogs.get("/rooms").code == 200
    assert sogs.get("/room/main").code == 200
