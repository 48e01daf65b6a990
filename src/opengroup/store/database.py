"""Connections and transactions: one place that knows which database engine runs.

`Database.read()` opens a read transaction (a consistent snapshot); `Database.write()` opens
a write transaction that takes the write lock up front (SQLite `BEGIN IMMEDIATE`), so two
writers never deadlock half-way through.
"""

from __future__ import annotations

import sqlite3 as sqlite3_module
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

from ..errors import StorageFailure

Tx = Connection
Row = tuple[Any, ...]

_WRITE = "opengroup_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; everything else is passed to SQLAlchemy."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3_module.Connection, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        writing = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


# Per process. PostgreSQL's max_connections (default 100) must exceed
# processes x (pool_size + max_overflow) plus what the CLI and backups use: see
# docs/deployment.md. The URL may override them: postgresql://…/db?pool_size=5&max_overflow=5
_POOL_OPTIONS = {"pool_size": 10, "max_overflow": 20, "pool_timeout": 30}


def _pool_options(url: str) -> tuple[str, dict[str, int]]:
    """Pool settings given in the URL's query (not connection parameters), and the URL without."""
    parsed = make_url(url)
    options = dict(_POOL_OPTIONS)
    for name in _POOL_OPTIONS:
        if name in parsed.query:
            value = parsed.query[name]
            options[name] = int(value if isinstance(value, str) else value[-1])
    return parsed.difference_update_query(list(_POOL_OPTIONS)).render_as_string(
        hide_password=False
    ), options


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(url, pool_size=8, max_overflow=48, pool_timeout=30)
        _configure_sqlite(engine)
        return engine
    url, pool = _pool_options(url)
    # READ COMMITTED whatever the server's default: the per-room counters rely on its
    # "wait for the row lock, then re-read the committed row" (see messages._take_ids); under
    # REPEATABLE READ the second writer would fail with a serialization error instead.
    # pool_pre_ping: a connection that died (server restart, idle timeout in a proxy) is
    # replaced at checkout instead of failing one request.
    return create_engine(
        url,
        isolation_level="READ COMMITTED",
        pool_pre_ping=True,
        connect_args={} if "application_name" in url else {"application_name": "opengroup"},
        **pool,
    )


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.is_sqlite = is_sqlite(self.url)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        with self._translate_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read_raw(self) -> Iterator[RawTx]:
        """A read snapshot on the driver connection, for the hot path (see RawTx)."""
        with self._translate_errors():
            connection = self.engine.raw_connection()
            try:
                driver: Any = connection.driver_connection
                if self.is_sqlite:
                    driver.execute("BEGIN")
                yield RawTx(driver, postgres=not self.is_sqlite)
            finally:
                connection.close()  # the pool rolls the snapshot back

    @contextmanager
    def write_raw(self) -> Iterator[RawTx]:
        """A write transaction on the driver connection; SQLite takes its write lock up front."""
        with self._translate_errors():
            connection = self.engine.raw_connection()
            try:
                driver: Any = connection.driver_connection
                if self.is_sqlite:
                    driver.execute("BEGIN IMMEDIATE")
                yield RawTx(driver, postgres=not self.is_sqlite)
                if self.is_sqlite:
                    driver.execute("COMMIT")
                else:
                    connection.commit()
            finally:
                connection.close()  # rolls back whatever was not committed

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        driver_errors = self.engine.dialect.loaded_dbapi.OperationalError
        try:
            yield
        except OperationalError as error:
            # Disk full, read-only directory, database locked past the timeout: the client
            # gets a clear status, the operator the cause in the log.
            raise StorageFailure(f"database unavailable: {error.orig}") from error
        except driver_errors as error:
            raise StorageFailure(f"database unavailable: {error}") from error

    def dispose(self) -> None:
        self.engine.dispose()


def dialect_insert(tx: Tx, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT: both engines speak it, with their own class."""
    if tx.dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def insert_ignoring_duplicates(tx: Tx, table: Table, values: dict[str, object]) -> None:
    tx.execute(dialect_insert(tx, table).values(values).on_conflict_do_nothing())


@lru_cache(maxsize=256)
def _format_paramstyle(sql: str) -> str:
    return sql.replace("?", "%s")


class RawTx:
    """Plain SQL on the driver connection of an open transaction.

    SQLAlchemy Core spends ~70 µs building and binding each statement; an indexed SQLite
    query costs ~7 µs. The queries a poll or a post runs per room therefore go straight to the
    driver. They are written once with `?` placeholders (sqlite3); psycopg gets `%s`.
    """

    __slots__ = ("_driver", "postgres")

    def __init__(self, driver: Any, *, postgres: bool) -> None:
        self._driver = driver
        self.postgres = postgres

    @classmethod
    def of(cls, tx: Tx) -> RawTx:
        """The same transaction as an open SQLAlchemy connection, for raw statements."""
        return cls(tx.connection.driver_connection, postgres=tx.dialect.name != "sqlite")

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        return self._driver.execute(_format_paramstyle(sql) if self.postgres else sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: Row | None = self._execute(sql, params).fetchone()  # both drivers give tuples
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        rows: list[Row] = self._execute(sql, params).fetchall()
        return rows

    def run(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._execute(sql, params)


def as_raw(tx: Tx | RawTx) -> RawTx:
    """Raw statements inside whichever transaction the caller holds."""
    return tx if isinstance(tx, RawTx) else RawTx.of(tx)
