"""The services every use case, endpoint, job and CLI command works through. Built by
runtime.bootstrap.open_context; nothing here connects or reads files."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from opengroup.config import Config
from opengroup.crypto import ServerKeys
from opengroup.rules.limits import PostRateLimit
from opengroup.rules.tokens import TokenPolicy
from opengroup.store import BlobStore, Database
from opengroup.usecases.token_caches import (
    ActivityBuffer,
    SignerActivity,
    TokenOwners,
    TokenUseBuffer,
)

DAY = 86_400.0


@dataclass(slots=True)
class ServerContext:
    config: Config
    db: Database
    blobs: BlobStore
    keys: ServerKeys
    clock: Callable[[], float] = field(default=time.time)
    # Derived from config once: every authenticated request consults them.
    token_policy: TokenPolicy = field(init=False)
    rate_limit: PostRateLimit = field(init=False)
    token_uses: TokenUseBuffer = field(default_factory=TokenUseBuffer)
    token_owners: TokenOwners = field(default_factory=TokenOwners)
    activity: ActivityBuffer = field(default_factory=ActivityBuffer)
    signers: SignerActivity = field(default_factory=SignerActivity)

    def __post_init__(self) -> None:
        self.token_policy = TokenPolicy(expiry_seconds=self.config.token_expiry_days * DAY)
        self.rate_limit = PostRateLimit(
            self.config.rate_limit_posts, self.config.rate_limit_seconds
        )

    def join_url(self, room_id: str) -> str | None:
        base = self.config.base_url.rstrip("/")
        if not base:
            return None
        return f"{base}/{room_id}?public_key={self.keys.public_hex}"

    def close(self) -> None:
        self.db.dispose()
