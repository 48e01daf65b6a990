"""Hypothesis strategies for what a hostile or broken client can send."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from opengroup.api.legacy.routes import ROUTES

# Every kind of JSON value, integers of any size included (the stdlib serialises those).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**64 + 2)
    | st.integers(min_value=-(2**64), max_value=-(2**63) + 2)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=25,
)
# Long values: oversized fields, base64-looking text, deep nesting.
big_strings = st.builds(
    lambda char, count: char * count,
    st.sampled_from(["A", "=", "0", "f", "é", "\x00", "/", "+", "AAA="]),
    st.integers(min_value=0, max_value=120_000),
)


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


deep = st.integers(min_value=1, max_value=300).map(_nested)
hex_text = st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=140)
session_like = st.builds(lambda tail: "05" + tail, hex_text) | hex_text
any_value = json_values | big_strings | session_like | deep

# The fields every endpoint reads, so that generated objects reach the decoding code.
FIELD_NAMES = (
    "public_key",
    "room_id",
    "data",
    "signature",
    "timestamp",
    "ids",
    "file",
    "requests",
    "auth_token",
    "from_message_server_id",
    "from_deletion_server_id",
)
QUERY_NAMES = ("public_key", "from_server_id", "limit")


def to_json(value: Any) -> bytes:
    return json.dumps(value).encode()


poll_entries = st.lists(
    st.dictionaries(st.sampled_from(FIELD_NAMES), any_value, max_size=5)
    | st.fixed_dictionaries(
        {"room_id": st.sampled_from(["main", "second", "nope", ""]) | st.text(max_size=70)},
        optional={
            "auth_token": st.just("") | hex_text | any_value,
            "from_message_server_id": any_value,
            "from_deletion_server_id": any_value,
        },
    )
    | json_values,
    max_size=12,
)
objects = st.dictionaries(st.sampled_from(FIELD_NAMES), any_value, max_size=6) | st.builds(
    lambda entries, extra: {"requests": entries, **extra},
    poll_entries,
    st.dictionaries(st.sampled_from(FIELD_NAMES), any_value, max_size=2),
)
bodies = (
    st.none()
    | st.just(b"")
    | st.just(b"null")
    | st.binary(max_size=200)
    | json_values.map(to_json)
    | objects.map(to_json)
    | big_strings.map(str.encode)
)
query_values = (
    st.text(max_size=30)
    | st.integers().map(str)
    | st.sampled_from(["", "null", "-1", "0", "1", "256", "9" * 30, "1e9", " 5", "0x10", "٣"])
    | session_like
)
queries = st.dictionaries(
    st.sampled_from(QUERY_NAMES) | st.text(max_size=8), query_values, max_size=4
)
path_values = (
    st.text(max_size=30)
    | st.integers().map(str)
    | st.sampled_from(
        ["main", "second", "..", "%2e%2e", "..%2F..%2Fkey.pem", "0", "-1", "9" * 25, "main%00"]
    )
    | session_like
)


@st.composite
def paths(draw: st.DrawFn) -> tuple[str, str]:
    """(method, path) for a route with its {params} filled in, or an arbitrary path."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["GET", "POST", "DELETE", "PUT", "get"])), draw(
            st.text(max_size=40)
        )
    route = draw(st.sampled_from(ROUTES))
    segments = [
        quote(draw(path_values), safe="") if segment.startswith("{") else segment
        for segment in route.pattern.split("/")
    ]
    return route.method, "/".join(segments)
