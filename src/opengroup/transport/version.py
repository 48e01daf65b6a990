"""What differs between onion envelope versions: how a request is opened and a reply sealed.

Splitting the two lets the app decrypt on the event loop and still send a heavy request (a
file download, an upload) to a worker thread once it knows which endpoint it is for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..context import ServerContext
from ..crypto import BadEnvelope, OnionCipher
from ..endpoints.call import ApiRequest, ApiResponse
from ..endpoints.routes import dispatch

Opened = tuple[OnionCipher, ApiRequest | ApiResponse]


@dataclass(frozen=True, slots=True)
class OnionVersion:
    open: Callable[[ServerContext, bytes], Opened]  # raises BadEnvelope
    seal: Callable[[OnionCipher, ApiResponse], bytes]

    def handle(self, ctx: ServerContext, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, body). Envelope errors are plain 400s; everything after decryption
        is an encrypted reply with its own status code."""
        try:
            cipher, request = self.open(ctx, body)
        except BadEnvelope as error:
            return 400, envelope_error(error)
        response = request if isinstance(request, ApiResponse) else dispatch(ctx, request)
        return 200, self.seal(cipher, response)


def envelope_error(error: BadEnvelope) -> bytes:
    return f"Invalid onion request: {error}".encode()
