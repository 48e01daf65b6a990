"""Prometheus metrics: counted in memory per request, the rest computed from the database
when scraped.

Per request the server does one counter increment and one histogram observation (labelled
children are cached, so no label lookup either): no database work. Room numbers (messages
posted, files and bytes stored, active users) are read with a few grouped queries only when
Prometheus scrapes.

With several worker processes the counters must be shared: `opengroup serve` then points
PROMETHEUS_MULTIPROC_DIR at a fresh directory under the data directory before the workers
start (see `prepare_multiprocess_dir`), prometheus-client keeps each process's values in a
memory-mapped file there, and a scrape (answered by any worker, or by the separate listener)
adds them up.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from opengroup.config import Config, ConfigError
from opengroup.errors import OpenGroupError
from opengroup.usecases.stats import GaugesReader
from opengroup.web.outage import DATABASE

log = logging.getLogger("opengroup.web.metrics")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# Windows for the active-users gauge; "7d" is what member_count reports.
ACTIVE_WINDOWS: dict[str, float] = {"1h": 3600.0, "1d": 86_400.0, "7d": 7 * 86_400.0}


# -- scraping ------------------------------------------------------------------------------


class RoomCollector(Collector):
    """Numbers read from the database at scrape time."""

    def __init__(self, read_gauges: GaugesReader, clock: Callable[[], float] = time.time) -> None:
        self.read_gauges = read_gauges
        self.clock = clock

    def describe(self) -> Iterable[Metric]:
        return []  # computed on demand; nothing to check for clashes

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        try:
            rooms = self.read_gauges(now, ACTIVE_WINDOWS)
            up = 1.0
        except OpenGroupError as error:  # the database is down, full or busy: expected
            DATABASE.failed("metrics", error)
            rooms, up = [], 0.0
        except Exception:
            log.warning("metrics: reading the database failed", exc_info=True)
            rooms, up = [], 0.0
        else:
            DATABASE.answered()
        yield GaugeMetricFamily(
            "opengroup_database_up", "1 if the database answered this scrape.", value=up
        )
        yield GaugeMetricFamily("opengroup_rooms", "Rooms on this server.", value=len(rooms))
        posted = CounterMetricFamily(
            "opengroup_messages_posted",
            "Messages posted in the room since it was created (imported ones included).",
            labels=["room"],
        )
        deleted = CounterMetricFamily(
            "opengroup_message_deletions", "Message deletions in the room.", labels=["room"]
        )
        files = GaugeMetricFamily(
            "opengroup_files_stored",
            "Files stored for the room (unexpired uploads and the room image).",
            labels=["room"],
        )
        size = GaugeMetricFamily(
            "opengroup_file_bytes_stored",
            "Bytes of the files stored for the room.",
            labels=["room"],
        )
        active = GaugeMetricFamily(
            "opengroup_active_users",
            "Users who made an authenticated request in the room within the window.",
            labels=["room", "window"],
        )
        for room in rooms:
            posted.add_metric([room.room_id], room.messages_posted)
            deleted.add_metric([room.room_id], room.deletions)
            files.add_metric([room.room_id], room.files)
            size.add_metric([room.room_id], room.file_bytes)
            for window, count in room.active_users.items():
                active.add_metric([room.room_id, window], count)
        yield from (posted, deleted, files, size, active)


class _Forward(Collector):
    """Another registry's metrics (this process's counters) inside a scrape registry."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def describe(self) -> Iterable[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        return self.source.collect()


def scrape_registry(
    read_gauges: GaugesReader, clock: Callable[[], float] = time.time
) -> CollectorRegistry:
    """Everything a scrape returns: this process's (or all workers') counters and the rooms."""
    registry = CollectorRegistry(auto_describe=False)
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        MultiProcessCollector(registry, path)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(RoomCollector(read_gauges, clock))
    return registry


def render(read_gauges: GaugesReader, clock: Callable[[], float] = time.time) -> bytes:
    return generate_latest(scrape_registry(read_gauges, clock))


# -- serving set-up (in `opengroup serve`, before the workers start) ---------------------------


def multiprocess_dir(config: Config) -> Path:
    return config.data_path / "run" / "prometheus"


def prepare_multiprocess_dir(config: Config) -> Path | None:
    """With several workers: an emptied directory for the shared counters, exported in
    PROMETHEUS_MULTIPROC_DIR for the workers. One worker keeps its counters in memory."""
    if config.workers <= 1 or not config.metrics:
        return None
    if os.environ.get(MULTIPROC_ENV):
        return Path(os.environ[MULTIPROC_ENV])  # the operator's own choice: theirs to manage
    path = multiprocess_dir(config)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ[MULTIPROC_ENV] = str(path.resolve())
    return path


def parse_listen(value: str, default_host: str) -> tuple[str, int]:
    """`HOST:PORT`, `[V6]:PORT`, `:PORT` or `PORT` (on the server's host)."""
    host, sep, port = value.strip().rpartition(":")
    if not sep:
        host = ""
    host = host.strip("[]") or default_host
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"metrics_listen: expected HOST:PORT, got {value!r}")
    return host, int(port)


def start_metrics_listener(
    config: Config, read_gauges: Callable[[], GaugesReader]
) -> tuple[str, int] | None:
    """Serve the metrics on `metrics_listen` from this (the supervising) process, if set;
    `read_gauges` opens the database only then."""
    if not config.metrics or not config.metrics_listen:
        return None
    from prometheus_client import start_http_server

    host, port = parse_listen(config.metrics_listen, config.host)
    try:
        start_http_server(port, host, registry=scrape_registry(read_gauges()))
    except OSError as error:
        raise ConfigError(
            f"metrics_listen: cannot listen on {host}:{port}: {error.strerror or error}"
        ) from None
    return host, port
