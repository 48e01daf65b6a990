"""TokenOwners: the bounded map from token hash to Session ID that lets a post's signature be
checked before its write transaction."""

from __future__ import annotations

from opengroup.usecases.token_caches import TokenOwners


def owner(n: int) -> str:
    return "05" + f"{n:064x}"


def test_remembers_and_answers() -> None:
    owners = TokenOwners(limit=10)
    owners.remember(b"a" * 32, owner(1))
    assert owners.get(b"a" * 32) == owner(1)
    assert owners.get(b"b" * 32) is None


def test_holds_at_most_its_limit_dropping_the_oldest() -> None:
    owners = TokenOwners(limit=100)
    for n in range(10_000):
        owners.remember(n.to_bytes(32, "big"), owner(n))
    assert len(owners._owners) == 100
    assert owners.get((0).to_bytes(32, "big")) is None
    assert owners.get((9_999).to_bytes(32, "big")) == owner(9_999)


def test_a_known_token_keeps_its_first_owner() -> None:
    owners = TokenOwners(limit=10)
    owners.remember(b"a" * 32, owner(1))
    owners.remember(b"a" * 32, owner(2))
    assert owners.get(b"a" * 32) == owner(1)
