"""The composition root: everything a handler, a job or a CLI command works through."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .config import Config
from .crypto import ServerKeys
from .crypto.keyfile import load_or_create_server_keys
from .rules.ids import check_new_room_id
from .rules.limits import PostRateLimit
from .rules.tokens import TokenPolicy
from .store import BlobStore, Database, rooms
from .store.migrate import migrate

log = logging.getLogger("opengroup")

DAY = 86_400.0
MAIN_ROOM = ("main", "Main")


TokenUse = tuple[bytes, int, str]  # token hash, room pk, session id


class TokenUseBuffer:
    """Token uses to record ("last used", member counts), written in one batch every few
    seconds so that a poll stays read-only. Bounded: past `limit` distinct tokens, further
    uses wait for the next flush. A crash loses one interval of uses, which only makes a
    token look unused a few seconds longer in a 7-day expiry."""

    def __init__(self, limit: int = 100_000) -> None:
        self._uses: dict[bytes, TokenUse] = {}
        self.limit = limit

    def add(self, token_hash: bytes, room_pk: int, session_id: str) -> None:
        if len(self._uses) < self.limit:
            self._uses[token_hash] = (token_hash, room_pk, session_id)

    def take(self) -> list[TokenUse]:
        # Swapping the dict is atomic under the GIL: a use added meanwhile lands in one of the
        # two dicts, never in neither.
        taken, self._uses = self._uses, {}
        return list(taken.values())


class TokenOwners:
    """The Session ID behind each recently used token, so that a post's signature can be
    checked before its write transaction (writers then hold SQLite's lock ~0.1 ms less).
    A token never changes owner, so an entry can be missing but never wrong; whether the
    token is still valid is decided in the transaction. Bounded: the oldest entries go
    first (~200 bytes each)."""

    def __init__(self, limit: int = 50_000) -> None:
        self._owners: dict[bytes, str] = {}
        self.limit = limit

    def get(self, token_hash: bytes) -> str | None:
        return self._owners.get(token_hash)

    def remember(self, token_hash: bytes, session_id: str) -> None:
        if len(self._owners) >= self.limit and self._owners.get(token_hash) is None:
            # Another thread may have evicted the same entry first.
            self._owners.pop(next(iter(self._owners), b""), None)
        self._owners.setdefault(token_hash, session_id)


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


def open_context(config: Config, *, background_checkpoints: bool = False) -> ServerContext:
    """Open (and on first use create) the data directory, key, database and files directory.

    Schema migrations run here, under a lock, so every entry point works on a current schema.
    `background_checkpoints`: see Database; only for a process that runs `jobs.checkpoints`.
    """
    config.data_path.mkdir(parents=True, exist_ok=True)
    keys = load_or_create_server_keys(config.key_path)
    db = Database(config.sqlalchemy_url, background_checkpoints=background_checkpoints)
    migrate(db)
    blobs = BlobStore(config.files_path)
    blobs.ensure()
    context = ServerContext(config=config, db=db, blobs=blobs, keys=keys)
    if config.create_main_room:
        create_main_room_once(context)
    return context


def create_main_room_once(context: ServerContext) -> None:
    """Room `main` on the first start of an empty database: later, deleting it is final."""
    room_id, name = MAIN_ROOM
    with context.db.write() as tx:
        created = rooms.create_first_room(tx, check_new_room_id(room_id), name, context.clock())
    if created:
        log.info("created room %r", room_id)
