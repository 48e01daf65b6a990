"""Connections that cannot be held open for free: uvicorn's HTTP protocol (httptools), with a
deadline for every request head. uvicorn itself times out only idle keep-alive connections:
a client that connects and sends nothing, or half a head, would keep its connection forever.

`serve` passes `HeadTimeoutProtocol` to uvicorn; each worker's app factory sets
`head_timeout` from the settings before any connection arrives.
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)


class HeadTimeoutProtocol(HttpToolsProtocol):
    """Closes a connection whose request head is not complete `head_timeout` seconds after
    the connection opened, or after its first byte once the previous response went out.

    One timer per connection, not one per request: a request only writes down its deadline
    when its first byte is parsed (a timer made and cancelled for every request cost ~2 µs of
    a ~150 µs poll). The timer wakes at the deadline, or every `head_timeout` seconds while no
    head is under way."""

    head_timeout: float = 10.0

    _head_timer: asyncio.TimerHandle | None = None
    _head_deadline: float | None = None  # of the head under way; None once it is complete

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_deadline = self.loop.time() + self.head_timeout
        self._head_timer = self.loop.call_at(self._head_deadline, self._check_head)

    def on_message_begin(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.time() + self.head_timeout
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._head_deadline = None
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().connection_lost(exc)

    def _check_head(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        now, deadline = self.loop.time(), self._head_deadline
        if deadline is not None and now >= deadline:
            log.debug("closed a connection whose request head took over %gs", self.head_timeout)
            self.transport.close()
            return
        wake = deadline if deadline is not None else now + self.head_timeout
        self._head_timer = self.loop.call_at(wake, self._check_head)
