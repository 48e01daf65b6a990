"""Fuzzing the v4 onion transport (PROTOCOL.md 1.3) in process, like the v3 one: arbitrary
bytes are a plain 400; any valid envelope, whatever its (bencoded or not) payload, gets HTTP 200
and an encrypted bencoded reply `l<{"code": N, "headers": {...}}><body>e`, never a 500: a
legacy reply's JSON carries status_code N; anything else is a short text error."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from opengroup.crypto import EncType, build_onion_request
from opengroup.testing.inprocess import handle_onion_v4_request
from opengroup.transport.onion_v4 import bdecode_strings, bencode_strings
from tests.fuzz.conftest import ErrorLog
from tests.fuzz.strategies import any_value, bodies, json_values, paths, queries
from tests.support.fuzzing import InProcess, fuzz_settings

ALLOWED_STATUSES = {200, 400, 401, 403, 404, 413, 429}


@fuzz_settings()
@given(body=st.binary(max_size=2048))
def test_v4_arbitrary_bytes_are_a_plain_400(server: InProcess, body: bytes) -> None:
    status, reply = handle_onion_v4_request(server.ctx, body)
    assert status == 400 and reply.decode().startswith("Invalid onion request")


@st.composite
def v4_payloads(draw: st.DrawFn, server: InProcess) -> bytes:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.binary(max_size=300))
    if kind == 1:  # bencoded-looking garbage
        items = draw(st.lists(st.binary(max_size=40), max_size=4))
        raw = bencode_strings(items)
        cut = draw(st.integers(0, len(raw)))
        return draw(
            st.sampled_from([raw, raw[:cut], raw + b"e", b"l" + raw, raw.replace(b":", b";")])
        )
    method, path = draw(paths())
    query = draw(queries)
    endpoint = (
        "/legacy/" + path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    )
    meta: Any = {
        "method": draw(st.just(method) | any_value),
        "endpoint": draw(st.just(endpoint) | st.just(path) | any_value),
        "headers": draw(st.just(server.headers()) | json_values),
    }
    if kind == 3:
        meta = draw(json_values)
    items = [json.dumps(meta).encode()]
    body = draw(bodies)
    if body is not None:
        items.append(body)
    return bencode_strings(items)


@fuzz_settings(scale=2)
@given(data=st.data(), enc_type=st.sampled_from(list(EncType)))
def test_v4_valid_envelope_arbitrary_payload(
    server: InProcess, error_log: ErrorLog, data: st.DataObject, enc_type: EncType
) -> None:
    error_log.records.clear()
    payload = data.draw(v4_payloads(server))
    envelope, cipher = build_onion_request(server.ctx.keys.public, payload, enc_type=enc_type)
    status, reply = handle_onion_v4_request(server.ctx, envelope)
    assert status == 200
    info_raw, body_raw = bdecode_strings(cipher.decrypt(reply))
    info = orjson.loads(info_raw)
    assert isinstance(info["code"], int) and info["code"] in ALLOWED_STATUSES, body_raw
    content_type = info["headers"]["content-type"]
    if content_type == "application/json":  # a legacy reply: status_code inside as well
        assert orjson.loads(body_raw)["status_code"] == info["code"]
    else:  # SOGS-API.md 2.2-2.3: errors of the payload or of the modern API are short text
        assert content_type == "text/plain; charset=utf-8" and info["code"] >= 400, body_raw
        assert b"Traceback" not in body_raw
    assert not error_log.records, error_log.records[0].getMessage()
    server.keep_tokens()
