"""A small synchronous client for the open group v2 API, for end-to-end tests and the benchmark.

It speaks both transports of PROTOCOL.md section 1: onion requests (what real clients send, as a
Service Node forwards them) and direct `/legacy/` HTTP.

    with OpenGroupClient("http://127.0.0.1:8080", server_public) as og:
        token = og.authenticate(user, "main")
        og.post_message("main", token, user, b"hello")

Errors:

    OnionRejected   the server refused the onion envelope itself (a non-200 HTTP answer)
    ApiFailed       a reply whose status_code is not 200, where a caller needs success
    ProtocolError   a reply that breaks the protocol (undecodable, or statuses that disagree)
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal

import httpx
import orjson

from opengroup.crypto import (
    CryptoError,
    EncType,
    SessionKeys,
    build_onion_request,
    decrypt_auth_challenge,
    sign_session_message,
)

__all__ = ["ApiFailed", "OnionRejected", "OpenGroupClient", "ProtocolError"]

ONION_PATH = "/loki/v3/lsrpc"


class OnionRejected(Exception):
    """The server answered an onion request with a non-200 HTTP status."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"onion request rejected: HTTP {status}: {text[:200]}")
        self.status = status
        self.text = text


class ApiFailed(Exception):
    """A request the caller needed to succeed came back with a status_code other than 200."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(f"request failed: {reply}")
        self.reply = reply


class ProtocolError(Exception):
    """The server's answer does not follow the protocol."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_object(raw: bytes | str, what: str) -> dict[str, Any]:
    try:
        reply = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"{what} is not JSON: {exc}") from None
    if not isinstance(reply, dict) or not isinstance(reply.get("status_code"), int):
        raise ProtocolError(f"{what} is not a JSON object with an integer status_code: {reply!r}")
    return reply


