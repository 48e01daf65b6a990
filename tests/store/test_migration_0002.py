"""Migration 0002 on a database the 0001 schema holds data in: message ids stay, every cursor a
legacy client holds stays valid (a new deletion's id, its seqno, is above every old deletion
id), and the migrated schema is exactly the declared one."""

from __future__ import annotations

import math

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from opengroup.store import Database, message_rows
from opengroup.store import messages as message_store
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store.migrate import current_revision, head_revision, migrate
from opengroup.store.schema import metadata

from .helpers import NOW, USER

OTHER = "05" + "cd" * 32
BASE_MS = 1_700_000_000_123


def legacy_database(url: str) -> Database:
    """A database at revision 0001, as the last legacy-only release left it:
    - lounge: messages 1..6 (2 and 4 deleted), deletions 1->2, 2->4, 3->4 (a Rust-era
      double), counters message_seq 6, deletion_seq 3;
    - empty: nothing yet;
    - odd: a deletion row above its deletion_seq (5 > 2), message_seq above its messages."""
    db = Database(url)
    migrate(db, to="0001")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO rooms (pk, id, name, message_seq, deletion_seq, created_at) VALUES"
                " (1, 'lounge', 'Lounge', 6, 3, :now), (2, 'empty', 'Empty', 0, 0, :now),"
                " (3, 'odd', 'Odd', 9, 2, :now)"
            ),
            {"now": NOW},
        )
        for room_pk, server_id, deleted in [(1, i, i in (2, 4)) for i in range(1, 7)] + [
            (3, 1, False)
        ]:
            conn.execute(
                text(
                    "INSERT INTO messages (room_pk, server_id, session_id, timestamp, data,"
                    " signature, deleted) VALUES (:pk, :id, :sender, :ts, :data, :sig, :deleted)"
                ),
                {
                    "pk": room_pk,
                    "id": server_id,
                    "sender": USER,
                    "ts": BASE_MS + 1001 * server_id,
                    "data": "" if deleted else f"ZGF0YS{server_id}=",
                    "sig": "" if deleted else "c2ln",
                    "deleted": deleted,
                },
            )
        conn.execute(
            text(
                "INSERT INTO deletions (room_pk, id, message_id) VALUES"
                " (1, 1, 2), (1, 2, 4), (1, 3, 4), (3, 5, 77)"
            )
        )
        conn.execute(
            text("INSERT INTO moderators (room_pk, session_id) VALUES (1, :u)"), {"u": USER}
        )
        conn.execute(text("INSERT INTO global_moderators (session_id) VALUES (:u)"), {"u": OTHER})
        conn.execute(text("INSERT INTO bans (room_pk, session_id) VALUES (1, :u)"), {"u": OTHER})
    return db


def test_migration_keeps_ids_and_cursors_and_gives_seqnos(db_url: str) -> None:
    db = legacy_database(db_url)
    migrate(db)
    with db.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []

    with db.read() as tx:
        lounge, empty, odd = (room_store.get_room_info(tx, r) for r in ("lounge", "empty", "odd"))
        assert lounge is not None and empty is not None and odd is not None
        # counter := highest deletion id + highest message id
        assert (lounge.seqno, empty.seqno, odd.seqno) == (3 + 6, 0, 5 + 9)
        for info in (lounge, empty, odd):
            assert info.info_updates == 1
            assert info.description is None
            assert (info.default_read, info.default_accessible) == (True, True)
            assert (info.default_write, info.default_upload) == (True, True)

        # Legacy reads: the same ids, data and timestamps; the old deletion cursors.
        legacy = message_store.get_messages(tx, lounge.room, 0, 256)
        assert [m.server_id for m in legacy] == [1, 3, 5, 6]
        assert [m.timestamp for m in legacy] == [BASE_MS + 1001 * i for i in (1, 3, 5, 6)]
        assert legacy[0].data == "ZGF0YS1="
        deletions = message_store.get_deletions(tx, lounge.room, 1, 256)
        assert [(d.id, d.message_id) for d in deletions] == [(2, 4), (3, 4)]

        # Each message: seqno = seqno_data = seqno_creation = base + id; posted from ms.
        for message_id in range(1, 7):
            row = message_rows.get_message(tx, lounge.room, message_id, include_deleted=True)
            assert row is not None
            assert row.seqno == row.seqno_data == row.seqno_creation == 3 + message_id
            assert row.seqno_reactions == 0
            assert math.floor(row.posted * 1000) == BASE_MS + 1001 * message_id
            assert row.deleted == (message_id in (2, 4))
        odd_row = message_rows.get_message(tx, odd.room, 1)
        assert odd_row is not None and odd_row.seqno == 5 + 1

        # Modern reads: the live messages; no tombstone for deletions made before any seqno.
        assert [r.id for r in message_rows.messages_since(tx, lounge.room, 0, 100,
                                                          include_reaction_only=True)] == [
            1,
            3,
            5,
            6,
        ]  # fmt: skip
        assert [r.id for r in message_rows.recent(tx, lounge.room, 100)] == [6, 5, 3, 1]

        # Grants and bans were given as 05 ids: their own roots and names.
        grants = moderation_store.list_moderators(tx, lounge.room)
        assert [(g.root, g.named_as, g.admin, g.visible, g.global_moderator) for g in grants] == [
            (USER, USER, False, True, False),
            (OTHER, OTHER, False, False, True),
        ]
        bans = moderation_store.list_bans(tx, lounge.room)
        assert [(b.root, b.named_as, b.expires_at) for b in bans] == [(OTHER, OTHER, None)]

    # New changes continue above every old id: message ids from message_seq, deletion ids
    # from the seqno counter, above every deletion id a client may hold.
    with db.write() as tx:
        posted = message_store.insert_message(tx, lounge.room, USER, BASE_MS + 9999, "bmV3", "c2ln")
        assert posted.server_id == 7
        made = message_store.delete_messages(tx, lounge.room, [1, 7], NOW)
        assert [(d.id, d.message_id) for d in made] == [(11, 1), (12, 7)]
        odd_deletion = message_store.delete_messages(tx, odd.room, [1], NOW)
        assert [d.id for d in odd_deletion] == [15]
        lounge_now = room_store.get_room_info(tx, "lounge")
        assert lounge_now is not None and lounge_now.seqno == 12
    with db.read() as tx:
        for cursor in (0, 1, 2, 3):  # any cursor a legacy client had still sees the new ones
            ids = [d.id for d in message_store.get_deletions(tx, lounge.room, cursor, 256)]
            assert ids[-2:] == [11, 12]
            assert ids == sorted(ids)
    db.dispose()


def test_migrating_an_empty_0001_database_and_creating_a_room(db_url: str) -> None:
    db = Database(db_url)
    migrate(db, to="0001")
    migrate(db)
    with db.write() as tx:
        room = room_store.create_room(tx, "fresh", "Fresh", NOW)
        info = room_store.get_room_info(tx, "fresh")
        assert info is not None and (info.seqno, info.info_updates) == (0, 1)
        assert info.created == NOW and info.room == room
    db.dispose()
