"""Routing shared by both APIs: a table of routes written as data, matched by segments, and a
dispatcher that turns every outcome into a reply.

Each API (`api.legacy`, `api.sogs`) builds one `Router` from its own table and its own error
shape; every transport dispatches through them (transport/pipeline.py), never around them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar
from urllib.parse import unquote

from opengroup.api.request import ApiRequest, Call
from opengroup.errors import OpenGroupError, RetryableConflict, StorageFailure, status_for
from opengroup.usecases.context import ServerContext

log = logging.getLogger("opengroup.api")

# A deadlock or serialization failure rolled the whole transaction back: running the
# handler again is safe. Beyond this many tries the client gets a 503 and retries itself.
CONFLICT_RETRIES = 3


class Reply(Protocol):
    """What a router answers: the status and the encoded body a transport carries."""

    status_code: int

    def encode(self) -> tuple[str, bytes]:
        """(content type, body bytes)."""
        ...

    def extra_headers(self) -> dict[str, str]:
        """Headers beyond the content type (lowercase names)."""
        ...


R = TypeVar("R", bound=Reply)
Handler = Callable[[Call], object]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: str  # segments separated by "/"; "{name}" captures one; "{name:path}" the rest
    handler: Handler
    # Moves megabytes (files, room images): run in a worker thread, never on the event loop.
    heavy: bool = False
    # Writes to the database (may wait for the writers' lock): never on the event loop.
    writes: bool = False
    # Worked out once from `pattern` (a modern poll matches ~15 paths).
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)
    takes_rest: bool = field(init=False, repr=False, compare=False)
    # Per segment: (literal it must equal, or None; name it captures, or None).
    _plan: tuple[tuple[str | None, str | None], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        segments = tuple(self.pattern.split("/"))
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "takes_rest", self.pattern.endswith(":path}"))
        plan = [
            (None, segment[1:-1]) if segment.startswith("{") else (segment, None)
            for segment in segments
        ]
        object.__setattr__(self, "_plan", tuple(plan))


@dataclass(frozen=True, slots=True)
class Match:
    route: Route
    params: dict[str, str]


Key = tuple[str, int, str, str]
ANY = "{}"  # a parameter in the third segment: the route is indexed under this


def _key(route: Route) -> Key:
    """(method, segment count (negative: at least that many), first segment, third segment
    when it is literal): most paths find their one candidate in one dict lookup."""
    segments = route.segments
    count = -len(segments) if route.takes_rest else len(segments)
    third = segments[2] if len(segments) > 2 and not segments[2].startswith("{") else ANY
    return route.method, count, segments[0], third


class Router(Generic[R]):
    """One API's table. `success` shapes a handler's result, `failure` an error."""

    def __init__(
        self,
        name: str,
        routes: tuple[Route, ...],
        success: Callable[[Route, object], R],
        failure: Callable[[int, str], R],
        prepare: Callable[[ServerContext, ApiRequest], R | None] | None = None,
    ) -> None:
        """`prepare` runs once before the handler (not again on a conflict retry), e.g. to
        authenticate; a reply from it answers the request instead of the handler."""
        self.name = name
        self.routes = routes
        self.success = success
        self.failure = failure
        self.prepare = prepare
        self._index: dict[Key, list[Route]] = {}
        for route in routes:
            self._index.setdefault(_key(route), []).append(route)
        self._rest_lengths = sorted({len(r.segments) for r in routes if r.takes_rest})

    def candidates(self, method: str, path: str) -> list[Route]:
        """Every route `match` would try for this path (found by the index alone, no
        parameter read): a superset of the one that matches, if any."""
        segments = path.split("/")
        first = segments[0]
        third = segments[2] if len(segments) > 2 else ANY
        count = len(segments)
        keys = [(method, count, first, third), (method, count, first, ANY)]
        for length in self._rest_lengths:
            if count >= length:
                keys += [(method, -length, first, third), (method, -length, first, ANY)]
        return [route for key in keys for route in self._index.get(key, ())]

    def match(self, method: str, path: str) -> Match | None:
        """`path` without leading slash or query; segments are percent-decoded once."""
        segments = path.split("/")
        first = segments[0]
        third = segments[2] if len(segments) > 2 else ANY
        count = len(segments)
        for key in ((method, count, first, third), (method, count, first, ANY)):
            for route in self._index.get(key, ()):
                found = _match_segments(route, segments)
                if found is not None:
                    return found
        for length in self._rest_lengths:
            if count >= length:
                for key in ((method, -length, first, third), (method, -length, first, ANY)):
                    for route in self._index.get(key, ()):
                        found = _match_segments(route, segments)
                        if found is not None:
                            return found
        return None

    def dispatch(self, ctx: ServerContext, request: ApiRequest, found: Match | None = None) -> R:
        """Run one request through the table. Never raises: every outcome is a reply."""
        return self._run(ctx, request, found or self.match(request.method, request.path))

    def _run(self, ctx: ServerContext, request: ApiRequest, found: Match | None) -> R:
        """`prepare`, then the handler, with every error turned into its reply (no closure
        per step: a modern poll runs this for each of its ~13 sub-requests)."""
        if found is None:
            return self.failure(404, f"no endpoint {request.method} {request.path}")
        try:
            if self.prepare is not None:
                early = self.prepare(ctx, request)
                if early is not None:
                    return early
            return self._handle(ctx, request, found)
        except StorageFailure as error:
            # The client is told 503/507; the operator must hear why.
            log.error("storage failure in %s %s: %s", request.method, request.path, error.detail)
            return self.failure(status_for(error), error.detail)
        except OpenGroupError as error:
            return self.failure(status_for(error), error.detail)
        except Exception:
            log.exception("internal error in %s %s", request.method, request.path)
            return self.failure(500, "internal server error")

    def _handle(self, ctx: ServerContext, request: ApiRequest, found: Match) -> R:
        for attempt in range(1, CONFLICT_RETRIES + 1):
            try:
                result = found.route.handler(Call(ctx, request, found.params))
                return self.success(found.route, result)
            except RetryableConflict as error:
                if attempt == CONFLICT_RETRIES:
                    log.warning("%s %s: gave up after %d conflicts: %s",
                                request.method, request.path, attempt, error.detail)  # fmt: skip
                    raise
                log.info("%s %s: retrying after %s", request.method, request.path, error.detail)
        raise AssertionError("unreachable")


def _match_segments(route: Route, segments: list[str]) -> Match | None:
    params: dict[str, str] = {}
    for index, (literal, name) in enumerate(route._plan):
        if literal is not None:
            if segments[index] != literal:
                return None
        elif name is not None and name.endswith(":path"):
            params[name[:-5]] = unquote("/".join(segments[index:]))
            return Match(route, params)
        elif name is not None:
            segment = segments[index]
            params[name] = unquote(segment) if "%" in segment else segment
    return Match(route, params)
