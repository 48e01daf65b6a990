"""Scratch databases for tests: SQLite files; PostgreSQL when OPENGROUP_TEST_POSTGRES_URL is set.

PostgreSQL layout: each pytest process (each xdist worker) creates one database
`og_test_<random>` on the server named by the variable, on first use, and drops it when the
session ends (`DROP DATABASE ... WITH (FORCE)`, so a server left running cannot keep it). Each
test gets its own schema in that database (`t_<random>`, dropped after the test); its URL puts
the schema first on the search path, so migrations, the server and the CLI all work inside it:

    postgresql://postgres@127.0.0.1:5432/og_test_1a2b3c?options=-csearch_path%3Dt_4d5e6f

A schema is ~10 ms to make where a database is ~0.3 s to create and ~0.6 s to drop.

The variable unset: the PostgreSQL at DEFAULT_POSTGRES_URL (the README's, which CI's machine
runs) is used when it answers, so plain `make test` runs the PostgreSQL variants wherever
PostgreSQL runs; when nothing answers there they skip, and the run ends with one line saying
so. Set but the server unreachable: they FAIL, so that CI (which always sets it) cannot pass
without having run them. `OPENGROUP_TEST_POSTGRES_URL=off` skips them on purpose.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

POSTGRES_URL_ENV = "OPENGROUP_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")
_default_answers: dict[str, bool] = {}


def postgres_answers(url: str, timeout: int = 3) -> bool:
    """Does a PostgreSQL server accept a connection at `url`? (Asked once per process.)"""
    if url not in _default_answers:
        try:
            with psycopg.connect(url, connect_timeout=timeout):
                _default_answers[url] = True
        except psycopg.Error:
            _default_answers[url] = False
    return _default_answers[url]


def postgres_server_url() -> str | None:
    """The PostgreSQL the tests run on: the variable's, else the default one if it answers."""
    configured = os.environ.get(POSTGRES_URL_ENV, "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return configured
    return DEFAULT_POSTGRES_URL if postgres_answers(DEFAULT_POSTGRES_URL) else None


def skipped_postgres_summary() -> str | None:
    """The one line a run without PostgreSQL ends with (None when the variants ran)."""
    if postgres_server_url() is not None:
        return None
    if os.environ.get(POSTGRES_URL_ENV, "").strip().lower() == "off":
        return f"PostgreSQL variants skipped: {POSTGRES_URL_ENV}=off"
    return (
        f"PostgreSQL variants skipped: nothing answers at {DEFAULT_POSTGRES_URL} "
        f"(start PostgreSQL there, or set {POSTGRES_URL_ENV})"
    )


def _with_database(url: str, database: str) -> str:
    """`url` pointing at another database (any query string of it is dropped)."""
    base = url.split("?", 1)[0]
    head, _, _ = base.rpartition("/")
    if "//" not in head:  # postgresql://host without a path
        head = base
    return f"{head}/{database}"


class PostgresScratch:
    """One scratch database on the test server; hands out one fresh schema per test."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.database = f"og_test_{secrets.token_hex(6)}"
        problem = None
        try:
            with psycopg.connect(server_url, autocommit=True, connect_timeout=10) as admin:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
        except psycopg.Error as error:
            problem = (
                f"{POSTGRES_URL_ENV}={server_url} is set but PostgreSQL is not usable: {error}"
            )
        if problem:
            pytest.fail(problem, pytrace=False)
        self.url = _with_database(server_url, self.database)

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=10)

    @contextmanager
    def schema(self) -> Iterator[str]:
        """A fresh empty schema; yields a URL whose connections work inside it."""
        name = f"t_{secrets.token_hex(6)}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(name)))
        try:
            yield f"{self.url}?options={quote(f'-csearch_path={name}', safe='')}"
        finally:
            with self.connect() as conn:
                # A server a test forgot to stop must not hang the suite: the whole database
                # goes at the end of the session anyway.
                conn.execute("SET lock_timeout = '10s'")
                with suppress(psycopg.errors.LockNotAvailable):
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(name)))

    def drop(self) -> None:
        with psycopg.connect(self.server_url, autocommit=True, connect_timeout=10) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(self.database)
                )
            )


def sqlite_url(path: os.PathLike[str] | str) -> str:
    return f"sqlite:///{os.fspath(path)}"


def backend_params() -> list[object]:
    """For @pytest.mark.parametrize / fixture params: sqlite always, postgres marked."""
    return [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


# ------------------------------------------------------------------------------ fixtures
# Registered for every suite by tests/conftest.py. To run a suite on both databases, depend on
# `db_url` (one fresh database per test) or `session_db_url` (one per session, for a server
# shared by many tests) and hand the URL to RunningServer(database_url=...).


@pytest.fixture(scope="session")
def postgres_scratch() -> Iterator[PostgresScratch]:
    server = postgres_server_url()
    if server is None:
        pytest.skip(skipped_postgres_summary() or "no PostgreSQL")
    scratch = PostgresScratch(server)
    yield scratch
    scratch.drop()


class DatabaseFactory:
    """Fresh empty databases of either backend, all removed when the fixture ends."""

    def __init__(self, request: pytest.FixtureRequest, directory: os.PathLike[str]) -> None:
        self._request = request
        self._directory = os.fspath(directory)
        self._stack = ExitStack()

    def __call__(self, backend: str) -> str:
        if backend == "sqlite":
            return sqlite_url(os.path.join(self._directory, f"og-{secrets.token_hex(4)}.db"))
        if backend != "postgres":
            raise ValueError(f"unknown database backend {backend!r}")
        scratch: PostgresScratch = self._request.getfixturevalue("postgres_scratch")
        return self._stack.enter_context(scratch.schema())

    def close(self) -> None:
        self._stack.close()


@pytest.fixture
def database_factory(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str]
) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(request, tmp_path)
    yield factory
    factory.close()


@pytest.fixture(params=backend_params())
def db_url(request: pytest.FixtureRequest, database_factory: DatabaseFactory) -> str:
    """A fresh, empty database for this test; the test runs once per backend."""
    return database_factory(request.param)


@pytest.fixture(scope="session", params=backend_params())
def session_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One fresh database per backend for the whole session (e.g. a shared server)."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("db") / "opengroup.db")
        return
    scratch: PostgresScratch = request.getfixturevalue("postgres_scratch")
    with scratch.schema() as url:
        yield url


def main() -> int:
    """`python -m tests.support.databases`: is the test PostgreSQL usable? (CI runs this.)"""
    server = postgres_server_url()
    if server is None:
        print(skipped_postgres_summary())
        return 1
    try:
        with psycopg.connect(server, connect_timeout=10) as conn:
            version = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        print(f"PostgreSQL at {server} is not reachable: {error}")
        return 1
    print(f"PostgreSQL {version[0] if version else '?'} at {server}: the tests run on it too")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
