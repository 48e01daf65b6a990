"""Direct messages between blinded ids (SOGS-API.md 7.9): send, read inbox and outbox, clear
the inbox. The server stores opaque blobs; it never decrypts them."""

from __future__ import annotations

from opengroup.errors import NotFound, RateLimited, TooLarge
from opengroup.store import direct_messages as dm_store
from opengroup.store import moderation as moderation_store
from opengroup.store import users as user_store
from opengroup.store.direct_messages import DirectMessage as DirectMessage
from opengroup.usecases.context import DAY, ServerContext
from opengroup.usecases.identity import SignedUser
from opengroup.usecases.room_access import require_blinded, require_user

# DirectMessage is what these use cases return: imported as itself (exported), so the API
# shapes it without importing the store.

NO_RECIPIENT = "no such user"


def send(
    ctx: ServerContext, user: SignedUser | None, recipient: str, message: bytes
) -> DirectMessage:
    """From any signed user to a 15 id that has used this server and is not banned from it."""
    sender = require_user(user)
    config = ctx.config
    if len(message) > config.dm_max_size:
        raise TooLarge(f"a direct message is at most {config.dm_max_size} bytes")
    now = ctx.clock()
    with ctx.db.write() as tx:
        known = user_store.get_user(tx, recipient)
        if known is None or moderation_store.is_globally_banned(tx, known.root):
            raise NotFound(NO_RECIPIENT)
        window_start = now - config.dm_rate_limit_seconds
        if dm_store.count_sent_since(tx, sender.session_id, window_start) >= (
            config.dm_rate_limit_messages
        ):
            raise RateLimited("too many direct messages; try again later")
        expires = now + config.dm_expiry_days * DAY
        return dm_store.insert(tx, sender.session_id, recipient, message, now, expires)


def box(
    ctx: ServerContext, user: SignedUser | None, which: str, after: int, limit: int
) -> list[DirectMessage]:
    reader = require_blinded(user)
    with ctx.db.read_raw() as tx:
        return dm_store.box(tx, which, reader.session_id, after, limit, ctx.clock())


def clear_inbox(ctx: ServerContext, user: SignedUser | None) -> int:
    reader = require_blinded(user)
    with ctx.db.write() as tx:
        return dm_store.clear_inbox(tx, reader.session_id)
