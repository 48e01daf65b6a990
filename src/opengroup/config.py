"""Settings: declared once, as the fields of `Config` (name, type, default, help); loaded
as defaults < TOML < env < flags.

`SETTINGS` (name, default, help) is derived from those fields: the README's configuration
table (tests/unit/test_docs.py), `--help` and the loader all read it.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

ENV_PREFIX = "OPENGROUP_"
T = TypeVar("T")


def setting(default: T, help: str) -> T:
    """A Config field: its default, and the help line `--help` and the README show."""
    value: T = field(default=default, metadata={"help": help})
    return value


@dataclass(frozen=True, slots=True)
class Config:
    """Every setting, declared once: name, type, default and help. SETTINGS, DEFAULTS, the
    loader's type checks and the CLI's flags are all derived from these fields."""

    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8080, "TCP port to listen on.")
    workers: int = setting(1, "Server processes sharing the port (PostgreSQL recommended above 1).")
    data_dir: str = setting("./data", "Directory for the database, files and key.")
    database_url: str = setting("", "SQLAlchemy URL; empty means SQLite at DATA_DIR/opengroup.db.")
    base_url: str = setting(
        "", "Public URL of the server for join links, e.g. https://chat.example."
    )
    private_key_file: str = setting(
        "", "PEM X25519 private key (openssl genpkey); empty: DATA_DIR/key.pem."
    )
    create_main_room: bool = setting(
        True, "Create room 'main' on first start with an empty database."
    )
    rate_limit_posts: int = setting(5, "Posts one user may make in a room per rate-limit window.")
    rate_limit_seconds: int = setting(16, "Length of the rate-limit window in seconds.")
    max_file_size: int = setting(10_000_000, "Largest file upload, in decoded bytes.")
    file_expiry_days: float = setting(
        15, "Days before an uploaded file expires (room images never do)."
    )
    upload_unattached_seconds: float = setting(
        3600,
        "Modern API: seconds an upload lives unless a post attaches it or it becomes the image.",
    )
    token_expiry_days: float = setting(7, "Days without use before an auth token expires.")
    verify_signatures: bool = setting(True, "Reject posted messages whose signature is invalid.")
    max_message_size: int = setting(65536, "Largest message, in decoded bytes of data.")
    max_poll_rooms: int = setting(200, "Most rooms in one compact_poll request.")
    max_pending_tokens: int = setting(
        8, "No longer used (pending tokens are derived, never stored); accepted for old configs."
    )
    max_reply_messages: int = setting(
        2560, "Most messages and deletions one reply carries (a poll, a batch, a list)."
    )
    max_reply_bytes: int = setting(
        2_000_000, "Message data one reply carries, in bytes; clients page on with cursors."
    )
    max_connections: int = setting(
        1000, "Open connections (and requests) per process; beyond, new requests get 503."
    )
    header_timeout_seconds: float = setting(
        10, "Seconds a client has to send a request's head (line and headers)."
    )
    body_timeout_seconds: float = setting(
        10, "Longest pause while a body arrives; also the grace before min_body_rate."
    )
    min_body_rate: int = setting(4096, "Bytes per second a body must average after its grace.")
    max_bodies_in_flight: int = setting(
        64, "Request bodies one process reads at once; beyond, 503."
    )
    max_buffered_body_bytes: int = setting(
        100_000_000, "Bytes of bodies one process buffers while reading them; beyond, 503."
    )
    replay_window_days: float = setting(
        7, "Days a legacy onion request that changed something is remembered and refused again."
    )
    upload_quota_bytes_per_day: int = setting(
        0, "Upload bytes per user per room per day; 0 is off."
    )
    dm_max_size: int = setting(100_000, "Largest direct message, in decoded bytes.")
    dm_rate_limit_messages: int = setting(20, "Direct messages one user may send per DM window.")
    dm_rate_limit_seconds: float = setting(
        60, "Length of the direct-message rate window in seconds."
    )
    dm_expiry_days: float = setting(15, "Days before a direct message expires and is deleted.")
    require_blind_keys: bool = setting(
        True, "Modern API: refuse unblinded (00) keys; lists 'blind'."
    )
    legacy_api: bool = setting(
        True, "Serve the 2021 API (onion v3, /legacy/) beside the modern one."
    )
    prune_interval_seconds: float = setting(
        10, "How often expired tokens, files, nonces and DMs are pruned and timed bans lifted."
    )
    log_level: str = setting("info", "Logging level: debug, info, warning, error.")
    access_log: bool = setting(False, "Log one line per request.")
    server_name: str = setting(
        "", "Name shown on the web page; empty: the host name of the server."
    )
    web_index: bool = setting(
        True, "List the rooms on the web page at /; room pages work either way."
    )
    web_show_recent: bool = setting(
        False, "Room pages show the newest messages as text (rooms anyone may read only)."
    )
    metrics: bool = setting(True, "Serve Prometheus metrics (at /metrics, or at metrics_listen).")
    metrics_listen: str = setting("", "HOST:PORT to serve /metrics on instead of the main port.")
    metrics_public: bool = setting(
        False, "Also serve /metrics on the main (public) port; not when metrics_listen is set."
    )

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


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.default, f.metadata["help"]) for f in fields(Config)
)
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}


class ConfigError(ValueError):
    """A setting has a value of the wrong type or an unknown name."""


_TYPE_NAMES: dict[str, type] = {"bool": bool, "int": int, "float": float, "str": str}
_FIELD_TYPES: dict[str, type] = {f.name: _TYPE_NAMES[str(f.type)] for f in fields(Config)}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


LOG_LEVELS = ("debug", "info", "warning", "error")
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")
# Settings that must be at least 1 (0 would stop the server or every poster); the rest of the
# numbers only must not be negative.
_AT_LEAST_ONE = frozenset(
    {
        "workers",
        "rate_limit_posts",
        "rate_limit_seconds",
        "max_file_size",
        "max_message_size",
        "max_poll_rooms",
        "max_pending_tokens",
        "dm_max_size",
        "dm_rate_limit_messages",
        "dm_rate_limit_seconds",
        "prune_interval_seconds",
    }
)


def _coerce(name: str, value: Any) -> Any:
    """`value` as the setting's type, checked against what the setting allows."""
    return _check(name, _as_type(name, value))


