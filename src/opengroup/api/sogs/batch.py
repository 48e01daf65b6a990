"""POST /batch and POST /sequence (SOGS-API.md 5): one signed request, several sub-requests
run as its signer; every answer item has `code`, `headers` and `body`."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from opengroup.api.request import ApiRequest, Call
from opengroup.api.sogs.parsing import json_body
from opengroup.api.sogs.replies import JSON, OCTETS, SogsReply, text_reply
from opengroup.errors import BadInput, TooLarge

METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
BODY_KEYS = ("json", "b64", "bytes")
NESTED = ("batch", "sequence")
# Enough for Desktop's poll of a server of 250 rooms (2 items per room + 3, §5).
MAX_ITEMS = 503

Dispatch = Callable[[ApiRequest], SogsReply]
_HEADERS_TYPES = (dict, type(None))  # absent, null or an object


def _item_body(item: dict[str, Any]) -> tuple[bytes, str]:
    method = item["method"]
    if method in ("GET", "DELETE"):
        if "json" in item or "b64" in item or "bytes" in item:  # BODY_KEYS, unrolled
            raise BadInput(f"a {method} item carries no body")
        return b"", ""
    given = [key for key in BODY_KEYS if key in item]
    if len(given) != 1:
        raise BadInput("a POST or PUT item needs exactly one of json, b64, bytes")
    key = given[0]
    value = item[key]
    if key == "json":
        return orjson.dumps(value), JSON
    if not isinstance(value, str):
        raise BadInput(f"'{key}' must be a string")
    if key == "bytes":
        return value.encode("utf-8"), OCTETS
    try:
        return base64.b64decode(value, validate=True), OCTETS
    except (binascii.Error, ValueError):
        raise BadInput("'b64' is not valid base64") from None


def parse_item(item: object, parent: ApiRequest) -> ApiRequest:
    if not isinstance(item, dict):
        raise BadInput("every batch item must be an object")
    method, path, headers = item.get("method"), item.get("path"), item.get("headers")
    if not isinstance(method, str) or method not in METHODS:
        raise BadInput("a batch item's method must be GET, POST, PUT or DELETE")
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadInput("a batch item's path must start with /")
    if not isinstance(headers, _HEADERS_TYPES) or (
        headers and any(not isinstance(value, str) for value in headers.values())
    ):
        raise BadInput("a batch item's headers must be an object of strings")
    body, content_type = _item_body(item)
    route_path, _, query = path[1:].partition("?")
    if route_path.partition("/")[0] in NESTED:
        raise BadInput("batches do not nest")
    sub_headers = {name.lower(): value for name, value in headers.items()} if headers else {}
    if content_type:
        sub_headers.setdefault("content-type", content_type)
    return ApiRequest(
        method=method,
        path=route_path,
        query=dict(parse_qsl(query, keep_blank_values=True)) if query else {},
        headers=sub_headers,
        body=body or None,
        transport=parent.transport,
        api="sogs",
        raw_query=query,
        user=parent.user,
        authenticated=True,
        budget=parent.budget,
    )


def parse_batch(request: ApiRequest) -> list[ApiRequest]:
    """Every item checked before any runs: one malformed item is a 400 for the batch."""
    items = json_body(request) if request.body else None
    if not isinstance(items, list) or not items:
        raise BadInput("the body must be a non-empty JSON list of requests")
    if len(items) > MAX_ITEMS:
        raise TooLarge(f"at most {MAX_ITEMS} requests in one batch")
    return [parse_item(item, request) for item in items]


def answer_item(reply: SogsReply) -> dict[str, Any]:
    headers = {"content-type": reply.content_type, **reply.extra_headers()}
    body: Any
    if reply.content_type == JSON and reply.body is None:
        body = reply.value  # never encoded: the batch's reply encodes it once
    else:
        content_type, payload = reply.encode()
        if content_type == JSON:
            body = orjson.loads(payload) if payload else None
        else:
            body = base64.b64encode(payload).decode("ascii")
    return {"code": reply.status_code, "headers": headers, "body": body}


def run_batch(call: Call, dispatch: Dispatch, *, stop_at_failure: bool) -> object:
    """Message lists share the batch's reply budget (cut short, never refused); once other
    bytes (files) fill it, the remaining items are answered 413 without running."""
    budget = call.reply_budget()
    answers: list[dict[str, Any]] = []
    other_bytes = 0
    for sub in parse_batch(call.request):
        if other_bytes >= budget.size:
            reply = text_reply(413, "this batch's reply is full: ask again for the rest")
        else:
            reply = dispatch(sub)
            if reply.encode()[0] != JSON:
                other_bytes += len(reply.encode()[1])
        answers.append(answer_item(reply))
        if stop_at_failure and not 200 <= reply.status_code < 300:
            break
    return answers
