"""Per-process memory about auth tokens and signers that saves database work on the hot path;
losing it costs speed, never correctness."""

from __future__ import annotations

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


class ActivityBuffer:
    """Who read which room through the modern API (room pk, root id), written with the token
    uses every few seconds so that a poll needs no write (SOGS-API.md 6.1 allows activity to
    be recorded late). Bounded like TokenUseBuffer."""

    def __init__(self, limit: int = 100_000) -> None:
        self._seen: set[tuple[int, str]] = set()
        self.limit = limit

    def add(self, room_pk: int, root: str) -> None:
        if len(self._seen) < self.limit:
            self._seen.add((room_pk, root))

    def take(self) -> list[tuple[int, str]]:
        taken, self._seen = self._seen, set()
        return sorted(taken)


class SignerActivity:
    """Modern signers' `last_active` (SOGS-API.md 3.6), recorded late like the rest of the
    activity: a signer's first request in this process upserts its `users` row in its own
    transaction (creating it if new); later ones only note the time here, and the flush with
    the token uses writes the latest of each. A poll's write transaction is then the nonce
    alone. Bounded: past `limit` known signers the oldest is forgotten (its next request
    upserts again), past `limit` pending times further ones wait for the next flush."""

    def __init__(self, limit: int = 100_000) -> None:
        self._known: dict[str, None] = {}
        self._pending: dict[str, float] = {}
        self.limit = limit

    def row_known(self, session_id: str) -> bool:
        """Whether this process has written the signer's row (it exists, never deleted)."""
        return session_id in self._known

    def row_written(self, session_id: str) -> None:
        """After the transaction that upserted the row has committed."""
        if len(self._known) >= self.limit and session_id not in self._known:
            # Another thread may have evicted the same entry first.
            self._known.pop(next(iter(self._known), ""), None)
        self._known[session_id] = None

    def seen(self, session_id: str, now: float) -> None:
        if len(self._pending) < self.limit or session_id in self._pending:
            self._pending[session_id] = now

    def take(self) -> list[tuple[str, float]]:
        taken, self._pending = self._pending, {}
        return sorted(taken.items())
