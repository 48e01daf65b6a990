from __future__ import annotations

from pathlib import Path

import pytest

from opengroup.config import ConfigError, load_config


def test_defaults() -> None:
    config = load_config(environ={})
    assert (config.host, config.port, config.data_dir) == ("127.0.0.1", 8080, "./data")
    assert config.verify_signatures and config.rate_limit_posts == 5


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    toml = tmp_path / "og.toml"
    toml.write_text('port = 9000\nbase_url = "https://file"\nlog_level = "debug"\n')
    env = {"OPENGROUP_BASE_URL": "https://env", "OPENGROUP_LOG_LEVEL": "warning"}
    config = load_config(str(toml), {"log_level": "error", "host": None}, environ=env)
    assert config.port == 9000
    assert config.base_url == "https://env"
    assert config.log_level == "error"
    assert config.host == "127.0.0.1"


def test_config_file_from_environment(tmp_path: Path) -> None:
    toml = tmp_path / "og.toml"
    toml.write_text("verify_signatures = false\n")
    assert not load_config(environ={"OPENGROUP_CONFIG": str(toml)}).verify_signatures


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("nope = 1\n", "unknown setting"),
        ("port = 'abc'\n", "expected a number"),
        ("port =", "TOML"),
    ],
)
def test_bad_files(tmp_path: Path, content: str, message: str) -> None:
    toml = tmp_path / "og.toml"
    toml.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_config(str(toml), environ={})


@pytest.mark.parametrize(
    "env",
    [{"OPENGROUP_PORT": "abc"}, {"OPENGROUP_VERIFY_SIGNATURES": "maybe"}, {"OPENGROUP_PORT": "-1"}],
)
def test_bad_environment(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_config(environ=env)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/og.toml", environ={})


def test_settings_are_declared_once_as_the_config_fields() -> None:
    """SETTINGS (the README table, --help, the loader) is derived from Config's fields: one
    declaration per setting, with its help."""
    from dataclasses import fields

    from opengroup.config import DEFAULTS, SETTINGS, Config

    config = Config()
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Config)]
    for s in SETTINGS:
        assert s.help.strip() and s.help.endswith("."), s
        assert getattr(config, s.name) == s.default == DEFAULTS[s.name]
        assert isinstance(s.default, type(getattr(config, s.name)))
