"""Fuzzing the v3 onion envelope (PROTOCOL.md 1.1-1.2) in process, through
`transport.onion.handle_onion_request` with a real ServerContext.

Whatever the bytes: never an exception; either a plain 400 with a short text body, or HTTP 200
with an encrypted JSON reply that carries an integer status_code (never 500, 406 or 421, never
a top-level `body`).
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from opengroup.crypto import EncType, OnionCipher, build_onion_request
from opengroup.testing.inprocess import handle_onion_request
from tests.fuzz.conftest import ErrorLog
from tests.fuzz.strategies import any_value, bodies, json_values, paths, queries
from tests.support.fuzzing import InProcess, fuzz_settings

ALLOWED_STATUSES = {200, 400, 401, 403, 404, 413, 429}
ENC_TYPES = st.sampled_from(list(EncType))


def assert_plain_400(status: int, reply: bytes) -> None:
    assert status == 400
    text = reply.decode("utf-8")  # a short text, never a traceback
    assert text.startswith("Invalid onion request") and len(text) < 200, text
    assert "Traceback" not in text


def open_reply(status: int, reply: bytes, cipher: OnionCipher) -> dict[str, Any]:
    assert status == 200, reply[:200]
    decoded = orjson.loads(cipher.decrypt(base64.b64decode(reply, validate=True)))
    assert isinstance(decoded, dict)
    code = decoded.get("status_code")
    assert isinstance(code, int) and not isinstance(code, bool), decoded
    assert code in ALLOWED_STATUSES, decoded
    assert "body" not in decoded
    return decoded


@fuzz_settings(scale=2)
@given(body=st.binary(max_size=4096))
def test_arbitrary_bytes_are_a_plain_400(server: InProcess, body: bytes) -> None:
    assert_plain_400(*handle_onion_request(server.ctx, body))


@st.composite
def broken_envelopes(draw: st.DrawFn) -> bytes:
    """Right layout, wrong content: lengths, metadata, keys and ciphertext."""
    ciphertext = draw(st.binary(max_size=300))
    declared = draw(
        st.just(len(ciphertext))
        | st.integers(min_value=0, max_value=2**32 - 1)
        | st.just(len(ciphertext) + 1)
    )
    key = draw(
        st.binary(min_size=32, max_size=32).map(bytes.hex)
        | st.text(alphabet="0123456789abcdefABCDEF ", max_size=70)
        | any_value
    )
    metadata: Any = {"ephemeral_key": key}
    if draw(st.booleans()):
        metadata["enc_type"] = draw(
            st.sampled_from(["aes-gcm", "gcm", "xchacha20", "rot13"]) | any_value
        )
    if draw(st.integers(0, 4)) == 0:
        metadata = draw(json_values)
    raw_metadata = draw(st.just(json.dumps(metadata).encode()) | st.binary(max_size=80))
    return struct.pack("<I", declared) + ciphertext + raw_metadata


@fuzz_settings(scale=2)
@given(body=broken_envelopes())
def test_broken_envelopes_are_a_plain_400(server: InProcess, body: bytes) -> None:
    assert_plain_400(*handle_onion_request(server.ctx, body))


@fuzz_settings()
@given(
    plaintext=st.binary(max_size=500) | json_values.map(lambda v: json.dumps(v).encode()),
    enc_type=ENC_TYPES,
)
def test_valid_envelope_arbitrary_plaintext(
    server: InProcess, error_log: ErrorLog, plaintext: bytes, enc_type: EncType
) -> None:
    error_log.records.clear()
    envelope, cipher = build_onion_request(server.ctx.keys.public, plaintext, enc_type=enc_type)
    reply = open_reply(*handle_onion_request(server.ctx, envelope), cipher)
    assert reply["status_code"] in (200, 400, 404), reply
    assert not error_log.records


@st.composite
def inner_requests(draw: st.DrawFn, server: InProcess) -> dict[str, Any]:
    """An inner request whose every field is either plausible or an arbitrary JSON value."""
    method, path = draw(paths())
    query = draw(queries)
    endpoint = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    body = draw(bodies)
    headers = draw(
        st.just(server.headers())
        | st.dictionaries(
            st.sampled_from(["Room", "room", "Authorization", "Content-Type"])
            | st.text(max_size=8),
            any_value,
            max_size=4,
        )
    )
    inner: dict[str, Any] = {
        "method": draw(st.just(method) | any_value),
        "endpoint": draw(st.just(endpoint) | any_value),
        "body": draw(st.just(body.decode("utf-8", "replace") if body else "") | any_value),
        "headers": draw(st.just(headers) | any_value),
    }
    if draw(st.integers(0, 5)) == 0:
        inner["auth_code"] = draw(st.just(server.mod_token) | any_value)
    for name in draw(st.lists(st.sampled_from(sorted(inner)), max_size=2)):
        inner.pop(name, None)
    return inner


@fuzz_settings(scale=3)
@given(data=st.data(), enc_type=ENC_TYPES)
def test_valid_envelope_arbitrary_inner_request(
    server: InProcess, error_log: ErrorLog, data: st.DataObject, enc_type: EncType
) -> None:
    error_log.records.clear()
    inner = data.draw(inner_requests(server))
    envelope, cipher = build_onion_request(
        server.ctx.keys.public, json.dumps(inner).encode(), enc_type=enc_type
    )
    open_reply(*handle_onion_request(server.ctx, envelope), cipher)
    assert not error_log.records, error_log.records[0].getMessage()
    server.keep_tokens()
