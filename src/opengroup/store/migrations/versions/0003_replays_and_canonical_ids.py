"""onion envelopes seen (replay protection); report non-canonical Session IDs

`onion_envelopes` remembers the legacy onion requests that changed something, so that the same
envelope sent again is refused (transport/pipeline.py).

A Session ID (05) whose X25519 key has bit 255 set answers to the same private key as the id
with it clear: such ids are refused everywhere now (rules/ids.py). Rows that already hold one
are reported here, one warning per table, and left alone: the operator decides (e.g.
`opengroup bans add` with the canonical id).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

log = logging.getLogger("opengroup.migrations")

# Columns that hold Session IDs as clients or operators named them.
ID_COLUMNS = {
    "tokens": ("session_id",),
    "user_activity": ("session_id",),
    "messages": ("session_id",),
    "moderators": ("session_id", "named_as"),
    "global_moderators": ("session_id", "named_as"),
    "bans": ("session_id", "named_as"),
    "global_bans": ("session_id", "named_as"),
    "users": ("session_id", "root"),
    "files": ("uploader",),
    "permission_overrides": ("session_id",),
}
TOP_BIT_SET = "('8', '9', 'a', 'b', 'c', 'd', 'e', 'f')"


def non_canonical_ids(connection: sa.Connection, table: str, column: str) -> list[str]:
    """05 ids of `table.column` whose last byte (hex digits 65-66) has its top bit set."""
    query = sa.text(
        f"SELECT DISTINCT {column} FROM {table} WHERE substr({column}, 1, 2) = '05' "
        f"AND length({column}) = 66 AND lower(substr({column}, 65, 1)) IN {TOP_BIT_SET}"
    )
    return [row[0] for row in connection.execute(query)]


def report_non_canonical_ids(connection: sa.Connection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    tables = set(sa.inspect(connection).get_table_names())
    for table, columns in ID_COLUMNS.items():
        if table not in tables:
            continue
        ids = sorted(
            {i for column in columns for i in non_canonical_ids(connection, table, column)}
        )
        if ids:
            found[table] = ids
            shown = ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")
            log.warning(
                "%s holds %d Session IDs with bit 255 set (non-canonical; refused from now on, "
                "the same person as the id with it clear): %s",
                table, len(ids), shown,
            )  # fmt: skip
    return found


def upgrade() -> None:
    op.create_table(
        "onion_envelopes",
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("onion_envelopes", schema=None) as batch_op:
        batch_op.create_index("ix_onion_envelopes_seen", ["seen_at"], unique=False)
    report_non_canonical_ids(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("onion_envelopes", schema=None) as batch_op:
        batch_op.drop_index("ix_onion_envelopes_seen")
    op.drop_table("onion_envelopes")
