"""Queries on moderators (per room and global) and bans.

Everything is keyed by the person's ROOT 05 id (SOGS-API.md 4.4; column `session_id`): the
caller computes it from a 15 id, and passes the id the grant or ban was given with as
`named_as`. A legacy id is a 05 id, its own root. Changing who moderates a room, or how, moves
that room's info_updates (a global grant: every room's), since modern clients show the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, exists, select, update

from .database import RawTx, Tx, as_raw, dialect_insert
from .rooms import Room, bump_all_info_updates, bump_info_updates
from .schema import bans, global_bans, global_moderators, moderators, rooms, users
from .statements import Statement

# Listed by the id of the grant (SOGS-API.md 4.4: a root computed from a 15 id is never shown).
_ROOM_MODERATORS = Statement("""
SELECT named_as FROM moderators WHERE room_pk = :room_pk
UNION SELECT named_as FROM global_moderators ORDER BY 1""")


@dataclass(frozen=True, slots=True)
class ModeratorFlags:
    """What a person is in a room. A global moderator moderates every room, and an admin is a
    moderator: `moderator` and `admin` include the global grants."""

    moderator: bool
    admin: bool
    global_moderator: bool
    global_admin: bool


@dataclass(frozen=True, slots=True)
class ModeratorGrant:
    """One person's standing in a room's moderator list, room and global grants merged."""

    root: str
    named_as: str  # the id of the grant (the room's, if there is one)
    admin: bool  # room or global admin
    visible: bool  # the room grant's setting if there is one, else the global one's
    global_moderator: bool
    blinded_id: str | None  # the 15 id this person has signed with, if any


@dataclass(frozen=True, slots=True, order=True)
class Ban:
    root: str
    named_as: str
    expires_at: float | None


def room_moderators(tx: Tx | RawTx, room: Room) -> list[str]:
    """The room's moderators, global ones included, by the id each was named with, sorted."""
    return [row[0] for row in as_raw(tx).all(_ROOM_MODERATORS, (room.pk,))]


def is_moderator(tx: Tx, room: Room, session_id: str) -> bool:
    query = select(
        exists().where(moderators.c.room_pk == room.pk, moderators.c.session_id == session_id)
        | exists().where(global_moderators.c.session_id == session_id)
    )
    return bool(tx.execute(query).scalar())


def moderator_flags(tx: Tx, room: Room, root: str) -> ModeratorFlags:
    room_grant = tx.execute(
        select(moderators.c.admin).where(
            moderators.c.room_pk == room.pk, moderators.c.session_id == root
        )
    ).first()
    global_grant = tx.execute(
        select(global_moderators.c.admin).where(global_moderators.c.session_id == root)
    ).first()
    global_admin = bool(global_grant and global_grant[0])
    return ModeratorFlags(
        moderator=room_grant is not None or global_grant is not None,
        admin=bool(room_grant and room_grant[0]) or global_admin,
        global_moderator=global_grant is not None,
        global_admin=global_admin,
    )


# The 15 id a moderator has signed with, if any (the first by sort order, as the listing shows
# one; ids are lowercase hex); global grants first, then the room's, which override them.
_LIST_MODERATORS = Statement("""
SELECT g.session_id, g.named_as, g.admin, g.visible, 1,
       (SELECT u.session_id FROM users u WHERE u.root = g.session_id
        AND u.session_id >= '15' AND u.session_id < '16' ORDER BY u.session_id LIMIT 1)
FROM global_moderators g
UNION ALL
SELECT m.session_id, m.named_as, m.admin, m.visible, 0,
       (SELECT u.session_id FROM users u WHERE u.root = m.session_id
        AND u.session_id >= '15' AND u.session_id < '16' ORDER BY u.session_id LIMIT 1)
FROM moderators m WHERE m.room_pk = :room_pk
ORDER BY 5 DESC""")


def list_moderators(tx: Tx | RawTx, room: Room) -> list[ModeratorGrant]:
    """Everyone who moderates the room, sorted by root: room grants and global ones (raw SQL:
    a modern poll lists them whenever the room changed)."""
    merged: dict[str, ModeratorGrant] = {}
    rows = as_raw(tx).all(_LIST_MODERATORS, (room.pk,))
    for root, named_as, admin, visible, is_global, blinded in rows:
        if is_global:
            merged[root] = ModeratorGrant(root, named_as, bool(admin), bool(visible), True, blinded)
            continue
        other = merged.get(root)
        merged[root] = ModeratorGrant(
            root,
            named_as,
            bool(admin) or (other is not None and other.admin),
            bool(visible),
            other is not None,
            blinded,
        )
    return [merged[root] for root in sorted(merged)]


