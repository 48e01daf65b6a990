"""`make test` on a fresh clone (issue 15): it runs the PostgreSQL variants whenever PostgreSQL
answers at the README's URL, CI cannot pass without them, apt waits for the dpkg lock, and the
production install gets no test tools."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import databases
from tests.support.server import RunningServer

REPO = Path(__file__).resolve().parents[2]
LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) \S+: "
)


def test_postgres_variants_run_whenever_the_default_postgres_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(databases.POSTGRES_URL_ENV, raising=False)
    answers = databases.postgres_answers(databases.DEFAULT_POSTGRES_URL)
    expected = databases.DEFAULT_POSTGRES_URL if answers else None
    assert databases.postgres_server_url() == expected
    if answers:
        assert databases.skipped_postgres_summary() is None
    else:
        assert "nothing answers" in (databases.skipped_postgres_summary() or "")


def test_nothing_answering_means_one_summary_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(databases.POSTGRES_URL_ENV, raising=False)
    monkeypatch.setitem(databases._default_answers, databases.DEFAULT_POSTGRES_URL, False)
    assert databases.postgres_server_url() is None
    line = databases.skipped_postgres_summary()
    assert line is not None and "\n" not in line and databases.DEFAULT_POSTGRES_URL in line
    monkeypatch.setenv(databases.POSTGRES_URL_ENV, "off")
    assert databases.postgres_server_url() is None


def test_a_configured_postgres_is_used_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    """CI sets the variable: an unreachable server then fails the PostgreSQL tests (not skip)."""
    monkeypatch.setenv(databases.POSTGRES_URL_ENV, "postgresql://nobody@127.0.0.1:1/none")
    assert databases.postgres_server_url() == "postgresql://nobody@127.0.0.1:1/none"
    with pytest.raises(pytest.fail.Exception, match="not usable"):
        databases.PostgresScratch("postgresql://nobody@127.0.0.1:1/none")
    ci = (REPO / ".ci" / "run").read_text()
    assert "OPENGROUP_TEST_POSTGRES_URL" in ci and "make check-postgres" in ci
    assert ci.index("make check-postgres") < ci.index("make test")


def test_check_postgres_fails_when_nothing_answers() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.databases"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, databases.POSTGRES_URL_ENV: "postgresql://nobody@127.0.0.1:1/none"},
        timeout=60,
    )
    assert result.returncode == 1, result
    assert "not reachable" in result.stdout


def test_makefile_installs_and_waits_as_the_issue_asks() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "DPkg::Lock::Timeout" in makefile.split("\nbrowser:", 1)[1].split("\n\n", 1)[0]
    stamp_rule = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "[test]" not in stamp_rule, "make install / make run get no test tools"
    assert "$(TEST_STAMP)" in makefile.split("\nlint:", 1)[1].split("\n", 1)[0]


def test_worker_log_lines_have_timestamp_level_and_logger(tmp_path: Path) -> None:
    """`serve --workers 2`: every line of every process, uvicorn's included, in one format."""
    server = RunningServer(tmp_path / "data", workers=2, extra_args=("--access-log",))
    server.start(timeout=90)
    try:
        for _ in range(4):
            httpx.get(server.base_url + "/health", timeout=5)
        time.sleep(0.5)
    finally:
        server.stop()
    lines = [line for line in server.log().splitlines() if line.strip()]
    assert lines
    odd = [line for line in lines if not LOG_LINE.match(line)]
    assert odd == [], "lines without timestamp, level and logger"
    started = [line for line in lines if "Started server process" in line]
    assert len(started) >= 2, "both workers log in the same format"
    assert any("uvicorn.access" in line and "/health" in line for line in lines)


def test_the_access_log_says_what_an_onion_request_held(tmp_path: Path) -> None:
    """Issue 15: every onion request's outer line is `POST /oxen/v4/lsrpc 200`; with
    --access-log a second line gives the inner endpoint and its own status."""
    from opengroup.testing.client import OpenGroupClient

    server = RunningServer(tmp_path / "data", extra_args=("--access-log",))
    assert server.cli("init").returncode == 0
    server.start(timeout=60)
    try:
        with OpenGroupClient(server.base_url, server.public_key, transport="onion") as og:
            assert og.request("GET", "rooms")["status_code"] == 200
            assert og.request("GET", "no_such_endpoint")["status_code"] == 404
        time.sleep(0.5)
    finally:
        server.stop()
    log = server.log()
    assert "opengroup.access" in log and "onion inner GET rooms 200" in log, log[-2000:]
    assert "onion inner GET (no such endpoint) 404" in log, log[-2000:]
