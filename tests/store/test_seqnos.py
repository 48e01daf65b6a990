"""The room's seqno counter (SOGS-API.md 6.1) and the modern selections over it (7.3), and the
two APIs' views of one set of messages (1.2)."""

from __future__ import annotations

import base64
import math

from opengroup.store import Database, counters, message_rows
from opengroup.store import messages as message_store
from opengroup.store import rooms as room_store
from opengroup.store.database import as_raw
from opengroup.store.rooms import Room
from opengroup.store.statements import Statement

from .helpers import NOW, USER, make_room, open_database

BLINDED = "15" + "ef" * 32
SIG = b"\x05" * 64
_MARK = Statement(
    "UPDATE messages SET seqno_reactions = :seqno, seqno = :seqno "
    "WHERE room_pk = :room_pk AND server_id = :message_id"
)


def seqno_of(db: Database, room: Room) -> int:
    with db.read() as tx:
        info = room_store.get_room_info(tx, room.id)
    assert info is not None
    return info.seqno


def since(db: Database, room: Room, seqno: int, *, reactions: bool = False) -> list[tuple]:
    with db.read() as tx:
        rows = message_rows.messages_since(tx, room, seqno, 100, include_reaction_only=reactions)
    return [(r.id, r.seqno, r.deleted) for r in rows]


def react(db: Database, room: Room, message_id: int) -> int:
    """Stands in for a reaction (no reaction store yet): one seqno, in seqno_reactions."""
    with db.write() as tx:
        rtx = as_raw(tx)
        (seqno,) = counters.take_seqnos(rtx, room, 1)
        rtx.run(_MARK, (seqno, room.pk, message_id))
    return seqno


