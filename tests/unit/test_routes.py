"""The routing table covers PROTOCOL.md section 4, and matching is exact."""

from __future__ import annotations

import re

import pytest

from opengroup.api.legacy.routes import LEGACY, ROUTES
from opengroup.api.sogs.routes import SOGS
from tests.support.spec import spec_file

PROTOCOL = spec_file("PROTOCOL.md")


def protocol_endpoints() -> list[tuple[str, str]]:
    rows = re.findall(r"^\| (GET|POST|DELETE) `([^`?]+)", PROTOCOL.read_text(), re.MULTILINE)
    assert len(rows) >= 23, "PROTOCOL.md endpoint table not found"
    return [(method, re.sub(r":(\w+)", r"{\1}", path)) for method, path in rows]


@pytest.mark.parametrize(("method", "path"), protocol_endpoints())
def test_every_protocol_endpoint_has_a_route(method: str, path: str) -> None:
    concrete = re.sub(r"\{\w+\}", "x1", path)
    assert LEGACY.match(method, concrete) is not None, f"{method} {path} has no route"


def test_no_route_outside_the_protocol() -> None:
    documented = {(m, re.sub(r"\{\w+\}", "{}", p)) for m, p in protocol_endpoints()}
    for route in ROUTES:
        assert (route.method, re.sub(r"\{\w+\}", "{}", route.pattern)) in documented


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "rooms/main", {"room_id": "main"}),
        ("GET", "rooms/a%2Fb", {"room_id": "a/b"}),
        ("DELETE", "messages/12", {"server_id": "12"}),
        ("GET", "files/5", {"file_id": "5"}),
    ],
)
def test_parameters_are_captured(method: str, path: str, params: dict[str, str]) -> None:
    found = LEGACY.match(method, path)
    assert found is not None and found.params == params


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "rooms/a/b"), ("PUT", "rooms"), ("GET", "nothing"), ("POST", "rooms/main")],
)
def test_unknown_endpoints_do_not_match(method: str, path: str) -> None:
    assert LEGACY.match(method, path) is None


def test_a_busy_store_answers_503_with_retry_after() -> None:
    """Issue 11: a bounded wait for the writers' lock ends in a 503 the client may retry."""
    from opengroup.api.request import ApiResponse

    assert ApiResponse(503, {"error": "busy"}).extra_headers() == {"retry-after": "1"}
    assert ApiResponse(404, {"error": "no"}).extra_headers() == {}
    assert SOGS.failure(503, "busy").extra_headers() == {"retry-after": "1"}


def _example_path(pattern: str) -> str:
    """A concrete path for a route pattern: each parameter a plain value, a rest two segments."""
    return re.sub(r"\{\w+:path\}", "a/b", re.sub(r"\{\w+\}", "x1", pattern))


def test_candidates_hold_the_route_that_matches_every_path_of_both_apis() -> None:
    """The pipeline decides where a /batch runs from Router.candidates (no full match per
    item): they must include the route `match` finds, for every route of both tables."""
    for router in (LEGACY, SOGS):
        for route in router.routes:
            path = _example_path(route.pattern)
            found = router.match(route.method, path)
            assert found is not None, (route.method, path)
            assert found.route in router.candidates(route.method, path), (route.method, path)
