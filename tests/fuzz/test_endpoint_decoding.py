"""Fuzzing every endpoint's body, query, header and path decoding, in process.

Each route gets arbitrary JSON values of the wrong types and sizes in every field it reads,
with and without valid credentials (a moderator's, so decoding past the permission checks is
reached). The answer is always one of the status codes the OpenAPI document lists for that
endpoint: never a 500, never a logged traceback, always JSON-serialisable.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opengroup.api.legacy.routes import ROUTES, Route
from opengroup.crypto import sign_session_message
from opengroup.web.openapi import OPERATIONS
from tests.fuzz.conftest import ErrorLog
from tests.fuzz.strategies import any_value, bodies, path_values, queries
from tests.support.fuzzing import InProcess, call, fuzz_settings


@pytest.fixture(scope="module")
def ids(server: InProcess) -> dict[str, str]:
    """A message and a file that exist in room main, to aim path parameters at."""
    data = b"fuzz target"
    body = {
        "data": base64.b64encode(data).decode(),
        "signature": base64.b64encode(sign_session_message(server.user.private, data)).decode(),
    }
    posted = call(
        server.ctx,
        "POST",
        "messages",
        body=orjson.dumps(body),
        headers=server.headers(server.user_token),
    )
    assert posted.status_code == 200, posted
    uploaded = call(
        server.ctx,
        "POST",
        "files",
        body=orjson.dumps({"file": base64.b64encode(b"x" * 100).decode()}),
        headers=server.headers(server.user_token),
    )
    assert uploaded.status_code == 200, uploaded
    return {
        "room_id": "main",
        "server_id": str(posted.fields["message"]["server_id"]),
        "file_id": str(uploaded.fields["result"]),
        "session_id": server.user.session_id,
    }


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern}")
@fuzz_settings(scale=0.6)
@given(data=st.data())
def test_endpoint_decoding_never_fails(
    server: InProcess, error_log: ErrorLog, ids: dict[str, str], route: Route, data: st.DataObject
) -> None:
    error_log.records.clear()
    segments = []
    for segment in route.pattern.split("/"):
        if segment.startswith("{"):
            value = data.draw(st.just(ids[segment[1:-1]]) | path_values, label=segment)
            segments.append(quote(value, safe=""))
        else:
            segments.append(segment)
    headers = data.draw(
        st.sampled_from(
            [server.headers(), server.headers(server.user_token), server.headers(room="second")]
        )
        | st.dictionaries(
            st.sampled_from(["Room", "Authorization"]), any_value.map(str), max_size=2
        ),
        label="headers",
    )
    body = data.draw(bodies, label="body")
    query = data.draw(queries, label="query")

    reply = call(
        server.ctx, route.method, "/".join(segments), body=body, headers=headers, query=query
    )

    documented = OPERATIONS[(route.method, route.pattern)].statuses("{" in route.pattern)
    assert reply.status_code in documented, reply
    encoded = orjson.dumps(reply.as_json())
    assert b'"body"' not in encoded[:1] and "body" not in reply.fields
    assert json.loads(encoded)["status_code"] == reply.status_code
    assert not error_log.records, error_log.records[0].getMessage()
    server.keep_tokens()
