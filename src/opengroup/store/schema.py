"""Every table, declared once. Migrations under migrations/ create exactly this."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    true,
)

metadata = MetaData()


def _room_fk() -> ForeignKey:
    """Rows belong to a room and go with it."""
    return ForeignKey("rooms.pk", ondelete="CASCADE")


rooms = Table(
    "rooms",
    metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("name", Text, nullable=False),
    Column("image_id", BigInteger, nullable=True),
    # Per-room counters: ids are taken from them under the room row's write lock, in the
    # transaction that inserts, so ids commit in increasing order within a room.
    Column("message_seq", BigInteger, nullable=False, server_default="0"),
    # deletion_seq: the newest deletion id (compact_poll skips the deletions query at it).
    # Since 0002 a deletion's id is the seqno it took, so this follows `seqno`, not a count.
    Column("deletion_seq", BigInteger, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    # SOGS-API.md 6.1: `message_sequence`, the seqno of the room's newest change to a message
    # (post, edit, deletion, reaction); taken under the same lock as the ids above.
    Column("seqno", BigInteger, nullable=False, server_default="0"),
    # The version of the room's metadata; never 0 (Desktop polls with pollInfo/0).
    Column("info_updates", BigInteger, nullable=False, server_default="1"),
    Column("description", Text, nullable=True),
    Column("default_read", Boolean, nullable=False, server_default=true()),
    Column("default_accessible", Boolean, nullable=False, server_default=true()),
    Column("default_write", Boolean, nullable=False, server_default=true()),
    Column("default_upload", Boolean, nullable=False, server_default=true()),
)


messages = Table(
    "messages",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("server_id", BigInteger, primary_key=True, autoincrement=False),
    Column("session_id", String(66), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("data", Text, nullable=False),
    Column("signature", Text, nullable=False),
    Column("deleted", Boolean, nullable=False, server_default=false()),
    # Seqnos (SOGS-API.md 6.1): seqno = max(seqno_data, seqno_reactions), kept by the writers.
    Column("seqno", BigInteger, nullable=False),
    Column("seqno_data", BigInteger, nullable=False),
    Column("seqno_reactions", BigInteger, nullable=False, server_default="0"),
    Column("seqno_creation", BigInteger, nullable=False),
    # Float seconds; `timestamp` above is the legacy value, floor(posted * 1000).
    Column("posted", Float, nullable=False),
    Column("edited", Float, nullable=True),  # last edit, or the deletion
    Index("ix_messages_sender", "room_pk", "session_id", "timestamp"),
    Index("ix_messages_seqno", "room_pk", "seqno"),
)

deletions = Table(
    "deletions",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, nullable=False),
)

# Moderators and bans are keyed by the user's ROOT 05 id (SOGS-API.md 4.4), in `session_id`:
# a grant or ban given as a 05 or a 15 id holds for both. `named_as` is the id it was given
# with, which replies may show (a root computed from a 15 id is never shown).
moderators = Table(
    "moderators",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
    Column("admin", Boolean, nullable=False, server_default=false()),
    Column("visible", Boolean, nullable=False, server_default=true()),
    Column("named_as", String(66), nullable=False),
)

global_moderators = Table(
    "global_moderators",
    metadata,
    Column("session_id", String(66), primary_key=True),
    Column("admin", Boolean, nullable=False, server_default=false()),
    Column("visible", Boolean, nullable=False, server_default=false()),
    Column("named_as", String(66), nullable=False),
)

bans = Table(
    "bans",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
    Column("expires_at", Float, nullable=True),  # None: until lifted
    Column("named_as", String(66), nullable=False),
)

# Emoji reactions (SOGS-API.md 7.4): one row per (message, emoji, reactor id as signed). `seqno`
# is the room seqno the reaction took: it orders reactors and each emoji's first use.
reactions = Table(
    "reactions",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("reaction", String(128), primary_key=True),
    Column("session_id", String(66), primary_key=True),
    Column("seqno", BigInteger, nullable=False),
    Column("at", Float, nullable=False),
    Index("ix_reactions_order", "room_pk", "message_id", "seqno"),
)

# Per-user permission overrides in a room (SOGS-API.md 3.7, 7.10), by root id: each of
# read/accessible/write/upload is True, False, or None (the room's default); `expires_at`
# ends the override (the prune job removes it; until then it holds).
permission_overrides = Table(
    "permission_overrides",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
    Column("named_as", String(66), nullable=False),
    Column("read", Boolean, nullable=True),
    Column("accessible", Boolean, nullable=True),
    Column("write", Boolean, nullable=True),
    Column("upload", Boolean, nullable=True),
    Column("expires_at", Float, nullable=True),
    Index("ix_permission_overrides_expiry", "expires_at"),
)

# Banned from the whole server (SOGS-API.md 3.4 row 10, 7.7), by root id.
global_bans = Table(
    "global_bans",
    metadata,
    Column("session_id", String(66), primary_key=True),
    Column("named_as", String(66), nullable=False),
    Column("expires_at", Float, nullable=True),  # None: until lifted
)

# Who has authenticated with a signed request (SOGS-API.md 3.6): the id used (05 or 15) and
# its root 05 id, computed once.
users = Table(
    "users",
    metadata,
    Column("session_id", String(66), primary_key=True),
    Column("root", String(66), nullable=False),
    Column("created", Float, nullable=False),
    Column("last_active", Float, nullable=False),
    Index("ix_users_root", "root"),
)

# Request nonces already used (SOGS-API.md 3.5), per user (`key`: the id that signed), until
# `expires_at`. The primary key makes recording one atomic: of two copies, one inserts.
# Onion requests of the legacy API that changed something: SHA-256 (first 16 bytes) of the
# envelope's symmetric key and nonce, so that the same envelope sent again is refused.
onion_envelopes = Table(
    "onion_envelopes",
    metadata,
    Column("id", LargeBinary(16), primary_key=True),
    Column("seen_at", Float, nullable=False),
    Index("ix_onion_envelopes_seen", "seen_at"),
    sqlite_with_rowid=False,  # one B-tree for the key and the row
)

nonces = Table(
    "nonces",
    metadata,
    Column("key", String(66), primary_key=True),
    Column("nonce", LargeBinary(16), primary_key=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_nonces_expiry", "expires_at"),
)

# Direct messages between blinded ids (SOGS-API.md 7.9): opaque blobs, kept until they
# expire. Ids come from the server-wide counter `dm_seq` in server_meta (direct_messages.py).
direct_messages = Table(
    "direct_messages",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("sender", String(66), nullable=False),
    Column("recipient", String(66), nullable=False),
    Column("posted_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("message", LargeBinary, nullable=False),
    Index("ix_direct_messages_recipient", "recipient", "id"),
    Index("ix_direct_messages_sender", "sender", "id"),
    Index("ix_direct_messages_expiry", "expires_at"),
)

tokens = Table(
    "tokens",
    metadata,
    # SHA-256 of the token: a copy of the database yields no usable token.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("room_pk", Integer, _room_fk(), nullable=False),
    Column("session_id", String(66), nullable=False),
    Column("claimed", Boolean, nullable=False, server_default=false()),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=False),
    Index("ix_tokens_user", "room_pk", "session_id"),
    Index("ix_tokens_last_used", "claimed", "last_used_at"),
)

user_activity = Table(
    "user_activity",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
    Column("last_active", Float, nullable=False),
    Index("ix_user_activity_recent", "room_pk", "last_active"),
)

files = Table(
    "files",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("room_pk", Integer, _room_fk(), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("uploader", String(66), nullable=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),
    # The name given at upload (modern API, Content-Disposition); never used on disk.
    Column("filename", Text, nullable=True),
    # The message that lists it (SOGS-API.md 7.3 `files`); None: not attached.
    Column("message_id", BigInteger, nullable=True),
    Index("ix_files_room", "room_pk"),
    Index("ix_files_expiry", "expires_at"),
    Index("ix_files_uploads", "room_pk", "uploader", "created_at"),
    Index("ix_files_message", "room_pk", "message_id"),
)

# Pinned messages (SOGS-API.md 7.5), shown oldest pin first; a re-pin moves to the end.
pinned_messages = Table(
    "pinned_messages",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("message_id", BigInteger, primary_key=True, autoincrement=False),
    Column("pinned_at", Float, nullable=False),
    Column("pinned_by", String(66), nullable=False),
)

# Facts about this server's database, e.g. whether first-start set-up has run.
server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
