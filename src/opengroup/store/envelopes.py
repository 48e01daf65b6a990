"""Onion envelopes already acted on (replay protection), shared by every worker through the
database. Rows are 16 bytes and a time; `prune_envelopes` forgets them after the window."""

from __future__ import annotations

from sqlalchemy import delete

from ..errors import BadInput
from .database import RawTx, Tx, as_raw
from .schema import onion_envelopes
from .statements import Statement

_RECORD = Statement(
    "INSERT INTO onion_envelopes (id, seen_at) VALUES (:id, :seen_at) ON CONFLICT (id) DO NOTHING"
)


class ReplayedEnvelope(BadInput):
    reason = "this onion request was already received"


def record_envelope(tx: Tx | RawTx, envelope_id: bytes, now: float) -> None:
    """Remember the envelope, in the transaction that acts on it; ReplayedEnvelope (and the
    transaction rolled back) if it was seen before."""
    if not as_raw(tx).run_counted(_RECORD, (envelope_id, now)):
        raise ReplayedEnvelope


def prune_envelopes(tx: Tx, seen_before: float) -> int:
    result = tx.execute(delete(onion_envelopes).where(onion_envelopes.c.seen_at < seen_before))
    return int(result.rowcount or 0)
