"""A modern API request (SOGS-API.md) as an ApiRequest, whichever door it came through."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from opengroup.api.request import ApiRequest


def modern_request(
    method: str, endpoint: str, headers: Mapping[str, str], body: bytes, transport: str
) -> ApiRequest:
    """`endpoint` starts with `/` and may carry `?query`; its path keeps the escapes or raw
    UTF-8 it was sent with (the router decodes each segment once, §3.2)."""
    path, _, query = endpoint[1:].partition("?")
    return ApiRequest(
        method=method,
        path=path,
        query=dict(parse_qsl(query, keep_blank_values=True)) if query else {},
        headers=dict(headers),
        body=body or None,
        transport=transport,
        api="sogs",
        raw_query=query,
    )
