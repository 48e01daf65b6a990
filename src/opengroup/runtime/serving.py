"""`opengroup serve`: bind the port (one line and exit status 2 if it cannot), lock the data
directory (a second server on it is refused), open it (created on the first start), log where
it listens and the join URLs, then hand the bound socket to uvicorn (and its workers).

Order matters for the operator: nothing is created when the port cannot be bound, and
"listening on" is logged only once it is.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
from dataclasses import asdict
from typing import Any, NoReturn

from opengroup.config import Config
from opengroup.runtime.allocator import tune_allocator
from opengroup.runtime.bootstrap import open_context
from opengroup.runtime.datadir import (
    DataDirError,
    ServerLock,
    lock_for_serving,
    remember_database_url,
    with_remembered_database,
)
from opengroup.runtime.logs import configure_logging, log_config
from opengroup.usecases import rooms as room_cases
from opengroup.usecases import stats
from opengroup.usecases.context import ServerContext

log = logging.getLogger("opengroup")
USAGE_ERROR = 2
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
# uvicorn kills a worker that has not answered its health check within this; workers still
# importing on a loaded machine need more than uvicorn's default 5 s.
WORKER_HEALTHCHECK_SECONDS = 60
JOIN_URLS_LOGGED = 20


def _refuse(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(USAGE_ERROR)


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound (as uvicorn binds it); an operator's mistake (port in use,
    an address not of this machine, a privileged port) is one line and exit status 2."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        reason = error.strerror or str(error)
        _refuse(f"cannot listen on {host}:{port}: {reason}")
    sock.set_inheritable(True)
    return sock


def listening_url(config: Config) -> str:
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"http://{host}:{config.port}"


def join_base(config: Config) -> str | None:
    """Where join URLs point: base_url, else the bound address unless it is a wildcard."""
    if config.base_url:
        return config.base_url.rstrip("/")
    if config.host in WILDCARD_HOSTS:
        return None
    return listening_url(config)


def _log_start(ctx: ServerContext) -> None:
    config = ctx.config
    log.info("listening on %s", listening_url(config))
    log.info("data directory %s", config.data_path.resolve())
    log.info("database %s", ctx.db.engine.url.render_as_string(hide_password=True))
    log.info("server public key %s", ctx.keys.public_hex)
    base = join_base(config)
    if base is None:
        log.warning(
            "base_url is not set and the server listens on every address (%s): join URLs on "
            "the web page follow each browser's address; set base_url (e.g. --base-url "
            "https://chat.example.org) so that everybody gets the public one",
            config.host or "*",
        )
        return
    if not config.base_url:
        log.warning(
            "base_url is not set: join URLs use the address the server listens on (%s); set "
            "base_url (e.g. --base-url https://chat.example.org) for a public server",
            base,
        )
    log.info("join URL format %s/ROOM?public_key=%s", base, ctx.keys.public_hex)
    for room in room_cases.list_rooms(ctx)[:JOIN_URLS_LOGGED]:
        log.info("join URL for room %s: %s/%s?public_key=%s", room.id, base, room.id,
                 ctx.keys.public_hex)  # fmt: skip


def prepare_serving(config: Config) -> None:
    """Shared metrics storage for several workers, and the separate metrics listener."""
    from opengroup.store import Database
    from opengroup.web import metrics

    shared = metrics.prepare_multiprocess_dir(config)
    if shared is not None:
        log.info("metrics of %d workers shared in %s", config.workers, shared)
    listening = metrics.start_metrics_listener(
        config, lambda: stats.gauges_reader(Database(config.sqlalchemy_url))
    )
    if listening is not None:
        log.info("metrics on http://%s:%d/metrics", *listening)
    elif config.metrics and config.metrics_public:
        log.info("metrics on /metrics")
    elif config.metrics:
        log.info("metrics not served: set metrics_listen (e.g. 127.0.0.1:9100) or metrics_public")


def serve(config: Config) -> None:
    """Run the server in the foreground until it is stopped."""
    try:
        config = with_remembered_database(config, serving=True)
    except DataDirError as error:
        _refuse(str(error))
    configure_logging(config.log_level)
    sock = bind(config.host, config.port)
    try:
        lock = lock_for_serving(config)
    except (DataDirError, OSError) as error:
        sock.close()
        _refuse(str(error))
    try:
        _serve_locked(config, sock, lock)
    finally:
        lock.release()


def _serve_locked(config: Config, sock: socket.socket, lock: ServerLock) -> None:
    ctx = open_context(config)
    try:
        remember_database_url(config)
        _log_start(ctx)
    finally:
        ctx.close()
    lock.record(listening=listening_url(config), join_base=join_base(config) or "")
    from opengroup.runtime.app import RESOLVED_CONFIG_ENV

    os.environ[RESOLVED_CONFIG_ENV] = json.dumps(asdict(config))
    try:
        prepare_serving(config)  # shared metrics for several workers; the metrics listener
    except Exception as error:  # a ConfigError of metrics_listen, or its port in use
        sock.close()
        _refuse(str(error))
    tune_allocator()
    _run_uvicorn(config, sock)


def _run_uvicorn(config: Config, sock: socket.socket) -> None:
    import uvicorn

    from opengroup.transport.connections import HeadTimeoutProtocol

    options: dict[str, Any] = {
        "factory": True,
        "host": config.host,
        "port": config.port,
        "workers": config.workers,
        "loop": "uvloop",
        "http": HeadTimeoutProtocol,  # httptools, with a deadline for request heads
        "limit_concurrency": config.max_connections or None,
        "log_config": log_config(config.log_level),
        "log_level": config.log_level,
        "access_log": config.access_log,
        "server_header": False,
    }
    options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
    uv_config = uvicorn.Config("opengroup.runtime.app:app_from_environment", **options)
    server = uvicorn.Server(uv_config)
    if config.workers > 1:
        from uvicorn.supervisors import Multiprocess

        Multiprocess(uv_config, sockets=[sock]).run()
    else:
        server.run(sockets=[sock])
    if config.workers == 1 and not server.started:
        sys.exit(3)  # the application did not start (its log says why)