def add_moderator(tx: Tx, room: Room, session_id: str) -> None:
    """Legacy grant by a 05 id: a moderator if not one yet (an admin stays an admin)."""
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT ... ON CONFLICT DO NOTHING.
    inserted = tx.execute(
        dialect_insert(tx, moderators)
        .values(room_pk=room.pk, session_id=session_id, named_as=session_id)
        .on_conflict_do_nothing()
        .returning(moderators.c.session_id)
    ).first()
    if inserted is not None:
        bump_info_updates(tx, room)


def grant_moderator(
    tx: Tx, room: Room, root: str, named_as: str, *, admin: bool = False, visible: bool = True
) -> bool:
    """Make `root` a moderator (or admin) of the room with exactly these flags; True if
    anything changed."""
    key = (moderators.c.room_pk == room.pk) & (moderators.c.session_id == root)
    found = tx.execute(
        select(moderators.c.named_as, moderators.c.admin, moderators.c.visible).where(key)
    ).first()
    values = {"named_as": named_as, "admin": admin, "visible": visible}
    if found is None:
        tx.execute(moderators.insert().values(room_pk=room.pk, session_id=root, **values))
    elif (found[0], bool(found[1]), bool(found[2])) == (named_as, admin, visible):
        return False
    else:
        tx.execute(update(moderators).where(key).values(**values))
    bump_info_updates(tx, room)
    return True


def remove_moderator(tx: Tx, room: Room, session_id: str) -> bool:
    """Revoke the room grant of a root id (admin included); True if there was one."""
    result = tx.execute(
        delete(moderators).where(
            moderators.c.room_pk == room.pk, moderators.c.session_id == session_id
        )
    )
    if result.rowcount:
        bump_info_updates(tx, room)
    return bool(result.rowcount)


def global_moderator_ids(tx: Tx) -> list[str]:
    return sorted(tx.execute(select(global_moderators.c.session_id)).scalars())


def moderators_by_room(tx: Tx) -> list[tuple[str, str]]:
    query = select(rooms.c.id, moderators.c.session_id).join(
        rooms, rooms.c.pk == moderators.c.room_pk
    )
    return sorted((row[0], row[1]) for row in tx.execute(query))


def add_global_moderator(tx: Tx, session_id: str) -> None:
    """Legacy/CLI grant by a 05 id: a global moderator (hidden) if not one yet."""
    inserted = tx.execute(
        dialect_insert(tx, global_moderators)
        .values(session_id=session_id, named_as=session_id)
        .on_conflict_do_nothing()
        .returning(global_moderators.c.session_id)
    ).first()
    if inserted is not None:
        bump_all_info_updates(tx)


def grant_global_moderator(
    tx: Tx, root: str, named_as: str, *, admin: bool = False, visible: bool = False
) -> bool:
    """Make `root` a global moderator (or admin) with exactly these flags; True if anything
    changed."""
    key = global_moderators.c.session_id == root
    found = tx.execute(
        select(
            global_moderators.c.named_as, global_moderators.c.admin, global_moderators.c.visible
        ).where(key)
    ).first()
    values = {"named_as": named_as, "admin": admin, "visible": visible}
    if found is None:
        tx.execute(global_moderators.insert().values(session_id=root, **values))
    elif (found[0], bool(found[1]), bool(found[2])) == (named_as, admin, visible):
        return False
    else:
        tx.execute(update(global_moderators).where(key).values(**values))
    bump_all_info_updates(tx)
    return True


def remove_global_moderator(tx: Tx, session_id: str) -> bool:
    result = tx.execute(
        delete(global_moderators).where(global_moderators.c.session_id == session_id)
    )
    if result.rowcount:
        bump_all_info_updates(tx)
    return bool(result.rowcount)


def is_banned(tx: Tx, room: Room, session_id: str) -> bool:
    """Whether a root id is banned from the room. A timed ban holds until it is lifted by
    `lift_expired_bans` (SOGS-API.md 9)."""
    query = select(exists().where(bans.c.room_pk == room.pk, bans.c.session_id == session_id))
    return bool(tx.execute(query).scalar())


def banned_members(tx: Tx, room: Room) -> list[str]:
    """By the id each ban was given with (never a root computed from a 15 id)."""
    query = select(bans.c.named_as).where(bans.c.room_pk == room.pk)
    return sorted(tx.execute(query).scalars())


def list_bans(tx: Tx, room: Room) -> list[Ban]:
    query = select(bans.c.session_id, bans.c.named_as, bans.c.expires_at).where(
        bans.c.room_pk == room.pk
    )
    return sorted(Ban(*row) for row in tx.execute(query))


def ban(tx: Tx, room: Room, session_id: str) -> None:
    """Legacy ban by a 05 id, until lifted; banning again changes nothing."""
    tx.execute(
        dialect_insert(tx, bans)
        .values(room_pk=room.pk, session_id=session_id, named_as=session_id)
        .on_conflict_do_nothing()
    )


