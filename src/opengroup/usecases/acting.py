"""Who acts in a use case, checked inside the use case's own transaction.

An API passes its token check: an `Acting` that returns the room the authenticated user may
act in, or raises (401, 403, 404). The CLI passes `as_operator(room_id)`: the server's
operator, who may act in every room. Either way the use case then applies the same rules.
"""

from __future__ import annotations

from collections.abc import Callable

from opengroup.errors import NotFound
from opengroup.rules.ids import parse_room_id
from opengroup.store import Tx
from opengroup.store import rooms as room_store
from opengroup.store.rooms import Room

Acting = Callable[[Tx], Room]
"""Run inside the action's transaction: the room the actor may act in, or raises."""


def as_operator(room_id: str) -> Acting:
    """The operator (CLI) acting in `room_id`: 400 for a malformed id, 404 for no such room."""
    wanted = parse_room_id(room_id)

    def room(tx: Tx) -> Room:
        found = room_store.get_room(tx, wanted)
        if found is None:
            raise NotFound(f"no room {room_id!r}")
        return found

    return room
