"""`opengroup moderators add | remove | list` and `opengroup bans add | remove | list`."""

from __future__ import annotations

from pathlib import Path

from .conftest import (
    INVALID_SESSION_IDS,
    assert_usage_error,
    new_session_id,
    og,
    ok,
    query,
    table_rows,
)


def lines(stdout: str) -> set[str]:
    return {line.strip() for line in stdout.splitlines() if line.strip()}


def test_moderators_add_list_remove(initialised: Path) -> None:
    ok(og("rooms", "add", "second", "Second", data_dir=initialised))
    room_mod, global_mod, other_mod = new_session_id(), new_session_id(), new_session_id()
    ok(og("moderators", "add", room_mod.upper().replace("0X", "0x"), "main", data_dir=initialised))
    ok(og("moderators", "add", global_mod, "--global", data_dir=initialised))
    ok(og("moderators", "add", other_mod, "second", data_dir=initialised))
    ok(og("moderators", "add", other_mod, "second", data_dir=initialised))  # idempotent

    everything = lines(ok(og("moderators", "list", data_dir=initialised)).stdout)
    assert everything == {
        f"{room_mod} main",
        f"{global_mod} global",
        f"{other_mod} second",
    }, "session ids are stored and listed in lowercase"
    of_main = lines(ok(og("moderators", "list", "main", data_dir=initialised)).stdout)
    assert of_main == {f"{room_mod} main", f"{global_mod} global"}

    ok(og("moderators", "remove", room_mod, "main", data_dir=initialised))
    ok(og("moderators", "remove", global_mod, "--global", data_dir=initialised))
    assert lines(ok(og("moderators", "list", data_dir=initialised)).stdout) == {
        f"{other_mod} second"
    }
    # Removing someone who is not a moderator is not an error.
    ok(og("moderators", "remove", room_mod, "main", data_dir=initialised))
    assert query(initialised, "SELECT count(*) FROM global_moderators") == [(0,)]


def test_moderators_errors(initialised: Path) -> None:
    session_id = new_session_id()
    before = table_rows(initialised)
    cases = [
        ("add", session_id),  # neither ROOM nor --global
        ("add", session_id, "main", "--global"),  # both
        ("add", session_id, "nosuchroom"),
        ("add", session_id, "Bad-Id"),
        ("remove", session_id),
        ("remove", session_id, "main", "--global"),
        ("remove", session_id, "nosuchroom"),
        ("list", "nosuchroom"),
        ("list", "Bad-Id"),
        ("add", "nonsense", "--global"),
        ("remove", "nonsense", "main"),
        *(("add", bad, "main") for bad in INVALID_SESSION_IDS),
    ]
    for args in cases:
        assert_usage_error(og("moderators", *args, data_dir=initialised))
    assert table_rows(initialised) == before


def test_bans_add_list_remove(initialised: Path) -> None:
    ok(og("rooms", "add", "second", "Second", data_dir=initialised))
    banned, elsewhere = new_session_id(), new_session_id()
    ok(og("bans", "add", banned, "main", data_dir=initialised))
    ok(og("bans", "add", banned, "main", data_dir=initialised))  # idempotent
    ok(og("bans", "add", elsewhere, "second", data_dir=initialised))
    assert ok(og("bans", "list", "main", data_dir=initialised)).stdout.splitlines() == [banned]
    assert ok(og("bans", "list", "second", data_dir=initialised)).stdout.splitlines() == [elsewhere]
    ok(og("bans", "remove", banned, "main", data_dir=initialised))
    assert ok(og("bans", "list", "main", data_dir=initialised)).stdout == ""
    ok(og("bans", "remove", banned, "main", data_dir=initialised))  # not banned: no error
    assert ok(og("bans", "list", "second", data_dir=initialised)).stdout.splitlines() == [elsewhere]


def test_bans_errors(initialised: Path) -> None:
    session_id = new_session_id()
    before = table_rows(initialised)
    cases = [
        ("add", session_id, "nosuchroom"),
        ("add", session_id, "Bad-Id"),
        ("add", "05abc", "main"),
        ("add", "", "main"),
        ("remove", session_id, "nosuchroom"),
        ("remove", "05" + "x" * 64, "main"),
        ("list", "nosuchroom"),
        ("list", "123"),
    ]
    for args in cases:
        assert_usage_error(og("bans", *args, data_dir=initialised))
    assert table_rows(initialised) == before


# The CLI refuses what the API refuses (usecases/moderation.py is the one place both call).


def test_bans_add_refuses_a_moderator_of_the_room(initialised: Path) -> None:
    moderator = new_session_id()
    ok(og("moderators", "add", moderator, "main", data_dir=initialised))
    before = table_rows(initialised)
    line = assert_usage_error(og("bans", "add", moderator, "main", data_dir=initialised))
    assert "moderator cannot be banned" in line, line
    assert table_rows(initialised) == before
    assert ok(og("bans", "list", "main", data_dir=initialised)).stdout == ""


def test_bans_add_refuses_a_global_moderator(initialised: Path) -> None:
    moderator = new_session_id()
    ok(og("moderators", "add", moderator, "--global", data_dir=initialised))
    before = table_rows(initialised)
    # Upper case: the same user however the operator types the id.
    line = assert_usage_error(og("bans", "add", moderator.upper(), "main", data_dir=initialised))
    assert "moderator cannot be banned" in line, line
    assert table_rows(initialised) == before


def test_a_moderator_of_another_room_can_be_banned(initialised: Path) -> None:
    """The rule is per room, as in the API: moderating room `second` does not protect in
    `main`."""
    ok(og("rooms", "add", "second", "Second", data_dir=initialised))
    moderator = new_session_id()
    ok(og("moderators", "add", moderator, "second", data_dir=initialised))
    ok(og("bans", "add", moderator, "main", data_dir=initialised))
    assert ok(og("bans", "list", "main", data_dir=initialised)).stdout.splitlines() == [moderator]
    ok(og("bans", "remove", moderator, "main", data_dir=initialised))
    assert ok(og("bans", "list", "main", data_dir=initialised)).stdout == ""