class OpenGroupClient:
    def __init__(
        self,
        base_url: str,
        server_public: bytes,
        *,
        transport: Literal["onion", "legacy"] = "onion",
        http: httpx.Client | None = None,
        enc_type: EncType = EncType.AES_GCM,
        timeout: float = 30,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.server_public = server_public
        self.transport = transport
        self.enc_type = enc_type
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=timeout)
        url = httpx.URL(self.base_url)
        # The last hop's routing keys, as Desktop writes them next to ephemeral_key.
        self._routing: dict[str, object] = {
            "host": url.host,
            "target": ONION_PATH,
            "method": "POST",
            "protocol": url.scheme,
            "port": url.port or (443 if url.scheme == "https" else 80),
        }

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        body: object = None,
        headers: Mapping[str, object] | None = None,
        raw_body: str | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> dict[str, Any]:
        """Send one API request; `endpoint` has no leading slash and may carry a query string."""
        if self.transport == "onion":
            return self._onion(method, endpoint, body, headers, raw_body, extra)
        if extra:
            raise ValueError("extra inner-request fields exist only on the onion transport")
        return self._legacy(method, endpoint, body, headers, raw_body)

    def _onion(
        self,
        method: str,
        endpoint: str,
        body: object,
        headers: Mapping[str, object] | None,
        raw_body: str | None,
        extra: Mapping[str, object] | None,
    ) -> dict[str, Any]:
        if raw_body is not None:
            body_text = raw_body
        elif body is None:
            body_text = ""
        else:
            body_text = orjson.dumps(body).decode()
        inner: dict[str, object] = {
            "method": method,
            "endpoint": endpoint,
            "body": body_text,
            "headers": dict(headers or {}),
            **(extra or {}),
        }
        envelope, cipher = build_onion_request(
            self.server_public, orjson.dumps(inner), enc_type=self.enc_type, metadata=self._routing
        )
        response = self._http.post(self.base_url + ONION_PATH, content=envelope)
        if response.status_code != 200:
            raise OnionRejected(response.status_code, response.text)
        try:
            plaintext = cipher.decrypt(base64.b64decode(response.content, validate=True))
        except (ValueError, CryptoError) as exc:
            raise ProtocolError(f"undecodable onion reply: {exc}") from None
        return _json_object(plaintext, "onion reply")

    def _legacy(
        self,
        method: str,
        endpoint: str,
        body: object,
        headers: Mapping[str, object] | None,
        raw_body: str | None,
    ) -> dict[str, Any]:
        sent_headers = {name: str(value) for name, value in (headers or {}).items()}
        content: bytes | None = None
        if raw_body is not None:
            content = raw_body.encode()
        elif body is not None:
            content = orjson.dumps(body)
        if content is not None:
            sent_headers.setdefault("Content-Type", "application/json")
        response = self._http.request(
            method, f"{self.base_url}/legacy/{endpoint}", headers=sent_headers, content=content
        )
        reply = _json_object(response.content, f"legacy reply (HTTP {response.status_code})")
        if reply["status_code"] != response.status_code:
            raise ProtocolError(
                f"HTTP status {response.status_code} but status_code {reply['status_code']}"
            )
        return reply

    # ------------------------------------------------------------------ auth

    def authenticate(self, user: SessionKeys, room: str) -> str:
        """Run the challenge / claim flow for `room`; returns the token as lowercase hex."""
        reply = self.request(
            "GET", f"auth_token_challenge?public_key={user.session_id}", headers={"Room": room}
        )
        if reply["status_code"] != 200:
            raise ApiFailed(reply)
        try:
            challenge = reply["challenge"]
            token = decrypt_auth_challenge(
                user.private,
                base64.b64decode(challenge["ephemeral_public_key"], validate=True),
                base64.b64decode(challenge["ciphertext"], validate=True),
            ).hex()
        except (KeyError, TypeError, ValueError, CryptoError) as exc:
            raise ProtocolError(f"unusable auth challenge {reply!r}: {exc!r}") from None
        claim = self.request(
            "POST",
            "claim_auth_token",
            body={"public_key": user.session_id},
            headers={"Room": room, "Authorization": token},
        )
        if claim["status_code"] != 200:
            raise ApiFailed(claim)
        return token

    # ------------------------------------------------------------------ endpoints

    @staticmethod
    def _auth(room: str, token: str) -> dict[str, object]:
        return {"Room": room, "Authorization": token}

    def get_rooms(self) -> dict[str, Any]:
        return self.request("GET", "rooms")

    def get_room(self, room_id: str) -> dict[str, Any]:
        return self.request("GET", f"rooms/{room_id}")

    def post_message(self, room: str, token: str, user: SessionKeys, data: bytes) -> dict[str, Any]:
        body = {
            "data": _b64(data),
            "signature": _b64(sign_session_message(user.private, data)),
            "timestamp": int(time.time() * 1000),
            "public_key": user.session_id,
        }
        return self.request("POST", "messages", body=body, headers=self._auth(room, token))

    def get_messages(
        self,
        room: str,
        token: str,
        from_server_id: int | None = None,
        limit: int | None = None,
    ) -> dict[str, Any]:
        params = {"from_server_id": from_server_id, "limit": limit}
        query = "&".join(f"{name}={value}" for name, value in params.items() if value is not None)
        endpoint = f"messages?{query}" if query else "messages"
        return self.request("GET", endpoint, headers=self._auth(room, token))

    def delete_messages(self, room: str, token: str, ids: list[int]) -> dict[str, Any]:
        return self.request(
            "POST", "delete_messages", body={"ids": ids}, headers=self._auth(room, token)
        )

    def compact_poll(self, requests: list[dict[str, Any]]) -> dict[str, Any]:
        return self.request("POST", "compact_poll", body={"requests": requests}, headers={})

    def upload_file(self, room: str, token: str, content: bytes) -> dict[str, Any]:
        return self.request(
            "POST", "files", body={"file": _b64(content)}, headers=self._auth(room, token)
        )

    def get_file(self, room: str, token: str, file_id: int) -> dict[str, Any]:
        return self.request("GET", f"files/{file_id}", headers=self._auth(room, token))

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OpenGroupClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
