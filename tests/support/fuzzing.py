"""Hypothesis settings and an in-process server for the fuzz, reliability and security suites.

`make test` runs every property with a bounded number of examples; `make fuzz` sets
HYPOTHESIS_PROFILE=fuzz and runs the same properties with many more. The settings are applied
per test (`@fuzz_settings()`), never loaded globally, so other suites keep Hypothesis defaults.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from opengroup.api.legacy.routes import dispatch
from opengroup.api.request import ApiRequest, ApiResponse
from opengroup.config import Config
from opengroup.crypto import SessionKeys, decrypt_auth_challenge
from opengroup.runtime.bootstrap import open_context
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.usecases.context import ServerContext

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "test")
# Examples per property: a few dozen in `make test`, thousands in `make fuzz`.
EXAMPLES = {"test": 40, "fuzz": 1000}


def fuzz_settings(scale: float = 1.0) -> settings:
    count = EXAMPLES.get(PROFILE, EXAMPLES["test"])
    return settings(
        max_examples=max(1, int(count * scale)),
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.function_scoped_fixture,
        ],
        print_blob=True,
    )


def call(
    ctx: ServerContext,
    method: str,
    endpoint: str,
    *,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> ApiResponse:
    """One request straight through the routing table (the third transport of PROTOCOL.md)."""
    request = ApiRequest(
        method=method,
        path=endpoint,
        query=dict(query or {}),
        headers={name.lower(): value for name, value in (headers or {}).items()},
        body=body,
    )
    return dispatch(ctx, request)


def authenticate(ctx: ServerContext, user: SessionKeys, room: str) -> str:
    reply = call(
        ctx,
        "GET",
        "auth_token_challenge",
        query={"public_key": user.session_id},
        headers={"Room": room},
    )
    assert reply.status_code == 200, reply
    challenge = reply.fields["challenge"]
    token = decrypt_auth_challenge(
        user.private,
        base64.b64decode(challenge["ephemeral_public_key"]),
        base64.b64decode(challenge["ciphertext"]),
    ).hex()
    claim = call(
        ctx,
        "POST",
        "claim_auth_token",
        body=b'{"public_key": "%s"}' % user.session_id.encode(),
        headers={"Room": room, "Authorization": token},
    )
    assert claim.status_code == 200, claim
    return token


@dataclass
class InProcess:
    """A real ServerContext on a temporary data directory, with a moderator and a user."""

    ctx: ServerContext
    mod: SessionKeys
    mod_token: str
    user: SessionKeys
    user_token: str

    def headers(self, token: str | None = None, room: str = "main") -> dict[str, str]:
        return {"Room": room, "Authorization": token or self.mod_token}

    def keep_tokens(self) -> None:
        """Fuzzed requests may revoke a token (DELETE auth_token): get a new one if so."""
        for name, keys in (("mod_token", self.mod), ("user_token", self.user)):
            reply = call(self.ctx, "GET", "moderators", headers=self.headers(getattr(self, name)))
            if reply.status_code == 401:
                setattr(self, name, authenticate(self.ctx, keys, "main"))


def open_in_process(data_dir: Path, **settings_: Any) -> InProcess:
    config = Config(data_dir=str(data_dir), **settings_)
    ctx = open_context(config)
    with ctx.db.write() as tx:
        if room_store.get_room(tx, "second") is None:
            room_store.create_room(tx, "second", "Second", ctx.clock())
    mod, user = SessionKeys.generate(), SessionKeys.generate()
    with ctx.db.write() as tx:
        main = room_store.get_room(tx, "main")
        assert main is not None
        moderation_store.add_moderator(tx, main, mod.session_id)
    return InProcess(
        ctx, mod, authenticate(ctx, mod, "main"), user, authenticate(ctx, user, "main")
    )
