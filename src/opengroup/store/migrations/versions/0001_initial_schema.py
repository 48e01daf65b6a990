"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 23:40:38.801656
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "global_moderators",
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "rooms",
        sa.Column("pk", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("image_id", sa.BigInteger(), nullable=True),
        sa.Column("message_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deletion_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("pk"),
        sa.UniqueConstraint("id"),
    )
    op.create_table(
        "server_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "bans",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "session_id"),
    )
    op.create_table(
        "deletions",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "id"),
    )
    op.create_table(
        "files",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploader", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index("ix_files_expiry", ["expires_at"], unique=False)
        batch_op.create_index("ix_files_room", ["room_pk"], unique=False)
        batch_op.create_index(
            "ix_files_uploads", ["room_pk", "uploader", "created_at"], unique=False
        )

    op.create_table(
        "messages",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "server_id"),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_sender", ["room_pk", "session_id", "timestamp"], unique=False
        )

    op.create_table(
        "moderators",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "session_id"),
    )
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("claimed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_used_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.create_index("ix_tokens_last_used", ["claimed", "last_used_at"], unique=False)
        batch_op.create_index("ix_tokens_user", ["room_pk", "session_id"], unique=False)

    op.create_table(
        "user_activity",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("last_active", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "session_id"),
    )
    with op.batch_alter_table("user_activity", schema=None) as batch_op:
        batch_op.create_index("ix_user_activity_recent", ["room_pk", "last_active"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("user_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_user_activity_recent")

    op.drop_table("user_activity")
    with op.batch_alter_table("tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_tokens_user")
        batch_op.drop_index("ix_tokens_last_used")

    op.drop_table("tokens")
    op.drop_table("moderators")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_sender")

    op.drop_table("messages")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_uploads")
        batch_op.drop_index("ix_files_room")
        batch_op.drop_index("ix_files_expiry")

    op.drop_table("files")
    op.drop_table("deletions")
    op.drop_table("bans")
    op.drop_table("server_meta")
    op.drop_table("rooms")
    op.drop_table("global_moderators")
