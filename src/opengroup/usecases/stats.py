"""Read-only numbers about the server and its rooms: for /health, /metrics and
`opengroup rooms stats`."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from opengroup.store import Database
from opengroup.store import stats as stats_store
from opengroup.store.rooms import Room
from opengroup.store.stats import RoomActivity, RoomGauges
from opengroup.usecases.context import ServerContext

__all__ = [
    "GaugesReader",
    "RoomActivity",
    "RoomGauges",
    "check_database",
    "gauges_reader",
    "room_activity",
]

GaugesReader = Callable[[float, Mapping[str, float]], list[RoomGauges]]
"""(now, {window label: seconds}) -> one RoomGauges per room."""


def check_database(ctx: ServerContext) -> None:
    """Raises if the database does not answer a read (for /health)."""
    with ctx.db.read() as tx:
        stats_store.ping(tx)


def gauges_reader(db: Database) -> GaugesReader:
    """The per-room numbers a metrics scrape reports, read from `db` at each call."""

    def read(now: float, windows: Mapping[str, float]) -> list[RoomGauges]:
        with db.read() as tx:
            return stats_store.room_gauges(tx, now, dict(windows))

    return read


def room_activity(ctx: ServerContext, room: Room, since: float) -> RoomActivity:
    with ctx.db.read() as tx:
        return stats_store.room_activity(tx, room, since)
