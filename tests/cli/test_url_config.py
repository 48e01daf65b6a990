"""`opengroup url` and configuration: defaults < TOML < OPENGROUP_* environment < flags, and
every configuration mistake is one line on stderr with exit status 2."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.server import RunningServer, free_port

from .conftest import (
    assert_usage_error,
    og,
    ok,
    parse_rooms_list,
    public_key_hex,
    write_toml,
)


def test_url_with_base_url_flag(initialised: Path) -> None:
    key = public_key_hex(initialised)
    result = ok(og("url", "main", "--base-url", "https://chat.example", data_dir=initialised))
    assert result.stdout == f"https://chat.example/main?public_key={key}\n"
    ok(og("rooms", "add", "second", "Second", data_dir=initialised))
    every = ok(og("url", "--base-url", "http://10.0.0.1:8080/", data_dir=initialised))
    assert sorted(every.stdout.splitlines()) == [
        f"http://10.0.0.1:8080/main?public_key={key}",
        f"http://10.0.0.1:8080/second?public_key={key}",
    ], "one URL per room, no double slash"


def test_url_base_from_toml_and_environment(tmp_path: Path, initialised: Path) -> None:
    key = public_key_hex(initialised)
    config = write_toml(tmp_path / "og.toml", 'base_url = "https://from-toml.example"\n')
    from_toml = ok(og("url", "main", "--config", str(config), data_dir=initialised))
    assert from_toml.stdout == f"https://from-toml.example/main?public_key={key}\n"
    from_env = ok(
        og("url", "main", data_dir=initialised, env={"OPENGROUP_BASE_URL": "https://env.example"})
    )
    assert from_env.stdout == f"https://env.example/main?public_key={key}\n"
    via_config_env = ok(
        og("url", "main", data_dir=initialised, env={"OPENGROUP_CONFIG": str(config)})
    )
    assert via_config_env.stdout == from_toml.stdout


def test_url_precedence_toml_env_flag(tmp_path: Path, initialised: Path) -> None:
    key = public_key_hex(initialised)
    config = write_toml(tmp_path / "og.toml", 'base_url = "https://toml.example"\n')
    env = {"OPENGROUP_BASE_URL": "https://env.example"}
    env_wins = ok(og("url", "main", "--config", str(config), data_dir=initialised, env=env))
    assert env_wins.stdout == f"https://env.example/main?public_key={key}\n"
    flag_wins = ok(
        og(
            "url",
            "main",
            "--config",
            str(config),
            "--base-url",
            "https://flag.example",
            data_dir=initialised,
            env=env,
        )
    )
    assert flag_wins.stdout == f"https://flag.example/main?public_key={key}\n"


def test_url_errors(initialised: Path) -> None:
    line = assert_usage_error(og("url", "main", data_dir=initialised))
    assert "base_url" in line
    assert_usage_error(og("url", data_dir=initialised))
    base = ("--base-url", "https://chat.example")
    assert_usage_error(og("url", "nosuchroom", *base, data_dir=initialised))
    assert_usage_error(og("url", "Bad-Id", *base, data_dir=initialised))


def test_toml_beats_defaults(tmp_path: Path, data_dir: Path) -> None:
    config = write_toml(tmp_path / "og.toml", "create_main_room = false\n")
    ok(og("init", "--config", str(config), data_dir=data_dir))
    listed = ok(og("rooms", "list", "--config", str(config), data_dir=data_dir))
    assert parse_rooms_list(listed.stdout) == {}


def test_data_dir_from_toml_and_flag(tmp_path: Path) -> None:
    config = write_toml(tmp_path / "og.toml", f'data_dir = "{tmp_path / "from_toml"}"\n')
    ok(run := og("init", "--config", str(config)))
    assert (tmp_path / "from_toml" / "key.pem").exists(), run
    run = ok(og("key", "--config", str(config)))
    ok(og("init", "--config", str(config), data_dir=tmp_path / "from_flag"))
    flagged = og("key", "--config", str(config), data_dir=tmp_path / "from_flag")
    ok(flagged)
    assert (tmp_path / "from_flag" / "key.pem").exists()
    assert flagged.stdout != run.stdout


@pytest.mark.parametrize(
    ("toml", "mentions"),
    [
        pytest.param("bogus_setting = 1\n", "bogus_setting", id="unknown-key"),
        pytest.param('base_url = "https://x"\nportt = 80\n', "portt", id="typo-key"),
        pytest.param("base_url = \n", "", id="malformed"),
        pytest.param("[server\nport = 1\n", "", id="malformed-table"),
        pytest.param('port = "abc"\n', "port", id="wrong-type-port"),
        pytest.param('create_main_room = "maybe"\n', "create_main_room", id="wrong-type-bool"),
        pytest.param("\xff\xfe", "", id="not-utf8"),
    ],
)
def test_bad_toml(tmp_path: Path, data_dir: Path, toml: str, mentions: str) -> None:
    config = tmp_path / "og.toml"
    config.write_bytes(toml.encode("latin-1"))
    assert_usage_error(
        og("rooms", "list", "--config", str(config), data_dir=data_dir), mentions=mentions
    )
    assert not (data_dir / "opengroup.db").exists(), "a bad config still opened the data dir"


def test_missing_config_file(tmp_path: Path, data_dir: Path) -> None:
    missing = str(tmp_path / "nope.toml")
    assert_usage_error(og("key", "--config", missing, data_dir=data_dir))
    assert_usage_error(og("key", data_dir=data_dir, env={"OPENGROUP_CONFIG": missing}))


@pytest.mark.parametrize(
    ("name", "value", "args"),
    [
        ("OPENGROUP_PORT", "abc", ("rooms", "list")),
        ("OPENGROUP_PORT", "abc", ("serve",)),
        ("OPENGROUP_MAX_FILE_SIZE", "1.5MB", ("rooms", "list")),
        ("OPENGROUP_CREATE_MAIN_ROOM", "maybe", ("key",)),
    ],
)
def test_wrong_value_type_in_environment(
    data_dir: Path, name: str, value: str, args: tuple[str, ...]
) -> None:
    assert_usage_error(og(*args, data_dir=data_dir, env={name: value}), mentions=name[10:].lower())


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 40) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return False


def test_serve_port_precedence(tmp_path: Path, data_dir: Path) -> None:
    """TOML port < OPENGROUP_PORT: the server listens where the environment says."""
    toml_port, env_port = free_port(), free_port()
    config = write_toml(tmp_path / "og.toml", f'port = {toml_port}\nhost = "127.0.0.1"\n')
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "opengroup",
            "serve",
            "--config",
            str(config),
            "--data-dir",
            str(data_dir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OPENGROUP_PORT": str(env_port)},
        start_new_session=True,
    )
    try:
        assert wait_for_port(env_port, process), "not listening on OPENGROUP_PORT"
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{toml_port}/", timeout=1)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_serve_flag_beats_environment(tmp_path: Path) -> None:
    """RunningServer passes --port; OPENGROUP_PORT names another port, which stays closed."""
    env_port = free_port()
    server = RunningServer(data_dir=tmp_path / "data", env={"OPENGROUP_PORT": str(env_port)})
    server.start()
    try:
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{env_port}/", timeout=1)
    finally:
        server.stop()