def _as_type(name: str, value: Any) -> Any:
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


def _check(name: str, value: Any) -> Any:
    if name == "port" and not 1 <= value <= 65535:
        raise ConfigError(f"port: expected 1 to 65535, got {value!r}")
    if name in _AT_LEAST_ONE and value < 1:
        raise ConfigError(f"{name}: must be at least 1, got {value!r}")
    if name == "log_level" and value.lower() not in LOG_LEVELS:
        raise ConfigError(f"log_level: expected one of {', '.join(LOG_LEVELS)}, got {value!r}")
    if name == "log_level":
        return value.lower()
    if name == "base_url" and value:
        check_base_url(value)
    if name == "database_url" and value:
        check_database_url(value, "database_url")
    return value


def check_base_url(value: str) -> str:
    """A public URL with its scheme and host: https://chat.example.org[:PORT][/PATH]."""
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(
            f"base_url: expected http:// or https:// and a host, e.g. https://chat.example.org, "
            f"got {value!r}"
        )
    if parsed.query or parsed.fragment:
        raise ConfigError(f"base_url: no query or fragment, got {value!r}")
    try:
        parsed.port  # noqa: B018 - raises on a port out of range
    except ValueError:
        raise ConfigError(f"base_url: bad port in {value!r}") from None
    return value


def check_database_url(value: str, name: str) -> str:
    """An SQLite or PostgreSQL SQLAlchemy URL (the only databases the server supports)."""
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme.split("+", 1)[0].lower() not in DATABASE_SCHEMES:
        raise ConfigError(
            f"{name}: expected sqlite:///PATH or postgresql://USER@HOST/DATABASE, "
            f"got {hide_password(value)!r}"
        )
    return value


def hide_password(url: str) -> str:
    """`url` with its password (if any) as ***, for messages and logs."""
    parsed = urlsplit(url)
    if parsed.password is None:
        return url
    netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@", 1)
    return parsed._replace(netloc=netloc).geturl()


def _apply(config: Config, values: Mapping[str, Any], source: str) -> Config:
    """`values` over `config`; an error names where the value came from: the file and setting,
    the environment variable, or the flag."""
    changes: dict[str, Any] = {}
    for key, value in values.items():
        name = key.replace("-", "_").lower()
        if name not in DEFAULTS:
            raise ConfigError(f"{source}: unknown setting {key!r}")
        if value is None:
            continue
        try:
            changes[name] = _coerce(name, value)
        except ConfigError as error:
            origin, message = _origin(source, name), str(error)
            if origin != source:  # the flag or variable names the setting already
                message = message.removeprefix(f"{name}: ")
            raise ConfigError(f"{origin}: {message}") from None
    return replace(config, **changes)


def _origin(source: str, name: str) -> str:
    if source == "environment":
        return f"{ENV_PREFIX}{name.upper()}"
    if source == "command line":
        return "--" + name.replace("_", "-")
    return source


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