def test_post_edit_and_delete_each_take_one_seqno(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.write() as tx:
        posts = [
            message_rows.insert_post(tx, room, BLINDED, NOW + i, b"m%d" % i, SIG) for i in range(3)
        ]
    assert [(p.id, p.seqno, p.seqno_creation) for p in posts] == [(1, 1, 1), (2, 2, 2), (3, 3, 3)]
    assert posts[0].data == base64.b64encode(b"m0").decode() and posts[0].edited is None
    with db.write() as tx:
        edited = message_rows.edit_message(tx, room, 1, b"new", SIG, NOW + 10)
        gone = message_store.delete_messages(tx, room, [2], NOW + 11)
    assert edited is not None and (edited.seqno, edited.seqno_data, edited.seqno_creation) == (
        4,
        4,
        1,
    )
    assert [(d.id, d.message_id) for d in gone] == [(5, 2)]
    assert seqno_of(db, room) == 5
    with db.read() as tx:
        one = message_rows.get_message(tx, room, 1)
        two = message_rows.get_message(tx, room, 2, include_deleted=True)
        assert message_rows.get_message(tx, room, 2) is None
        assert message_rows.get_message(tx, room, 99) is None
    assert one is not None and (one.data, one.edited, one.seqno) == ("bmV3", NOW + 10, 4)
    assert one.posted == NOW and one.session_id == BLINDED
    assert two is not None and two.deleted and two.data is None and two.signature is None
    assert (two.seqno, two.seqno_data, two.seqno_creation, two.edited) == (5, 5, 2, NOW + 11)

    # Nothing to change takes no seqno: an edit of a deleted or unknown message, a deletion
    # of a deleted one.
    with db.write() as tx:
        assert message_rows.edit_message(tx, room, 2, b"x", SIG, NOW) is None
        assert message_rows.edit_message(tx, room, 99, b"x", SIG, NOW) is None
        assert message_store.delete_messages(tx, room, [2, 99], NOW) == []
    assert seqno_of(db, room) == 5

    # A batch takes one seqno per message, in id order; each is that deletion's id.
    with db.write() as tx:
        batch = message_store.delete_messages(tx, room, [3, 1, 3], NOW + 12)
    assert [(d.id, d.message_id) for d in batch] == [(6, 1), (7, 3)]
    assert seqno_of(db, room) == 7
    db.dispose()


def test_since_recent_and_before_select_as_the_spec_says(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.write() as tx:
        for i in range(1, 7):  # ids and seqnos 1..6
            message_rows.insert_post(tx, room, BLINDED, NOW + i, b"m%d" % i, SIG)
        message_rows.edit_message(tx, room, 1, b"again", SIG, NOW + 7)  # 1 -> seqno 7
        message_store.delete_messages(tx, room, [2], NOW + 8)  # 2 -> 8
        message_store.delete_messages(tx, room, [6], NOW + 9)  # 6 -> 9
    assert react(db, room, 3) == 10  # 3: seqno 10, seqno_data still 3

    assert since(db, room, 0, reactions=True) == [
        (4, 4, False),
        (5, 5, False),
        (1, 7, False),
        (3, 10, False),
    ]
    # A deleted message created after S never was the client's: no tombstone (2 and 6).
    # One created at or before S that the client had: a deleted row.
    assert since(db, room, 2, reactions=True) == [
        (4, 4, False),
        (5, 5, False),
        (1, 7, False),
        (2, 8, True),
        (3, 10, False),
    ]
    assert since(db, room, 6, reactions=True) == [
        (1, 7, False),
        (2, 8, True),
        (6, 9, True),
        (3, 10, False),
    ]
    # Without t=r: a message whose only change after S is a reaction is left out.
    assert since(db, room, 6) == [(1, 7, False), (2, 8, True), (6, 9, True)]
    # 3 was posted after S = 2: a full row, reaction or not.
    assert since(db, room, 2) == since(db, room, 2, reactions=True)
    assert since(db, room, 10, reactions=True) == []
    with db.read() as tx:
        limited = message_rows.messages_since(tx, room, 0, 2, include_reaction_only=True)
        assert [r.seqno for r in limited] == [4, 5]
        reacted = message_rows.messages_since(tx, room, 9, 10, include_reaction_only=True)
        assert reacted[0].seqno_data == 3 and reacted[0].seqno_reactions == 10  # reaction-only

        # Newest first by id, never deleted.
        assert [r.id for r in message_rows.recent(tx, room, 100)] == [5, 4, 3, 1]
        assert [r.id for r in message_rows.recent(tx, room, 2)] == [5, 4]
        assert [r.id for r in message_rows.before(tx, room, 5, 100)] == [4, 3, 1]
        assert [r.id for r in message_rows.before(tx, room, 4, 1)] == [3]
        assert message_rows.before(tx, room, 1, 100) == []
    db.dispose()


def test_a_legacy_post_is_a_modern_row_and_a_modern_post_a_legacy_message(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    posted = 1_800_000_123.4567
    with db.write() as tx:
        legacy = message_store.insert_message(tx, room, USER, 1_800_000_000_123, "bGVnYWN5", "c2ln")
        modern = message_rows.insert_post(tx, room, BLINDED, posted, b"modern", SIG)
    assert (legacy.server_id, modern.id, modern.seqno) == (1, 2, 2)

    with db.read() as tx:
        rows = message_rows.messages_since(tx, room, 0, 100, include_reaction_only=False)
        old = message_store.get_messages(tx, room, 0, 256)
        newest = message_store.get_messages(tx, room, None, 256)
    assert [(r.id, r.session_id, r.data) for r in rows] == [
        (1, USER, "bGVnYWN5"),
        (2, BLINDED, base64.b64encode(b"modern").decode()),
    ]
    assert math.floor(rows[0].posted * 1000) == 1_800_000_000_123
    assert [(m.server_id, m.session_id) for m in old] == [(1, USER), (2, BLINDED)]
    assert old[1].timestamp == math.floor(posted * 1000)
    assert old[1].data == base64.b64encode(b"modern").decode()
    assert old[1].signature == base64.b64encode(SIG).decode()
    assert [m.server_id for m in newest] == [2, 1]

    # A deletion by either API is one in both: a legacy deletion object whose id is the
    # seqno, and a deleted row for a client that had the message.
    with db.write() as tx:
        message_store.delete_messages(tx, room, [2], NOW)
    with db.read() as tx:
        assert [(d.id, d.message_id) for d in message_store.get_deletions(tx, room, 0, 256)] == [
            (3, 2)
        ]
        assert [m.server_id for m in message_store.get_messages(tx, room, 0, 256)] == [1]
    assert since(db, room, 2) == [(2, 3, True)]
    db.dispose()


def test_posted_converts_both_ways() -> None:
    for ms in (0, 1, 999, 1_800_000_000_123, 1_700_000_000_001, 2**41 + 7):
        assert math.floor(message_store.posted_of_ms(ms) * 1000) == ms
        assert message_store.ms_of_posted(message_store.posted_of_ms(ms)) == ms
