"""SignerActivity: a modern signer's `users` row is upserted by its first request in a process
(created if new), and its later requests' last_active is recorded late, with the token uses
(SOGS-API.md 3.6, 6.1), so a poll's write transaction is the nonce alone."""

from __future__ import annotations

from pathlib import Path

from opengroup.runtime.jobs import flush_token_uses
from opengroup.store import users as user_store
from opengroup.testing.modern import BlindedUser
from opengroup.usecases.identity import authenticate
from opengroup.usecases.token_caches import SignerActivity
from tests.support.fuzzing import open_in_process


def test_known_rows_and_pending_times() -> None:
    signers = SignerActivity()
    assert not signers.row_known("15aa")
    signers.row_written("15aa")
    assert signers.row_known("15aa")
    signers.seen("15aa", 10.0)
    signers.seen("15aa", 12.0)
    signers.seen("15bb", 11.0)
    assert signers.take() == [("15aa", 12.0), ("15bb", 11.0)]
    assert signers.take() == []


def test_holds_at_most_its_limit() -> None:
    signers = SignerActivity(limit=100)
    for n in range(1_000):
        signers.row_written(f"15{n:064x}")
        signers.seen(f"15{n:064x}", float(n))
    assert len(signers._known) == 100
    assert not signers.row_known(f"15{0:064x}")  # forgotten: its next request upserts again
    assert signers.row_known(f"15{999:064x}")
    assert len(signers.take()) == 100


def test_last_active_is_written_on_the_first_request_then_with_the_flush(tmp_path: Path) -> None:
    inproc = open_in_process(tmp_path / "data")
    ctx = inproc.ctx
    user = BlindedUser.generate()
    session_id = user.blinded_id(ctx.keys.public)
    clock = [1_800_000_000.0]
    ctx.clock = lambda: clock[0]

    def signed_get() -> None:
        headers = user.sogs_headers(
            ctx.keys.public, "GET", "/capabilities", timestamp=int(clock[0])
        )
        lowered = {name.lower(): value for name, value in headers.items()}
        assert authenticate(ctx, lowered, "GET", "/capabilities", b"") is not None

    def last_active() -> float:
        with ctx.db.read_raw() as rtx:
            found = user_store.get_user(rtx, session_id)
        assert found is not None, "the first signed request creates the users row"
        return found.last_active

    signed_get()
    assert last_active() == clock[0]
    first = clock[0]
    clock[0] += 30
    signed_get()
    assert last_active() == first  # not in the request's transaction: the nonce alone
    flush_token_uses(ctx)
    assert last_active() == clock[0]
    # A later time written by another process is never moved back by this one's flush.
    ctx.signers.seen(session_id, first)
    flush_token_uses(ctx)
    assert last_active() == clock[0]
    ctx.close()
