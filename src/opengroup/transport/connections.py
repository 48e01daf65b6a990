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
    the connection opened, or after its first byte once the previous response went out."""

    head_timeout: float = 10.0

    _head_timer: asyncio.TimerHandle | None = None
    _awaiting_head: bool = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._awaiting_head = True
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head and self._head_timer is None:
            self._arm()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._disarm()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        self._awaiting_head = True  # the keep-alive timeout covers the wait for a first byte
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._awaiting_head and not self.transport.is_closing():
            log.debug("closed a connection whose request head took over %gs", self.head_timeout)
            self.transport.close()
