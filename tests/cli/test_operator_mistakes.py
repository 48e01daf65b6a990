"""An operator's usual mistakes (issue 15): each is one line on stderr, exit status 2, and
nothing created or changed. And what makes the CLI never work on the wrong server: `init`,
data directories that must exist, the database a data directory remembers."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import click
import pytest

from opengroup.cli.main import main
from tests.support.server import RunningServer, free_port

from .conftest import assert_usage_error, og, ok, parse_rooms_list, table_rows, write_toml

# Commands that need an existing data directory, with arguments that would otherwise work.
NEEDS_DATA_DIR = [
    ("rooms", "list"),
    ("rooms", "add", "lobby", "Lobby"),
    ("rooms", "stats", "main"),
    ("key",),
    ("url", "--base-url", "https://chat.example.org"),
    ("moderators", "list"),
    ("bans", "list", "--global"),
    ("backup", "{tmp}/backup"),
]


def snapshot(path: Path) -> dict[str, tuple[int, float]]:
    """Every file under `path` with its size and mtime (to prove nothing changed)."""
    found = {}
    for root, _, names in os.walk(path):
        for name in names:
            full = Path(root) / name
            found[str(full.relative_to(path))] = (full.stat().st_size, full.stat().st_mtime)
    return found


@pytest.mark.parametrize("args", NEEDS_DATA_DIR, ids=lambda a: "-".join(a[:2]))
def test_missing_data_dir_is_refused_and_not_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    argv = [a.replace("{tmp}", str(tmp_path)) for a in args]
    line = assert_usage_error(og(*argv, data_dir=missing), mentions="opengroup init")
    assert str(missing) in line
    assert not (tmp_path / "nonexistent").exists(), "a data directory was created"
    assert not (tmp_path / "backup").exists()


def test_empty_data_dir_is_refused_and_left_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args in (("rooms", "list"), ("key",), ("rooms", "add", "lobby", "Lobby")):
        assert_usage_error(og(*args, data_dir=empty), mentions="opengroup init")
    assert list(empty.iterdir()) == []


def test_init_creates_once_and_the_readme_starts_with_it(data_dir: Path) -> None:
    created = ok(og("init", data_dir=data_dir))
    assert "main" in created.stdout
    assert (data_dir / "key.pem").is_file() and (data_dir / "opengroup.db").is_file()
    key = ok(og("key", data_dir=data_dir)).stdout
    before = snapshot(data_dir)
    assert_usage_error(og("init", data_dir=data_dir), mentions="already")
    assert snapshot(data_dir) == before
    assert ok(og("key", data_dir=data_dir)).stdout == key
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    operator = readme.split("## Operator CLI", 1)[1]
    first_command = operator.index("opengroup ")
    assert operator[first_command:].startswith("opengroup init"), (
        "operator section starts with init"
    )


def test_every_command_takes_database_url() -> None:
    def commands(group: click.Group, path: str) -> list[tuple[str, click.Command]]:
        found = []
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                found += commands(command, f"{path} {name}")
            else:
                found.append((f"{path} {name}", command))
        return found

    missing = [
        path
        for path, command in commands(main, "opengroup")
        if path != "opengroup db copy"  # --from and --to name both databases
        and "--database-url" not in [o for p in command.params for o in p.opts]
    ]
    assert missing == []


def test_the_data_dir_remembers_its_database(tmp_path: Path, data_dir: Path) -> None:
    """A server moved to another database: CLI commands without the URL follow it, and a
    command given another database is refused (the issue's `rooms add` the server never saw)."""
    elsewhere = tmp_path / "elsewhere.db"
    ok(og("init", "--database-url", f"sqlite:///{elsewhere}", data_dir=data_dir))
    assert not (data_dir / "opengroup.db").exists()
    ok(og("rooms", "add", "lobby", "Lobby", data_dir=data_dir))
    con = sqlite3.connect(elsewhere)
    assert ("lobby",) in con.execute("SELECT id FROM rooms").fetchall()
    con.close()
    assert set(parse_rooms_list(ok(og("rooms", "list", data_dir=data_dir)).stdout)) == {
        "main",
        "lobby",
    }
    before = snapshot(tmp_path)
    other = f"sqlite:///{tmp_path / 'other.db'}"
    for via_env in (False, True):
        args = ("rooms", "add", "ghost", "Ghost")
        proc = (
            og(*args, data_dir=data_dir, env={"OPENGROUP_DATABASE_URL": other})
            if via_env
            else og(*args, "--database-url", other, data_dir=data_dir)
        )
        line = assert_usage_error(proc, mentions="database")
        assert "elsewhere.db" in line and "other.db" in line
    assert snapshot(tmp_path) == before


def test_bad_settings_are_one_line_naming_their_source(tmp_path: Path, initialised: Path) -> None:
    before = table_rows(initialised)
    cases = [
        (("serve", "--port", "99999"), {}, "--port"),
        (("serve", "--port", "0"), {}, "--port"),
        (("serve", "--log-level", "verbose"), {}, "--log-level"),
        (("serve", "--base-url", "chat.example.org"), {}, "--base-url"),
        (("url", "main", "--base-url", "chat.example.org"), {}, "--base-url"),
        (("serve",), {"OPENGROUP_WORKERS": "0"}, "OPENGROUP_WORKERS"),
        (("rooms", "list"), {"OPENGROUP_LOG_LEVEL": "verbose"}, "OPENGROUP_LOG_LEVEL"),
        (("serve", "--database-url", "mysql://u:pw@db/og"), {}, "--database-url"),
    ]
    for args, env, mentions in cases:
        line = assert_usage_error(og(*args, data_dir=initialised, env=env), mentions=mentions)
        assert "pw" not in line, "a password in an error line"
    config = write_toml(tmp_path / "og.toml", "rate_limit_posts = 0\n")
    assert_usage_error(og("rooms", "list", "--config", str(config), data_dir=initialised),
                       mentions=f"{config}: rate_limit_posts")  # fmt: skip
    config = write_toml(tmp_path / "og.toml", 'port = "eighty"\n')
    assert_usage_error(og("key", "--config", str(config), data_dir=initialised),
                       mentions=str(config))  # fmt: skip
    assert table_rows(initialised) == before


def test_db_copy_to_an_unsupported_database(tmp_path: Path, initialised: Path) -> None:
    before = snapshot(tmp_path)
    line = assert_usage_error(
        og("db", "copy", "--from", str(initialised / "opengroup.db"), "--to", "mysql://u:pw@h/og")
    )
    assert "--to" in line and "pw" not in line
    assert snapshot(tmp_path) == before


def test_click_usage_errors_are_one_line(tmp_path: Path, initialised: Path) -> None:
    assert_usage_error(og("rooms", "add", data_dir=initialised), mentions="ROOM_ID")
    assert_usage_error(og("no-such-command"), mentions="no-such-command")
    missing = tmp_path / "missing.png"
    assert_usage_error(
        og("rooms", "set-image", "main", str(missing), data_dir=initialised), mentions="missing.png"
    )


def test_set_image_takes_images_only(tmp_path: Path, initialised: Path) -> None:
    before = table_rows(initialised)
    files_before = sorted(os.listdir(initialised / "files"))
    for name, content in [
        ("notes.txt", b"just some text, not an image\n"),
        ("fake.png", b"\x89PNX" + os.urandom(64)),
        ("empty.png", b""),
    ]:
        path = tmp_path / name
        path.write_bytes(content)
        assert_usage_error(
            og("rooms", "set-image", "main", str(path), data_dir=initialised), mentions="PNG"
        )
    assert table_rows(initialised) == before
    assert sorted(os.listdir(initialised / "files")) == files_before
    for name, head in [
        ("a.png", b"\x89PNG\r\n\x1a\n"),
        ("a.jpg", b"\xff\xd8\xff\xe0"),
        ("a.gif", b"GIF89a"),
        ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 "),
    ]:
        (tmp_path / name).write_bytes(head + os.urandom(100))
        ok(og("rooms", "set-image", "main", str(tmp_path / name), data_dir=initialised))


def test_restore_of_a_folder_that_is_not_a_backup(tmp_path: Path) -> None:
    source = tmp_path / "photos"
    source.mkdir()
    (source / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    target = tmp_path / "restored"
    assert_usage_error(og("restore", str(source), data_dir=target), mentions="not a backup")
    assert not target.exists()


# ---------------------------------------------------------------------------- serve


def test_port_in_use_and_unassignable_host(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = og("serve", "--port", str(port), data_dir=data_dir)
        line = assert_usage_error(proc, mentions=str(port))
        assert "listening on" not in proc.stdout + proc.stderr
    assert not data_dir.exists(), "nothing is created when the port cannot be bound"
    # 192.0.2.1 (TEST-NET-1) is no address of this machine.
    line = assert_usage_error(og("serve", "--host", "192.0.2.1", "--port", str(free_port()),
                                 data_dir=data_dir))  # fmt: skip
    assert "192.0.2.1" in line
    assert not data_dir.exists()


def test_a_second_server_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    first = RunningServer(tmp_path / "data", workers=2).start(timeout=60)
    try:
        shared = tmp_path / "data" / "run" / "prometheus"
        before = sorted(os.listdir(shared))
        assert before, "the workers share their metrics there"
        proc = og("serve", "--port", str(free_port()), data_dir=tmp_path / "data")
        line = assert_usage_error(proc, mentions="another server")
        assert str(first.process.pid if first.process else "") in line
        assert set(before) <= set(os.listdir(shared)), "the first server's metrics were emptied"
        assert first.cli("rooms", "list").returncode == 0, "CLI commands still work beside it"
    finally:
        first.stop()
    # Stopped: the next start works (the lock went with the process).
    second = RunningServer(tmp_path / "data").start()
    second.stop()


def test_url_right_after_serve_without_base_url(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    server = RunningServer(data_dir, base_url_flag=False).start()
    try:
        key = server.cli("key").stdout.strip()
        urls = ok(server.cli("url"))
        assert urls.stdout == f"http://127.0.0.1:{server.port}/main?public_key={key}\n"
        assert "base_url is not set" in urls.stderr
        assert f"join URL for room main: http://127.0.0.1:{server.port}/main" in server.log()
    finally:
        server.stop()


def test_wildcard_host_without_base_url_warns_and_prints_no_join_url(tmp_path: Path) -> None:
    server = RunningServer(tmp_path / "data", base_url_flag=False, host="0.0.0.0").start()
    try:
        log = server.log()
        assert "listens on every address" in log
        assert "0.0.0.0:" not in log.split("listening on", 1)[1].split("\n", 1)[1]
        assert_usage_error(server.cli("url"), mentions="base_url")
    finally:
        server.stop()


def test_makefile_run_passes_no_made_up_base_url() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "BASE_URL ?= http" not in makefile
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(if $(BASE_URL)" in run