def ban_root(tx: Tx, room: Room, root: str, named_as: str, expires_at: float | None = None) -> None:
    """Ban a root id from the room until `expires_at` (None: until lifted); a new ban of
    someone banned already replaces the old one's end and name."""
    upsert = dialect_insert(tx, bans).values(
        room_pk=room.pk, session_id=root, named_as=named_as, expires_at=expires_at
    )
    tx.execute(
        upsert.on_conflict_do_update(
            index_elements=[bans.c.room_pk, bans.c.session_id],
            set_={"named_as": upsert.excluded.named_as, "expires_at": upsert.excluded.expires_at},
        )
    )


def unban(tx: Tx, room: Room, session_id: str) -> bool:
    result = tx.execute(
        delete(bans).where(bans.c.room_pk == room.pk, bans.c.session_id == session_id)
    )
    return bool(result.rowcount)


def lift_expired_bans(tx: Tx, now: float) -> int:
    """Remove the timed bans (room and global) whose end has passed; how many."""
    result = tx.execute(delete(bans).where(bans.c.expires_at <= now))
    lifted = tx.execute(delete(global_bans).where(global_bans.c.expires_at <= now))
    return int(result.rowcount or 0) + int(lifted.rowcount or 0)


_IS_GLOBALLY_BANNED = Statement("SELECT 1 FROM global_bans WHERE session_id = :root")


def is_globally_banned(tx: Tx | RawTx, root: str) -> bool:
    """Whether a root id is banned from the whole server (until the ban job lifts it)."""
    return as_raw(tx).one(_IS_GLOBALLY_BANNED, (root,)) is not None


def ban_globally(tx: Tx, root: str, named_as: str, expires_at: float | None = None) -> None:
    upsert = dialect_insert(tx, global_bans).values(
        session_id=root, named_as=named_as, expires_at=expires_at
    )
    tx.execute(
        upsert.on_conflict_do_update(
            index_elements=[global_bans.c.session_id],
            set_={"named_as": upsert.excluded.named_as, "expires_at": upsert.excluded.expires_at},
        )
    )


def unban_globally(tx: Tx, root: str) -> bool:
    result = tx.execute(delete(global_bans).where(global_bans.c.session_id == root))
    return bool(result.rowcount)


def list_global_bans(tx: Tx) -> list[Ban]:
    query = select(global_bans.c.session_id, global_bans.c.named_as, global_bans.c.expires_at)
    return sorted(Ban(*row) for row in tx.execute(query))


@dataclass(frozen=True, slots=True)
class Grant:
    """One moderator grant as stored: of a room, or global."""

    admin: bool
    visible: bool


def room_grant(tx: Tx, room: Room, root: str) -> Grant | None:
    row = tx.execute(
        select(moderators.c.admin, moderators.c.visible).where(
            moderators.c.room_pk == room.pk, moderators.c.session_id == root
        )
    ).first()
    return None if row is None else Grant(bool(row[0]), bool(row[1]))


def global_grant(tx: Tx, root: str) -> Grant | None:
    row = tx.execute(
        select(global_moderators.c.admin, global_moderators.c.visible).where(
            global_moderators.c.session_id == root
        )
    ).first()
    return None if row is None else Grant(bool(row[0]), bool(row[1]))


def moderates_anything(tx: Tx, root: str) -> bool:
    query = select(
        exists().where(moderators.c.session_id == root)
        | exists().where(global_moderators.c.session_id == root)
    )
    return bool(tx.execute(query).scalar())


def rooms_moderated(tx: Tx, root: str, *, admin: bool) -> list[str]:
    """Tokens of the rooms where `root` is a moderator (or an admin), global grants included."""
    grant = global_grant(tx, root)
    if grant is not None and (grant.admin or not admin):
        return sorted(tx.execute(select(rooms.c.id)).scalars())
    query = (
        select(rooms.c.id)
        .join(moderators, moderators.c.room_pk == rooms.c.pk)
        .where(moderators.c.session_id == root)
    )
    if admin:
        query = query.where(moderators.c.admin.is_(True))
    return sorted(tx.execute(query).scalars())


def global_grants(tx: Tx) -> list[tuple[str, str, bool, bool]]:
    """(root, named_as, admin, visible) of every global moderator, by root."""
    columns = global_moderators.c
    rows = tx.execute(
        select(columns.session_id, columns.named_as, columns.admin, columns.visible).order_by(
            columns.session_id
        )
    )
    return [(r[0], r[1], bool(r[2]), bool(r[3])) for r in rows]


def blinded_id_of(tx: Tx, root: str) -> str | None:
    """The 15 id this person has signed with here, if any."""
    return tx.execute(
        select(users.c.session_id)
        .where(users.c.root == root, users.c.session_id.like("15%"))
        .order_by(users.c.session_id)
        .limit(1)
    ).scalar()
