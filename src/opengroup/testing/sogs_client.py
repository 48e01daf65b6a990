"""A modern API client for tests and benchmarks: signs like Desktop (X-SOGS, 15 keys), and
sends through onion v4 (the way real clients come) or plain HTTP at the root paths."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

import httpx
import orjson

from opengroup.crypto import EncType, build_onion_request
from opengroup.testing.modern import BlindedUser, decode_v4_reply, encode_v4_request

Transport = Literal["v4", "http"]


@dataclass(slots=True)
class SogsReply:
    code: int
    headers: dict[str, str]
    raw: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        assert self.content_type == "application/json", (self.code, self.content_type, self.raw)
        return orjson.loads(self.raw)

    @property
    def text(self) -> str:
        return self.raw.decode("utf-8", "replace")


class SogsClient:
    """One connection to a server; `user` signs each request unless `user=None` is passed."""

    def __init__(
        self,
        base_url: str,
        server_pk: bytes,
        *,
        transport: Transport = "v4",
        enc_type: EncType = EncType.AES_GCM,
        timeout: float = 30,
        keep_alive: bool = True,
    ) -> None:
        """`keep_alive=False`: a new connection per request (with several server processes,
        consecutive requests then land on different ones)."""
        self.server_pk = server_pk
        self.transport = transport
        self.enc_type = enc_type
        limits = httpx.Limits() if keep_alive else httpx.Limits(max_keepalive_connections=0)
        self.http = httpx.Client(base_url=base_url, timeout=timeout, limits=limits)

    def close(self) -> None:
        self.http.close()

    def request(
        self,
        method: str,
        endpoint: str,
        body: object = None,
        *,
        user: BlindedUser | None = None,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
        blinded: bool = True,
        sign_endpoint: str | None = None,
    ) -> SogsReply:
        """`body` is sent as JSON; `raw` as bytes. `sign_endpoint`: sign another spelling of
        the endpoint (e.g. raw UTF-8 while the request carries %-escapes)."""
        payload = raw if raw is not None else (b"" if body is None else orjson.dumps(body))
        all_headers = dict(headers or {})
        if body is not None and raw is None:
            all_headers.setdefault("Content-Type", "application/json")
        if user is not None:
            all_headers.update(
                user.sogs_headers(
                    self.server_pk, method, sign_endpoint or endpoint, payload, blinded=blinded
                )
            )
        if self.transport == "http":
            return self._http(method, endpoint, payload, all_headers)
        return self._v4(method, endpoint, payload, all_headers)

    def _http(
        self, method: str, endpoint: str, payload: bytes, headers: dict[str, str]
    ) -> SogsReply:
        url = quote(endpoint, safe="/?=&%:@!$'()*+,;~-._")
        response = self.http.request(method, url, content=payload or None, headers=headers)
        return SogsReply(response.status_code, dict(response.headers), response.content)

    def _v4(self, method: str, endpoint: str, payload: bytes, headers: dict[str, str]) -> SogsReply:
        meta = {"endpoint": endpoint, "headers": headers, "method": method}
        plaintext = encode_v4_request(meta, payload or None)
        envelope, cipher = build_onion_request(
            self.server_pk, plaintext, enc_type=self.enc_type,
            metadata={"host": "127.0.0.1", "target": "/oxen/v4/lsrpc", "method": "POST"},
        )  # fmt: skip
        response = self.http.post("/oxen/v4/lsrpc", content=envelope)
        if response.status_code != 200:
            raise AssertionError(f"onion v4: HTTP {response.status_code}: {response.text}")
        info, body = decode_v4_reply(cipher.decrypt(response.content))
        return SogsReply(int(info["code"]), dict(info["headers"]), body)

    # -- shortcuts ------------------------------------------------------------------------

    def get(self, endpoint: str, user: BlindedUser | None = None) -> SogsReply:
        return self.request("GET", endpoint, user=user)

    def post(self, endpoint: str, body: object, user: BlindedUser | None = None) -> SogsReply:
        return self.request("POST", endpoint, body, user=user)

    def batch(
        self,
        items: list[dict[str, Any]],
        user: BlindedUser | None = None,
        *,
        sequence: bool = False,
    ) -> SogsReply:
        return self.request("POST", "/sequence" if sequence else "/batch", items, user=user)
