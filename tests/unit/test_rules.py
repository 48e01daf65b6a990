"""Rules are plain functions: tested with plain values, no database, no HTTP."""

from __future__ import annotations

import pytest

from opengroup.errors import BadInput, Forbidden, NotFound, RateLimited, TooLarge, Unauthenticated
from opengroup.rules.ids import check_new_room_id, parse_room_id, parse_session_id
from opengroup.rules.limits import (
    PostRateLimit,
    base64_decoded_size_floor,
    check_size,
    check_upload_quota,
)
from opengroup.rules.permissions import Actor, OwnedMessage, check_can_ban, check_can_delete
from opengroup.rules.tokens import TokenPolicy, hash_token, new_token, parse_token

ALICE = "05" + "a" * 64
BOB = "05" + "b" * 64


@pytest.mark.parametrize("room_id", ["main", "ab", "a_1", "x" * 64, "lokinet_2021", "0day"])
def test_valid_room_ids(room_id: str) -> None:
    assert parse_room_id(room_id) == room_id


@pytest.mark.parametrize(
    "room_id",
    ["", "a", "x" * 65, "Main", "a-b", "a/b", "..", "a\x00b", "007", "2021", "a b", "é_e", 7, None],
)
def test_invalid_room_ids(room_id: object) -> None:
    with pytest.raises(BadInput):
        parse_room_id(room_id)


@pytest.mark.parametrize("room_id", ["legacy", "loki", "oxen", "metrics", "health", "static"])
def test_reserved_room_ids_cannot_be_created(room_id: str) -> None:
    with pytest.raises(BadInput, match="reserved"):
        check_new_room_id(room_id)


def test_session_ids_are_lowercased() -> None:
    assert parse_session_id("05" + "AB" * 31 + "7F") == "05" + "ab" * 31 + "7f"


@pytest.mark.parametrize(
    "value", ["", "05", "06" + "a" * 64, "05" + "a" * 63, "05" + "a" * 65, "05" + "g" * 64, 5]
)
def test_invalid_session_ids(value: object) -> None:
    with pytest.raises(BadInput):
        parse_session_id(value)


def test_tokens_are_48_random_bytes_hashed_for_storage() -> None:
    token = new_token()
    assert len(token) == 48 and token != new_token()
    assert parse_token(token.hex()) == token
    assert hash_token(token) != token and len(hash_token(token)) == 32


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "zz" * 48,
        "ab" * 47,
        "ab" * 49,
        "ab " * 32,  # 96 characters, but only 32 bytes once fromhex skips the spaces
        "ab" * 47 + "aé",
        "ab" * 47 + "\u0661\u0662",  # digits, but not ASCII ones
    ],
)
def test_malformed_tokens_are_unauthenticated(value: str | None) -> None:
    with pytest.raises(Unauthenticated):
        parse_token(value)


def test_token_expiry() -> None:
    policy = TokenPolicy(expiry_seconds=100)
    pending = {"claimed": False, "created_at": 0, "last_used_at": 0}
    claimed = {"claimed": True, "created_at": 0, "last_used_at": 50}
    assert policy.is_live(**pending, now=599) and not policy.is_live(**pending, now=600)
    assert policy.is_live(**claimed, now=149) and not policy.is_live(**claimed, now=150)


def test_delete_is_all_or_nothing() -> None:
    alice = Actor(ALICE, is_moderator=False)
    own = OwnedMessage(1, ALICE)
    theirs = OwnedMessage(2, BOB)
    check_can_delete(alice, [1], [own])
    with pytest.raises(Forbidden):
        check_can_delete(alice, [1, 2], [own, theirs])
    with pytest.raises(NotFound):
        check_can_delete(alice, [1, 3], [own])
    check_can_delete(Actor(ALICE, is_moderator=True), [1, 2], [own, theirs])


def test_moderators_cannot_be_banned() -> None:
    check_can_ban(target_is_moderator=False)
    with pytest.raises(Forbidden):
        check_can_ban(target_is_moderator=True)


def test_rate_limit() -> None:
    limit = PostRateLimit(posts=5, seconds=16)
    limit.check(4)
    with pytest.raises(RateLimited):
        limit.check(5)


def test_sizes_and_quota() -> None:
    check_size(10, 10, "file")
    with pytest.raises(TooLarge):
        check_size(11, 10, "file")
    check_upload_quota(used_today=10**9, size=1, quota=0)
    with pytest.raises(RateLimited):
        check_upload_quota(used_today=90, size=11, quota=100)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 63, 64, 65, 1000])
def test_base64_size_floor_never_exceeds_the_real_size(size: int) -> None:
    import base64

    assert base64_decoded_size_floor(len(base64.b64encode(b"x" * size))) <= size


def test_tokens_in_use_are_refreshed_well_within_a_short_expiry() -> None:
    week = TokenPolicy(expiry_seconds=7 * 86_400)
    assert not week.needs_touch(0, now=299) and week.needs_touch(0, now=300)
    short = TokenPolicy(expiry_seconds=8)
    assert not short.needs_touch(0, now=1.9) and short.needs_touch(0, now=2)
