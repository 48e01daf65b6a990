"""Settings: one table of name, default and help; loaded as defaults < TOML < env < flags.

The README's configuration table, `--help` and the loader all read `SETTINGS`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "OPENGROUP_"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("host", "127.0.0.1", "Address to listen on."),
    Setting("port", 8080, "TCP port to listen on."),
    Setting("workers", 1, "Server processes sharing the port (PostgreSQL recommended above 1)."),
    Setting("data_dir", "./data", "Directory for the database, files and key."),
    Setting("database_url", "", "SQLAlchemy URL; empty means SQLite at DATA_DIR/opengroup.db."),
    Setting("base_url", "", "Public URL of the server for join links, e.g. https://chat.example."),
    Setting(
        "private_key_file", "", "PEM X25519 private key (openssl genpkey); empty: DATA_DIR/key.pem."
    ),
    Setting("create_main_room", True, "Create room 'main' on first start with an empty database."),
    Setting("rate_limit_posts", 5, "Posts one user may make in a room per rate-limit window."),
    Setting("rate_limit_seconds", 16, "Length of the rate-limit window in seconds."),
    Setting("max_file_size", 10_000_000, "Largest file upload, in decoded bytes."),
    Setting("file_expiry_days", 15, "Days before an uploaded file expires (room images never do)."),
    Setting(
        "upload_unattached_seconds",
        3600,
        "Modern API: seconds an upload lives unless a post attaches it or it becomes the image.",
    ),
    Setting("token_expiry_days", 7, "Days without use before an auth token expires."),
    Setting("verify_signatures", True, "Reject posted messages whose signature is invalid."),
    Setting("max_message_size", 65536, "Largest message, in decoded bytes of data."),
    Setting("max_poll_rooms", 200, "Most rooms in one compact_poll request."),
    Setting("max_pending_tokens", 8, "Most unclaimed auth tokens one user may hold in a room."),
    Setting("upload_quota_bytes_per_day", 0, "Upload bytes per user per room per day; 0 is off."),
    Setting("dm_max_size", 100_000, "Largest direct message, in decoded bytes."),
    Setting("dm_rate_limit_messages", 20, "Direct messages one user may send per DM window."),
    Setting("dm_rate_limit_seconds", 60, "Length of the direct-message rate window in seconds."),
    Setting("dm_expiry_days", 15, "Days before a direct message expires and is deleted."),
    Setting("require_blind_keys", True, "Modern API: refuse unblinded (00) keys; lists 'blind'."),
    Setting("legacy_api", True, "Serve the 2021 API (onion v3, /legacy/) beside the modern one."),
    Setting(
        "prune_interval_seconds",
        10,
        "How often expired tokens, files, nonces and DMs are pruned and timed bans lifted.",
    ),
    Setting("log_level", "info", "Logging level: debug, info, warning, error."),
    Setting("access_log", False, "Log one line per request."),
    Setting("server_name", "", "Name shown on the web page; empty: the host name of the server."),
    Setting("web_index", True, "List the rooms on the web page at /; room pages work either way."),
    Setting(
        "web_show_recent",
        False,
        "Room pages show the newest messages as text (rooms anyone may read only).",
    ),
    Setting("metrics", True, "Serve Prometheus metrics (at /metrics, or at metrics_listen)."),
    Setting("metrics_listen", "", "HOST:PORT to serve /metrics on instead of the main port."),
)

DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


@dataclass(frozen=True, slots=True)
class Config:
    host: str = DEFAULTS["host"]
    port: int = DEFAULTS["port"]
    workers: int = DEFAULTS["workers"]
    data_dir: str = DEFAULTS["data_dir"]
    database_url: str = DEFAULTS["database_url"]
    base_url: str = DEFAULTS["base_url"]
    private_key_file: str = DEFAULTS["private_key_file"]
    create_main_room: bool = DEFAULTS["create_main_room"]
    rate_limit_posts: int = DEFAULTS["rate_limit_posts"]
    rate_limit_seconds: int = DEFAULTS["rate_limit_seconds"]
    max_file_size: int = DEFAULTS["max_file_size"]
    file_expiry_days: float = DEFAULTS["file_expiry_days"]
    upload_unattached_seconds: float = DEFAULTS["upload_unattached_seconds"]
    token_expiry_days: float = DEFAULTS["token_expiry_days"]
    verify_signatures: bool = DEFAULTS["verify_signatures"]
    max_message_size: int = DEFAULTS["max_message_size"]
    max_poll_rooms: int = DEFAULTS["max_poll_rooms"]
    max_pending_tokens: int = DEFAULTS["max_pending_tokens"]
    upload_quota_bytes_per_day: int = DEFAULTS["upload_quota_bytes_per_day"]
    dm_max_size: int = DEFAULTS["dm_max_size"]
    dm_rate_limit_messages: int = DEFAULTS["dm_rate_limit_messages"]
    dm_rate_limit_seconds: float = DEFAULTS["dm_rate_limit_seconds"]
    dm_expiry_days: float = DEFAULTS["dm_expiry_days"]
    require_blind_keys: bool = DEFAULTS["require_blind_keys"]
    legacy_api: bool = DEFAULTS["legacy_api"]
    prune_interval_seconds: float = DEFAULTS["prune_interval_seconds"]
    log_level: str = DEFAULTS["log_level"]
    access_log: bool = DEFAULTS["access_log"]
    server_name: str = DEFAULTS["server_name"]
    web_index: bool = DEFAULTS["web_index"]
    web_show_recent: bool = DEFAULTS["web_show_recent"]
    metrics: bool = DEFAULTS["metrics"]
    metrics_listen: str = DEFAULTS["metrics_listen"]

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def files_path(self) -> Path:
        return self.data_path / "files"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_path / 'opengroup.db').resolve()}"

    @property
    def key_path(self) -> Path:
        return Path(self.private_key_file) if self.private_key_file else self.data_path / "key.pem"


class ConfigError(ValueError):
    """A setting has a value of the wrong type or an unknown name."""


_TYPE_NAMES: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str}
_FIELD_TYPES: dict[str, type] = {f.name: _TYPE_NAMES[str(f.type)] for f in fields(Config)}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(name: str, value: Any) -> Any:
    wanted = _FIELD_TYPES[name]
    if wanted is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if wanted in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            number = wanted(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
        if number < 0:
            raise ConfigError(f"{name}: must not be negative, got {value!r}")
        return number
    if not isinstance(value, str | int | float):
        raise ConfigError(f"{name}: expected a string, got {value!r}")
    return str(value)


def _apply(config: Config, values: Mapping[str, Any], source: str) -> Config:
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = key.replace("-", "_").lower()
        if name not in DEFAULTS:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        if value is None:
            continue
        changes[name] = _coerce(name, value)
    return replace(config, **changes)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML ({error})") from None


def load_config(
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Defaults < TOML file (`config_file` or OPENGROUP_CONFIG) < OPENGROUP_* env < overrides."""
    env = os.environ if environ is None else environ
    config = Config()
    path = config_file or env.get(f"{ENV_PREFIX}CONFIG")
    if path:
        config = _apply(config, read_toml(Path(path)), str(path))
    from_env = {
        key[len(ENV_PREFIX) :].lower(): value
        for key, value in env.items()
        if key.startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :].lower() in DEFAULTS
    }
    config = _apply(config, from_env, "environment")
    return _apply(config, overrides or {}, "command line")
