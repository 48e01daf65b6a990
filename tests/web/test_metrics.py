"""GET /metrics in Prometheus format: request counters by endpoint pattern, transport and
status; latency histograms; onion failures; room numbers; multi-worker; other port; off."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from opengroup.crypto import SessionKeys
from opengroup.testing.client import OpenGroupClient
from tests.support.server import free_port

from .conftest import WebServer, start_web_server

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def client(server: WebServer, transport: str = "legacy") -> OpenGroupClient:
    return OpenGroupClient(
        server.base_url,
        bytes.fromhex(server.public_key),
        transport=transport,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def busy(web: WebServer) -> WebServer:
    """Traffic of every kind the metrics count."""
    user = SessionKeys.generate()
    with client(web, "onion") as onion, client(web, "legacy") as legacy:
        for og in (onion, legacy):
            assert og.get_rooms()["status_code"] == 200
            assert og.get_room("lokinet")["status_code"] == 200
            assert og.request("GET", "no/such/endpoint")["status_code"] == 404
        token = legacy.authenticate(user, "lokinet")
        for n in range(3):
            assert legacy.post_message("lokinet", token, user, b"hi %d" % n)["status_code"] == 200
        assert legacy.upload_file("lokinet", token, b"x" * 1000)["status_code"] == 200
    garbage = httpx.post(web.base_url + "/loki/v3/lsrpc", content=b"\x05\x00\x00\x00abc", timeout=5)
    assert garbage.status_code == 400
    return web


def test_requests_are_counted_by_route_pattern_transport_and_status(busy: WebServer) -> None:
    samples = scrape(busy.base_url + "/metrics")
    name = "opengroup_requests_total"
    for transport in ("onion", "legacy"):
        assert (
            value(samples, name, endpoint="rooms", method="GET", transport=transport, status="200")
            >= 1
        )
        # The pattern, not the raw path: one series for every room.
        assert (
            value(
                samples,
                name,
                endpoint="rooms/{room_id}",
                method="GET",
                transport=transport,
                status="200",
            )
            >= 1
        )
        assert (
            value(
                samples, name, endpoint="unknown", method="GET", transport=transport, status="404"
            )
            >= 1
        )
    assert (
        value(samples, name, endpoint="messages", method="POST", transport="legacy", status="200")
        == 3
    )
    assert not any("lokinet" in dict(labels).get("endpoint", "") for _, labels in samples)


def test_latency_histograms(busy: WebServer) -> None:
    samples = scrape(busy.base_url + "/metrics")
    count = value(
        samples,
        "opengroup_request_duration_seconds_count",
        endpoint="messages",
        method="POST",
        transport="legacy",
    )
    assert count == 3
    inf = value(
        samples,
        "opengroup_request_duration_seconds_bucket",
        endpoint="messages",
        method="POST",
        transport="legacy",
        le="+Inf",
    )
    assert inf == 3
    assert value(samples, "opengroup_http_request_duration_seconds_count", transport="onion") >= 3


def test_onion_decryption_failures_are_counted(busy: WebServer) -> None:
    samples = scrape(busy.base_url + "/metrics")
    assert value(samples, "opengroup_onion_decryption_failures_total") >= 1


def test_room_numbers_come_from_the_database(busy: WebServer) -> None:
    samples = scrape(busy.base_url + "/metrics")
    assert value(samples, "opengroup_messages_posted_total", room="lokinet") == 3
    # The upload and the room image.
    assert value(samples, "opengroup_files_stored", room="lokinet") == 2
    assert value(samples, "opengroup_file_bytes_stored", room="lokinet") > 1000
    assert value(samples, "opengroup_active_users", room="lokinet", window="1h") == 1
    assert value(samples, "opengroup_active_users", room="lokinet", window="7d") == 1
    assert value(samples, "opengroup_active_users", room="main", window="7d") == 0
    assert value(samples, "opengroup_rooms") == 4
    assert value(samples, "opengroup_database_up") == 1


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    server = start_web_server(tmp_path, "--no-metrics", rooms=False)
    try:
        assert httpx.get(server.base_url + "/metrics", timeout=10).status_code == 404
        assert httpx.get(server.base_url + "/legacy/rooms", timeout=10).status_code == 200
    finally:
        server.running.stop()


def test_metrics_on_another_address(tmp_path: Path) -> None:
    port = free_port()
    server = start_web_server(tmp_path, "--metrics-listen", f"127.0.0.1:{port}", rooms=False)
    try:
        assert httpx.get(server.base_url + "/legacy/rooms", timeout=10).status_code == 200
        assert httpx.get(server.base_url + "/metrics", timeout=10).status_code == 404
        samples = scrape(f"http://127.0.0.1:{port}/metrics")
        assert (
            value(
                samples,
                "opengroup_requests_total",
                endpoint="rooms",
                method="GET",
                transport="legacy",
                status="200",
            )
            == 1
        )
        assert value(samples, "opengroup_rooms") == 1
    finally:
        server.running.stop()


def per_worker_counts(shared: Path, endpoint: str) -> list[float]:
    """Requests to `endpoint` counted by each worker, read from its own file."""
    counts = []
    for name in sorted(os.listdir(shared)):
        if not name.startswith("counter_"):
            continue
        single = shared.parent / f"one-{name}"
        single.mkdir(exist_ok=True)
        shutil.copy(shared / name, single / name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, str(single))
        counts.append(
            sum(
                sample.value
                for family in registry.collect()
                for sample in family.samples
                if sample.name == "opengroup_requests_total"
                and sample.labels.get("endpoint") == endpoint
            )
        )
    return counts


def test_several_workers_share_their_counters(tmp_path: Path) -> None:
    shared = tmp_path / "data" / "run" / "prometheus"
    shared.mkdir(parents=True)
    (shared / "counter_999999.db").write_bytes(b"left over from a previous run")
    server = start_web_server(tmp_path, "--workers", "2", "--metrics-public", rooms=False)
    try:
        assert not (shared / "counter_999999.db").exists()  # cleaned at start
        sent = 0
        with httpx.Client(timeout=10) as http:
            # One connection per request, so either worker may take it; go on until both did.
            while sent < 20 or (sent < 500 and min(per_worker_counts(shared, "rooms")) == 0):
                response = http.get(
                    server.base_url + "/legacy/rooms", headers={"Connection": "close"}
                )
                assert response.status_code == 200
                sent += 1
        workers = per_worker_counts(shared, "rooms")
        assert len(workers) == 2 and min(workers) > 0, workers
        for _ in range(6):  # whichever worker answers, it reports the sum of both
            samples = scrape(server.base_url + "/metrics")
            assert total(samples, "opengroup_requests_total", endpoint="rooms") == sent
    finally:
        server.running.stop()


def test_metrics_listen_must_be_host_and_port(tmp_path: Path) -> None:
    from tests.support.server import run_cli

    done = run_cli(
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        "--metrics-listen",
        "nonsense",
        "--port",
        str(free_port()),
    )
    assert done.returncode == 2
    assert "metrics_listen" in done.stderr


def test_metrics_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy_socket:
        busy_socket.bind(("127.0.0.1", 0))
        busy_socket.listen()
        port = busy_socket.getsockname()[1]
        started = time.monotonic()
        from tests.support.server import run_cli

        done = run_cli(
            "serve",
            "--data-dir",
            str(tmp_path / "d"),
            "--metrics-listen",
            f"127.0.0.1:{port}",
            "--port",
            str(free_port()),
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines()[-1].startswith("error: metrics_listen: cannot listen")
        assert time.monotonic() - started < 60


def test_metrics_are_off_the_public_port_by_default(tmp_path: Path) -> None:
    """Issue 16, item 12: per-room activity and traffic are not public unless asked for."""
    server = start_web_server(tmp_path, rooms=False)
    try:
        assert httpx.get(server.base_url + "/metrics", timeout=10).status_code == 404
    finally:
        server.running.stop()
