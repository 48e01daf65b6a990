"""Moderator and admin grants and bans by root id (SOGS-API.md 4.4), their flags and lists,
and the info_updates they move (6.1)."""

from __future__ import annotations

from opengroup.store import Database
from opengroup.store import moderation as moderation_store
from opengroup.store import rooms as room_store
from opengroup.store import users as user_store
from opengroup.store.rooms import Room

from .helpers import NOW, make_room, open_database

ROOT = "05" + "ab" * 32
BLINDED = "15" + "ef" * 32  # stands for ROOT's 15 id (the caller computes roots)
OTHER = "05" + "cd" * 32


def info_updates(db: Database, room: Room) -> int:
    with db.read() as tx:
        info = room_store.get_room_info(tx, room.id)
    assert info is not None
    return info.info_updates


def test_grants_by_root_flags_lists_and_info_updates(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    other_room = make_room(db, "other")
    assert info_updates(db, room) == 1
    with db.write() as tx:
        assert moderation_store.grant_moderator(tx, room, ROOT, BLINDED, admin=True)
        assert not moderation_store.grant_moderator(tx, room, ROOT, BLINDED, admin=True)
        moderation_store.add_moderator(tx, room, ROOT)  # legacy: an admin stays an admin
        assert moderation_store.moderator_flags(tx, room, ROOT) == moderation_store.ModeratorFlags(
            True, True, False, False
        )
        assert moderation_store.moderator_flags(tx, other_room, ROOT).moderator is False
    assert info_updates(db, room) == 2  # one change, however many calls
    assert info_updates(db, other_room) == 1

    with db.write() as tx:
        moderation_store.add_global_moderator(tx, OTHER)
        moderation_store.add_global_moderator(tx, OTHER)
        assert moderation_store.grant_global_moderator(tx, OTHER, OTHER, admin=True)
        flags = moderation_store.moderator_flags(tx, other_room, OTHER)
        assert flags == moderation_store.ModeratorFlags(True, True, True, True)
        user_store.upsert_user_seen(tx, BLINDED, ROOT, NOW)
        grants = moderation_store.list_moderators(tx, room)
    assert (info_updates(db, room), info_updates(db, other_room)) == (4, 3)
    assert [(g.root, g.named_as, g.admin, g.visible, g.global_moderator, g.blinded_id)
            for g in grants] == [
        (ROOT, BLINDED, True, True, False, BLINDED),
        (OTHER, OTHER, True, False, True, None),
    ]  # fmt: skip

    with db.write() as tx:  # a room grant's visibility wins over the global one's
        moderation_store.grant_moderator(tx, room, OTHER, OTHER, visible=True)
        merged = {g.root: g for g in moderation_store.list_moderators(tx, room)}
        assert merged[OTHER].visible and merged[OTHER].admin and merged[OTHER].global_moderator
        # The legacy lists show the id each person was named with, never a computed root.
        assert moderation_store.room_moderators(tx, room) == sorted([BLINDED, OTHER])
        assert moderation_store.remove_moderator(tx, room, ROOT)
        assert not moderation_store.remove_moderator(tx, room, ROOT)
        assert moderation_store.remove_global_moderator(tx, OTHER)
    assert (info_updates(db, room), info_updates(db, other_room)) == (7, 4)
    db.dispose()


def test_bans_by_root_with_an_end(db_url: str) -> None:
    db = open_database(db_url)
    room = make_room(db)
    with db.write() as tx:
        moderation_store.ban_root(tx, room, ROOT, BLINDED, expires_at=NOW + 60)
        moderation_store.ban(tx, room, OTHER)
        moderation_store.ban(tx, room, OTHER)
        assert moderation_store.is_banned(tx, room, ROOT)
        assert [
            (b.root, b.named_as, b.expires_at) for b in moderation_store.list_bans(tx, room)
        ] == [
            (ROOT, BLINDED, NOW + 60),
            (OTHER, OTHER, None),
        ]
        assert moderation_store.banned_members(tx, room) == sorted([BLINDED, OTHER])
        assert moderation_store.lift_expired_bans(tx, NOW + 59) == 0
        assert moderation_store.is_banned(tx, room, ROOT)  # until the task lifts it
        assert moderation_store.lift_expired_bans(tx, NOW + 60) == 1
        assert not moderation_store.is_banned(tx, room, ROOT)
        assert moderation_store.is_banned(tx, room, OTHER)
    db.dispose()
