"""RecentSigners: a modern signer's `users` row is written on its first request and then at
most once per refresh interval by a process, so a poll's write is the nonce alone; and the
row a signed request needs (a new signer's) is always written."""

from __future__ import annotations

from pathlib import Path

from opengroup.crypto import ServerKeys
from opengroup.store import users as user_store
from opengroup.testing.modern import BlindedUser
from opengroup.usecases.identity import authenticate
from opengroup.usecases.token_caches import RecentSigners
from tests.support.fuzzing import open_in_process


def test_a_row_is_due_first_then_once_per_interval() -> None:
    signers = RecentSigners(refresh_seconds=60.0)
    assert signers.row_due("15aa", 1000.0)
    signers.row_written("15aa", 1000.0)
    assert not signers.row_due("15aa", 1059.9)
    assert signers.row_due("15aa", 1060.0)
    assert signers.row_due("15bb", 1000.0)  # another signer


def test_holds_at_most_its_limit_dropping_the_oldest() -> None:
    signers = RecentSigners(limit=100)
    for n in range(1_000):
        signers.row_written(f"15{n:064x}", 0.0)
    assert len(signers._written) == 100
    assert signers.row_due(f"15{0:064x}", 1.0)
    assert not signers.row_due(f"15{999:064x}", 1.0)


def test_signed_requests_write_the_users_row_first_then_once_a_minute(tmp_path: Path) -> None:
    inproc = open_in_process(tmp_path / "data")
    ctx = inproc.ctx
    keys: ServerKeys = ctx.keys
    user = BlindedUser.generate()
    clock = [1_800_000_000.0]
    ctx.clock = lambda: clock[0]

    def signed_get(path: str) -> None:
        headers = user.sogs_headers(keys.public, "GET", path, timestamp=int(clock[0]))
        lowered = {name.lower(): value for name, value in headers.items()}
        assert authenticate(ctx, lowered, "GET", path, b"") is not None

    def last_active() -> float:
        with ctx.db.read_raw() as rtx:
            found = user_store.get_user(rtx, user.blinded_id(keys.public))
        assert found is not None, "the first signed request creates the users row"
        return found.last_active

    signed_get("/capabilities")
    first = last_active()
    clock[0] += 30
    signed_get("/capabilities")
    assert last_active() == first  # within the minute: the nonce alone was written
    clock[0] += 31
    signed_get("/capabilities")
    assert last_active() == clock[0]
    ctx.close()
