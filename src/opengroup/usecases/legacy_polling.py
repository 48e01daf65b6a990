"""compact_poll of the 2021 API (PROTOCOL.md 4): every room a client follows, in one
request, one read transaction and one query for all the rooms' access. The modern API polls
with a /batch of its own reads instead, so nothing here is shared with it.

Each room's outcome is a value: what is new there, or the error that room's result reports
(a bad room id or token fails that room alone, never the poll).
"""

from __future__ import annotations

from collections.abc import Sequence

from opengroup.errors import OpenGroupError
from opengroup.rules.ids import parse_room_id
from opengroup.rules.limits import ReplyBudget
from opengroup.store import messages as message_store
from opengroup.store.access import RoomAccess, rooms_access
from opengroup.store.database import RawTx
from opengroup.usecases.context import ServerContext
from opengroup.usecases.legacy_access import check_access, token_hash_of
from opengroup.usecases.legacy_messages import PAGE_LIMIT, Deletion, Message, messages_within

# One entry of the poll, as the client sent it: room id (not parsed yet: a bad one fails that
# room alone), auth token, and the message and deletion cursors.
PollEntry = tuple[str, str, int | None, int | None]
Target = tuple[str, bytes | None]  # parsed room id, token hash
DELETION_SIZE = 40  # what one deletion costs in a reply


# What one room has for the poller: messages and deletions after their cursors (within the
# poll's reply budget), and the room's moderators. A tuple, not a dataclass: every poll makes
# one per room, and a dataclass cost 0.5% of a poll's instructions (bench.instructions).
PolledRoom = tuple[list[Message], list[Deletion], list[str]]


def compact_poll(
    ctx: ServerContext, entries: Sequence[PollEntry], budget: ReplyBudget
) -> list[PolledRoom | OpenGroupError]:
    """Each entry's outcome, in order. A room named again in the same poll is merged into its
    first: its messages come once."""
    targets = [_target(room_id, token) for room_id, token, _, _ in entries]
    asked = [target for target in targets if not isinstance(target, OpenGroupError)]
    served: set[str] = set()  # rooms whose messages this poll already carries
    with ctx.db.read_raw() as rtx:
        found = iter(rooms_access(rtx, asked))
        return [
            _poll_one(
                ctx,
                rtx,
                entry,
                target,
                None if isinstance(target, OpenGroupError) else next(found),
                budget,
                served,
            )
            for entry, target in zip(entries, targets, strict=True)
        ]


def _target(room_id: str, token: str) -> Target | OpenGroupError:
    """(room id, token hash) to look up, or the error this room's result reports."""
    try:
        return parse_room_id(room_id), token_hash_of(token)
    except OpenGroupError as error:
        return error


def _poll_one(
    ctx: ServerContext,
    rtx: RawTx,
    entry: PollEntry,
    target: Target | OpenGroupError,
    found: RoomAccess | None,
    budget: ReplyBudget,
    served: set[str],
) -> PolledRoom | OpenGroupError:
    room_id, _, after_message, after_deletion = entry
    try:
        if isinstance(target, OpenGroupError):
            raise target
        room_access, _ = check_access(ctx, found, target[1])
        if room_id in served:
            return [], [], room_access.moderators or []
        served.add(room_id)
        return _changes(rtx, room_access, after_message, after_deletion, budget)
    except OpenGroupError as error:
        return error


def _changes(
    rtx: RawTx,
    room_access: RoomAccess,
    after_message: int | None,
    after_deletion: int | None,
    budget: ReplyBudget,
) -> PolledRoom:
    """The messages and deletions of one room, within what is left of the poll's budget. A
    cursor at the room's newest id, or a room that never had any, means nothing new: most
    polls end here without a query."""
    room = room_access.room
    new_messages = room_access.message_seq > (after_message or 0) and not budget.spent
    found = messages_within(rtx, room, after_message, PAGE_LIMIT, budget) if new_messages else []
    deleted: list[Deletion] = []
    if room_access.deletion_seq > (after_deletion or 0) and not budget.spent:
        deleted = message_store.get_deletions(rtx, room, after_deletion, _left(budget))
        deleted = deleted[: budget.take([DELETION_SIZE] * len(deleted))]
    return found, deleted, room_access.moderators or []


def _left(budget: ReplyBudget) -> int:
    return max(1, min(PAGE_LIMIT, budget.items_left))
