"""GET /health: 200 while the database answers, 503 when it does not."""

from __future__ import annotations

import warnings
from pathlib import Path

import httpx
import pytest

from opengroup.config import Config
from opengroup.runtime.app import create_app
from opengroup.runtime.bootstrap import open_context
from opengroup.store import Database

from .conftest import WebServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_health_is_ok_on_a_running_server(web: WebServer) -> None:
    response = httpx.get(web.base_url + "/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("broken", ["unreachable", "not a database"])
def test_health_is_503_when_the_database_does_not_answer(tmp_path: Path, broken: str) -> None:
    bad_path = tmp_path / "missing" / "dir" / "x.db"
    if broken == "not a database":
        bad_path = tmp_path / "garbage.db"
        bad_path.write_bytes(b"this is no SQLite file" * 100)
    config = Config(data_dir=str(tmp_path / "data"))
    ctx = open_context(config)
    try:
        with TestClient(create_app(config, ctx)) as http:
            assert http.get("/health").status_code == 200
            healthy_db = ctx.db
            ctx.db = Database(f"sqlite:///{bad_path}")
            try:
                response = http.get("/health")
            finally:
                ctx.db.dispose()
                ctx.db = healthy_db
            assert response.status_code == 503
            assert response.json()["status"] == "unavailable"
            assert http.get("/health").status_code == 200
    finally:
        ctx.close()
