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
    Column("deletion_seq", BigInteger, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
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
    Index("ix_messages_sender", "room_pk", "session_id", "timestamp"),
)

deletions = Table(
    "deletions",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("message_id", BigInteger, nullable=False),
)

moderators = Table(
    "moderators",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
)

global_moderators = Table(
    "global_moderators",
    metadata,
    Column("session_id", String(66), primary_key=True),
)

bans = Table(
    "bans",
    metadata,
    Column("room_pk", Integer, _room_fk(), primary_key=True),
    Column("session_id", String(66), primary_key=True),
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
    Index("ix_files_room", "room_pk"),
    Index("ix_files_expiry", "expires_at"),
    Index("ix_files_uploads", "room_pk", "uploader", "created_at"),
)

# Facts about this server's database, e.g. whether first-start set-up has run.
server_meta = Table(
    "server_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
