"""The database goes away (issue 15): `/` and room pages answer a friendly 503 page, `/health`
503, `/metrics` still answers (database_up 0, no room gauges), and the log says so once,
without a traceback, however many requests and scrapes come meanwhile; then everything works
again when the database is back. In process, through the real app, with the store's reads and
writes failing as a lost PostgreSQL server makes them fail (StorageFailure)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from opengroup.config import Config
from opengroup.errors import StorageFailure
from opengroup.runtime.app import create_app
from opengroup.runtime.bootstrap import open_context
from opengroup.web.outage import DATABASE


@contextmanager
def database_down(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def unavailable(*args: object, **kwargs: object) -> Any:
        raise StorageFailure("database unavailable: connection refused (port 5432)")

    with monkeypatch.context() as patch:
        patch.setattr(ctx.db, "read", unavailable)
        patch.setattr(ctx.db, "write", unavailable)
        yield


def test_database_down_page_health_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # /metrics on the main port (off by default: metrics_public, issue 16).
    ctx = open_context(Config(data_dir=str(tmp_path / "data"), metrics_public=True))
    app = create_app(ctx.config, ctx)
    caplog.set_level(logging.INFO)

    async def get_all(*paths: str) -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://og.test") as http:
            return [await http.get(path) for path in paths]

    try:
        with database_down(ctx, monkeypatch):
            replies = asyncio.run(get_all("/", "/main", "/metrics", "/health", "/", "/metrics"))
        page, room, scrape, health, _, _ = replies
        for reply in (page, room):
            assert reply.status_code == 503
            assert reply.headers["content-type"].startswith("text/html")
            assert "Temporarily unavailable" in reply.text and "Traceback" not in reply.text
        assert scrape.status_code == 200
        assert "opengroup_database_up 0.0" in scrape.text
        assert 'opengroup_messages_posted_total{room="main"}' not in scrape.text
        assert health.status_code == 503
        outage_lines = [r for r in caplog.records if "does not answer" in r.getMessage()]
        assert len(outage_lines) == 1, [r.getMessage() for r in caplog.records]
        assert "connection refused" in outage_lines[0].getMessage()
        assert not any(r.exc_info for r in caplog.records), "a traceback was logged"

        page, scrape = asyncio.run(get_all("/", "/metrics"))
        assert page.status_code == 200 and "main" in page.text
        assert "opengroup_database_up 1.0" in scrape.text
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert not DATABASE.down
    finally:
        ctx.close()
