"""Request metrics, counted in memory: one counter increment and one histogram observation
per request (labelled children are cached, so no label lookup either), no database work.
web/metrics.py serves them with the numbers it reads from the database when scraped."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram, disable_created_metrics

LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
UNKNOWN_ENDPOINT = "unknown"

# No `_created` series: half the output, and nothing Prometheus needs.
disable_created_metrics()  # type: ignore[no-untyped-call]

REQUESTS = Counter(
    "opengroup_requests",
    "API requests by endpoint (route pattern), method, transport and status code.",
    ["endpoint", "method", "transport", "status"],
)
REQUEST_SECONDS = Histogram(
    "opengroup_request_duration_seconds",
    "Time to handle one API request once decoded (rules and database), by endpoint.",
    ["endpoint", "method", "transport"],
    buckets=LATENCY_BUCKETS,
)
HTTP_SECONDS = Histogram(
    "opengroup_http_request_duration_seconds",
    "Time from request body received to reply ready, by transport (onion: with decryption "
    "and encryption of the envelope).",
    ["transport"],
    buckets=LATENCY_BUCKETS,
)
ONION_FAILURES = Counter(
    "opengroup_onion_decryption_failures",
    "Onion requests refused before decryption succeeded (bad envelope, wrong key, bad tag).",
)

_enabled = True
_api_children: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}
_http_children: dict[str, Any] = {}


def set_enabled(enabled: bool) -> None:
    """With metrics off, recording is skipped altogether."""
    global _enabled
    _enabled = enabled


def record_api_request(
    endpoint: str | None, method: str, transport: str, status: int, seconds: float
) -> None:
    if not _enabled:
        return
    key = (endpoint or UNKNOWN_ENDPOINT, method, transport, status)
    children = _api_children.get(key)
    if children is None:
        children = (
            REQUESTS.labels(key[0], method, transport, str(status)),
            REQUEST_SECONDS.labels(key[0], method, transport),
        )
        _api_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def record_http(transport: str, seconds: float) -> None:
    if not _enabled:
        return
    child = _http_children.get(transport)
    if child is None:
        child = _http_children[transport] = HTTP_SECONDS.labels(transport)
    child.observe(seconds)


def record_onion_failure() -> None:
    if _enabled:
        ONION_FAILURES.inc()
