"""one data model for the legacy and the modern API

Rooms get their seqno counter (SOGS-API.md 6.1), info_updates (1), a description and default
permissions; messages their seqnos, `posted` and `edited`; moderators and bans the fields of
the root-keyed identity model (4.4); users and nonces are new (3.5, 3.6); files get the name
given at upload and the message they are attached to (7.6); pinned messages are new (7.5).

Existing data, per room, so that every cursor a legacy client holds stays valid:
- base = the highest deletion id (deletion_seq, or a higher id in `deletions`);
- each message gets seqno = seqno_data = seqno_creation = base + server_id, and
  posted = timestamp / 1000;
- the room's seqno counter = base + its highest message id (message_seq), so the seqno of the
  next change, which a new deletion uses as its id, is above every deletion id handed out.
Message ids and deletion rows are unchanged; message ids keep coming from message_seq.
Existing grants and bans were given as 05 ids, which are roots: named_as = session_id.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # rooms is only ALTERed, never rebuilt: on SQLite a rebuild drops the table, and with it
    # (foreign keys on) every row of every room.
    op.add_column("rooms", sa.Column("seqno", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column(
        "rooms", sa.Column("info_updates", sa.BigInteger(), server_default="1", nullable=False)
    )
    op.add_column("rooms", sa.Column("description", sa.Text(), nullable=True))
    for permission in ("read", "accessible", "write", "upload"):
        op.add_column(
            "rooms",
            sa.Column(
                f"default_{permission}", sa.Boolean(), server_default=sa.true(), nullable=False
            ),
        )

    for name in ("seqno", "seqno_data", "seqno_creation"):
        op.add_column("messages", sa.Column(name, sa.BigInteger(), nullable=True))
    op.add_column(
        "messages",
        sa.Column("seqno_reactions", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.add_column("messages", sa.Column("posted", sa.Float(), nullable=True))
    op.add_column("messages", sa.Column("edited", sa.Float(), nullable=True))

    for table, visible in (("moderators", sa.true()), ("global_moderators", sa.false())):
        op.add_column(
            table, sa.Column("admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        op.add_column(
            table, sa.Column("visible", sa.Boolean(), server_default=visible, nullable=False)
        )
        op.add_column(table, sa.Column("named_as", sa.String(length=66), nullable=True))
    op.add_column("bans", sa.Column("expires_at", sa.Float(), nullable=True))
    op.add_column("bans", sa.Column("named_as", sa.String(length=66), nullable=True))

    _fill_existing_rows()

    with op.batch_alter_table("messages", schema=None) as batch_op:
        for name in ("seqno", "seqno_data", "seqno_creation"):
            batch_op.alter_column(name, existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("posted", existing_type=sa.Float(), nullable=False)
        batch_op.create_index("ix_messages_seqno", ["room_pk", "seqno"], unique=False)
    for table in ("moderators", "global_moderators", "bans"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("named_as", existing_type=sa.String(length=66), nullable=False)

    op.create_table(
        "users",
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("last_active", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("session_id"),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_root", ["root"], unique=False)
    op.create_table(
        "nonces",
        sa.Column("key", sa.String(length=66), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=16), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", "nonce"),
    )
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.create_index("ix_nonces_expiry", ["expires_at"], unique=False)
    op.create_table(
        "direct_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("sender", sa.String(length=66), nullable=False),
        sa.Column("recipient", sa.String(length=66), nullable=False),
        sa.Column("posted_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("message", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("direct_messages", schema=None) as batch_op:
        batch_op.create_index("ix_direct_messages_recipient", ["recipient", "id"], unique=False)
        batch_op.create_index("ix_direct_messages_sender", ["sender", "id"], unique=False)
        batch_op.create_index("ix_direct_messages_expiry", ["expires_at"], unique=False)
    op.create_table(
        "reactions",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("reaction", sa.String(length=128), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("seqno", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "message_id", "reaction", "session_id"),
    )
    with op.batch_alter_table("reactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reactions_order", ["room_pk", "message_id", "seqno"], unique=False
        )
    op.create_table(
        "permission_overrides",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("named_as", sa.String(length=66), nullable=False),
        sa.Column("read", sa.Boolean(), nullable=True),
        sa.Column("accessible", sa.Boolean(), nullable=True),
        sa.Column("write", sa.Boolean(), nullable=True),
        sa.Column("upload", sa.Boolean(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "session_id"),
    )
    with op.batch_alter_table("permission_overrides", schema=None) as batch_op:
        batch_op.create_index("ix_permission_overrides_expiry", ["expires_at"], unique=False)
    op.create_table(
        "global_bans",
        sa.Column("session_id", sa.String(length=66), nullable=False),
        sa.Column("named_as", sa.String(length=66), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.add_column("files", sa.Column("filename", sa.Text(), nullable=True))
    op.add_column("files", sa.Column("message_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index("ix_files_message", ["room_pk", "message_id"], unique=False)
    op.create_table(
        "pinned_messages",
        sa.Column("room_pk", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("pinned_at", sa.Float(), nullable=False),
        sa.Column("pinned_by", sa.String(length=66), nullable=False),
        sa.ForeignKeyConstraint(["room_pk"], ["rooms.pk"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_pk", "message_id"),
    )


def _fill_existing_rows() -> None:
    """The rules of the module docstring, room by room (rooms are few; messages are updated
    by one statement per room)."""
    bind = op.get_bind()
    rooms = bind.execute(
        sa.text(
            "SELECT r.pk, r.message_seq, r.deletion_seq,"
            " (SELECT max(d.id) FROM deletions d WHERE d.room_pk = r.pk),"
            " (SELECT max(m.server_id) FROM messages m WHERE m.room_pk = r.pk)"
            " FROM rooms r"
        )
    ).all()
    for pk, message_seq, deletion_seq, last_deletion, last_message in rooms:
        base = max(int(deletion_seq), int(last_deletion or 0))
        top = max(int(message_seq), int(last_message or 0))
        bind.execute(
            sa.text("UPDATE rooms SET seqno = :seqno, deletion_seq = :base WHERE pk = :pk"),
            {"seqno": base + top, "base": base, "pk": pk},
        )
        bind.execute(
            sa.text(
                "UPDATE messages SET seqno = server_id + :base, seqno_data = server_id + :base,"
                " seqno_creation = server_id + :base, posted = timestamp / 1000.0"
                " WHERE room_pk = :pk"
            ),
            {"base": base, "pk": pk},
        )
    for table in ("moderators", "global_moderators", "bans"):
        bind.execute(sa.text(f"UPDATE {table} SET named_as = session_id"))


def downgrade() -> None:
    op.drop_table("pinned_messages")
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_message")
    # Not batch: a rebuild of files would drop it (see upgrade); SQLite drops columns in place.
    op.drop_column("files", "message_id")
    op.drop_column("files", "filename")
    op.drop_table("global_bans")
    op.drop_table("permission_overrides")
    op.drop_table("reactions")
    op.drop_table("direct_messages")
    with op.batch_alter_table("nonces", schema=None) as batch_op:
        batch_op.drop_index("ix_nonces_expiry")
    op.drop_table("nonces")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_root")
    op.drop_table("users")
    with op.batch_alter_table("bans", schema=None) as batch_op:
        batch_op.drop_column("named_as")
        batch_op.drop_column("expires_at")
    for table in ("global_moderators", "moderators"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("named_as")
            batch_op.drop_column("visible")
            batch_op.drop_column("admin")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_seqno")
        for name in ("edited", "posted", "seqno_creation", "seqno_reactions", "seqno_data"):
            batch_op.drop_column(name)
        batch_op.drop_column("seqno")
    # Deletions made after the upgrade have seqno ids: deletion_seq (their newest) stays
    # above them, so the legacy counter goes on from there.
    # Not batch: see upgrade (SQLite >= 3.35 drops a column in place).
    for name in (
        "default_upload",
        "default_write",
        "default_accessible",
        "default_read",
        "description",
        "info_updates",
        "seqno",
    ):
        op.drop_column("rooms", name)
