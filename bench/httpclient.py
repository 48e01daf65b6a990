"""A minimal keep-alive HTTP/1.1 client on asyncio + httptools, cheap enough for load generation.

httpx or aiohttp spend tens of microseconds of Python per request; this spends a few: the request
is one pre-rendered bytes object, the response is parsed by httptools (llhttp, in C).
"""

from __future__ import annotations

import asyncio

import httptools


class ConnectionLost(Exception):
    pass


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    __slots__ = ("_body", "_parser", "_transport", "_waiter", "closed")

    def __init__(self) -> None:
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> HttpConnection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(ConnectionLost(f"bad response: {error}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionLost(str(exc) if exc else "connection closed"))

    # -- httptools callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        body = b"".join(self._body)
        self._body = []
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((status, body))

    # -- use
    def _fail(self, error: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    def request(self, raw: bytes) -> asyncio.Future[tuple[int, bytes]]:
        """Send a fully rendered request; the future gives (status, body)."""
        if self.closed or self._transport is None:
            raise ConnectionLost("connection closed")
        waiter: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self._waiter = waiter
        self._transport.write(raw)
        return waiter

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        self.closed = True


def render_post(host: str, path: str, body: bytes, content_type: str = "text/plain") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def render_get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
