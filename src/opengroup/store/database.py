"""Connections and transactions: one place that knows which database engine runs.

`Database.read()` opens a read transaction (a consistent snapshot); `Database.write()` opens
a write transaction that takes the write lock up front (SQLite `BEGIN IMMEDIATE`), so two
writers never deadlock half-way through.
"""

from __future__ import annotations

import asyncio
import sqlite3 as sqlite3_module
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from .failures import classify
from .statements import Params, Spread, Statement
from .write_lock import SQLiteWriteLock

Tx = Connection
Row = tuple[Any, ...]

_WRITE = "opengroup_write"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# The store's threads per process: requests that may block run there (see Database.run).
STORE_THREADS = 16
T = TypeVar("T")


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; everything else is passed to SQLAlchemy."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def _configure_sqlite(engine: Engine, *, background_checkpoints: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: sqlite3_module.Connection, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours to issue.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        if background_checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
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


def make_engine(url: str, *, background_checkpoints: bool = False) -> Engine:
    url = normalise_url(url)
    if is_sqlite(url):
        engine = create_engine(url, pool_size=8, max_overflow=48, pool_timeout=30)
        _configure_sqlite(engine, background_checkpoints=background_checkpoints)
        return engine
    url, pool = _pool_options(url)
    # READ COMMITTED whatever the server's default: the per-room counters rely on its
    # "wait for the row lock, then re-read the committed row" (see counters.py); under
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


class WouldBlock(BaseException):
    """Raised inside `Database.no_wait_writes()` where a write would have to wait for the
    writers' lock (or is not allowed without waiting: SQLAlchemy writes, PostgreSQL): nothing
    was written, and the caller runs the work again where it may wait. A BaseException, so
    that no handler's `except Exception` turns it into an answer."""


class Database:
    """`background_checkpoints` (SQLite): commits never copy the WAL into the database file;
    the owner calls `checkpoint()` from elsewhere (the server: every CHECKPOINT_SECONDS).
    Otherwise the commit that crosses 1,000 WAL pages does it, fsync included, while every
    other writer waits for it (bench: post p99 35 -> 14 ms, posts/s +15%).

    Work that can block (a write waiting for the writers' lock, any PostgreSQL round trip)
    runs in the store's own threads (`run`), never on a server's event loop: a worker whose
    database is slow or locked still answers /health and reads of other rooms.
    `write_lock_seconds` bounds the wait for the writers' lock (then StorageBusy, a 503)."""

    def __init__(
        self,
        url: str,
        *,
        background_checkpoints: bool = False,
        write_lock_seconds: float = SQLITE_BUSY_TIMEOUT_MS / 1000,
        threads: int = STORE_THREADS,
    ) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, background_checkpoints=background_checkpoints)
        self.is_sqlite = is_sqlite(self.url)
        self._driver_errors: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        self._thread_drivers = _ThreadDrivers(self.engine) if self.is_sqlite else None
        self._write_lock = (
            SQLiteWriteLock(_sqlite_file(self.url), write_lock_seconds) if self.is_sqlite else None
        )
        self._executor: ThreadPoolExecutor | None = None
        self._threads = threads
        self._scope = threading.local()  # the thread's shared_reads() scope, if any
        self._first_write = threading.local()

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in one of the store's threads (created on first use)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._threads, thread_name_prefix="store")
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)

    @property
    def reads_can_block(self) -> bool:
        """SQLite reads in WAL mode never wait for writers; PostgreSQL's are network round
        trips (and a pool checkout), so they can."""
        return not self.is_sqlite

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with self._translate_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Tx]:
        if getattr(self._scope, "no_wait", False):
            raise WouldBlock
        self._end_shared_snapshot()
        hook = getattr(self._first_write, "hook", None)
        with self._translate_errors(), self._writers_queue(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if hook is not None:
                    hook(conn)
                yield conn
        if hook is not None:
            self._first_write.hook = None  # committed

    def first_write_does(self, hook: Callable[[Tx | RawTx], None]) -> AbstractContextManager[None]:
        """In this thread, until one commits, every write transaction starts with `hook(tx)`
        (which may raise to refuse the write): e.g. recording what the write acts on."""
        return _ThreadSetting(self._first_write, "hook", hook, None)

    def read_raw(self) -> AbstractContextManager[RawTx]:
        """A read snapshot on the driver connection, for the hot path (see RawTx). Inside
        `shared_reads()`, the scope's snapshot (opened on first use)."""
        scope: _SharedReads | None = getattr(self._scope, "shared", None)
        if scope is not None:
            return scope.read()
        return self._own_read_raw()

    def _own_read_raw(self) -> AbstractContextManager[RawTx]:
        if self._thread_drivers is not None:
            return _SQLiteRawTransaction(self._thread_drivers, None, self._driver_errors)
        return self._postgres_raw(commit=False)

    def shared_reads(self) -> AbstractContextManager[None]:
        """Reads of this thread share one read transaction until the scope ends or a write
        begins (a read after a write sees it: the write ends the shared snapshot, the next
        read opens another). For the sub-requests of one modern batch: one BEGIN, one pool
        checkout on PostgreSQL, instead of one per sub-request. Nested scopes are one."""
        if getattr(self._scope, "shared", None) is not None:
            return _NO_SCOPE
        return _SharedReads(self)

    def _end_shared_snapshot(self) -> None:
        scope: _SharedReads | None = getattr(self._scope, "shared", None)
        if scope is not None:
            scope.end_snapshot()

    def write_raw(self) -> AbstractContextManager[RawTx]:
        """A write transaction on the driver connection; SQLite takes its write lock up front.
        Inside `no_wait_writes()`, only if the lock is free now (else WouldBlock)."""
        no_wait = getattr(self._scope, "no_wait", False)
        if no_wait and self._thread_drivers is None:
            raise WouldBlock
        self._end_shared_snapshot()
        transaction: AbstractContextManager[RawTx]
        if self._thread_drivers is not None:
            transaction = _SQLiteRawTransaction(
                self._thread_drivers, self._write_lock, self._driver_errors, no_wait=no_wait
            )
        else:
            transaction = self._postgres_raw(commit=True)
        hook = getattr(self._first_write, "hook", None)
        return transaction if hook is None else _Hooked(transaction, hook, self._first_write)

    def no_wait_writes(self) -> AbstractContextManager[None]:
        """Writes of this thread in the scope never wait: on SQLite, `write_raw` takes the
        writers' lock only if it is free and SQLite's own lock only if it is (busy timeout
        0), else raises WouldBlock before writing anything; other writes raise it at once.
        For short writes on an event loop (a signed read's nonce), with a fallback to a
        store thread."""
        return _ThreadSetting(self._scope, "no_wait", True, False)

    @contextmanager
    def _postgres_raw(self, *, commit: bool) -> Iterator[RawTx]:
        with self._translate_errors():
            connection = self.engine.raw_connection()
            try:
                yield RawTx(connection.driver_connection, postgres=True)
                if commit:
                    connection.commit()
            finally:
                connection.close()  # rolls back whatever was not committed

    def checkpoint(self) -> tuple[int, int] | None:
        """SQLite: copy what it can of the WAL into the database file without waiting for
        readers or writers; (frames in the WAL, frames copied). None on PostgreSQL, or when
        another process is checkpointing."""
        if not self.is_sqlite:
            return None
        with self._translate_errors():
            connection = self.engine.raw_connection()
            try:
                driver: Any = connection.driver_connection
                busy, frames, copied = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                connection.close()
        return None if busy else (frames, copied)

    @contextmanager
    def _writers_queue(self) -> Iterator[None]:
        if self._write_lock is None:
            yield
        else:
            with self._write_lock.held():
                yield

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except (SQLAlchemyError, self._driver_errors) as error:
            # Disk full, read-only directory, lost connection, busy lock: the client gets a
            # clear status, the operator the cause in the log. Anything else is a bug.
            mapped = classify(error)
            if mapped is None:
                raise
            raise mapped from error

    def dispose(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._thread_drivers is not None:
            self._thread_drivers.close_all()
        if self._write_lock is not None:
            self._write_lock.close()
        self.engine.dispose()


def _sqlite_file(url: str) -> str | None:
    database = make_url(url).database
    return None if not database or database == ":memory:" else database


class _DriverHolder:
    """A thread's connection. The holder (unlike sqlite3's connection) can be weakly
    referenced, so the connection closes with its thread while dispose() can still reach it."""

    __slots__ = ("__weakref__", "busy_timeout_ms", "driver")

    def __init__(self, driver: Any) -> None:
        self.driver = driver
        # As the pool's connect hook set it; changed only when a write needs the other value
        # (see _SQLiteRawTransaction._begin_write).
        self.busy_timeout_ms = SQLITE_BUSY_TIMEOUT_MS


class _ThreadDrivers:
    """One SQLite connection per thread for the raw hot path, kept open between requests.

    A pool checkout and check-in cost more than a poll's queries (~20% of a compact_poll),
    and a connection that stays with its thread keeps its page cache warm. A thread that
    is already inside a raw transaction (one nested in another) gets a pooled connection.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._local = threading.local()
        self._holders: weakref.WeakSet[_DriverHolder] = weakref.WeakSet()
        self._guard = threading.Lock()

    def connection(self) -> _DriverHolder | PoolProxiedConnection:
        """This thread's connection, or a pooled one if this thread's is in a transaction
        already (a raw transaction nested in another)."""
        holder: _DriverHolder | None = getattr(self._local, "holder", None)
        if holder is None:
            return self._open()
        if holder.driver.in_transaction:
            return self._engine.raw_connection()
        return holder

    def _open(self) -> _DriverHolder:
        # Detached from the pool: the pool's connect hook has set it up (WAL, busy timeout,
        # transactions left to us), and the pool no longer counts or recycles it.
        pooled = self._engine.raw_connection()
        holder = _DriverHolder(pooled.driver_connection)
        pooled.detach()
        with self._guard:
            self._holders.add(holder)
        self._local.holder = holder
        return holder

    def end(self, holder: _DriverHolder) -> None:
        """Roll back what was not committed (a read snapshot, a failed write). A connection
        that cannot even roll back is dropped, and the thread's next request opens another."""
        if not holder.driver.in_transaction:
            return
        try:
            holder.driver.execute("ROLLBACK")
        except sqlite3_module.Error:
            self._local.holder = None
            holder.driver.close()
            raise

    def close_all(self) -> None:
        with self._guard:
            holders = list(self._holders)
            self._holders = weakref.WeakSet()
        self._local = threading.local()
        for holder in holders:
            holder.driver.close()


class _ThreadSetting:
    """`name` of a thread-local set to `value` for a `with` block, then to `after`. A class:
    a @contextmanager generator costs several µs, and a post goes through three scopes."""

    __slots__ = ("_after", "_local", "_name", "_value")

    def __init__(self, local: threading.local, name: str, value: object, after: object) -> None:
        self._local, self._name, self._value, self._after = local, name, value, after

    def __enter__(self) -> None:
        setattr(self._local, self._name, self._value)

    def __exit__(self, *exc_info: object) -> None:
        setattr(self._local, self._name, self._after)


class _Hooked:
    """A raw write transaction that starts with the thread's first-write hook (rolled back
    with the hook's error if it raises) and clears the hook once it commits."""

    __slots__ = ("_first_write", "_hook", "_transaction")

    def __init__(
        self,
        transaction: AbstractContextManager[RawTx],
        hook: Callable[[Tx | RawTx], None],
        first_write: threading.local,
    ) -> None:
        self._transaction, self._hook, self._first_write = transaction, hook, first_write

    def __enter__(self) -> RawTx:
        tx = self._transaction.__enter__()
        try:
            self._hook(tx)
        except BaseException as error:
            self._transaction.__exit__(type(error), error, error.__traceback__)
            raise
        return tx

    def __exit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: Any
    ) -> None:
        self._transaction.__exit__(exc_type, error, tb)
        if exc_type is None:
            self._first_write.hook = None  # committed


def _begin_immediate_or_would_block(driver: Any) -> None:
    """BEGIN IMMEDIATE with the busy timeout at 0: a writer outside our lock (a shell, a
    tool) holding SQLite's own lock makes it WouldBlock, not a sleep."""
    try:
        driver.execute("BEGIN IMMEDIATE")
    except sqlite3_module.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise WouldBlock from error
        raise


class _SQLiteRawTransaction:
    """`Database.read_raw()` (lock None: BEGIN) or `write_raw()` (BEGIN IMMEDIATE, COMMIT) on
    SQLite. A class, not nested @contextmanager generators: those cost ~10,000 instructions
    each, and the three or five of them made up ~3% of a compact_poll."""

    __slots__ = ("_connection", "_driver", "_drivers", "_errors", "_lock", "_no_wait")

    def __init__(
        self,
        drivers: _ThreadDrivers,
        lock: SQLiteWriteLock | None,
        errors: type[Exception],
        *,
        no_wait: bool = False,
    ) -> None:
        self._drivers = drivers
        self._lock = lock
        self._errors = errors
        self._no_wait = no_wait
        self._connection: _DriverHolder | PoolProxiedConnection | None = None
        self._driver: Any = None

    def __enter__(self) -> RawTx:
        if self._lock is not None:
            if not self._no_wait:
                self._lock.acquire()
            elif not self._lock.try_acquire():
                raise WouldBlock
        try:
            self._connection = connection = self._drivers.connection()
            driver: Any = (
                connection.driver
                if isinstance(connection, _DriverHolder)
                else connection.driver_connection
            )
            self._driver = driver
            if self._lock is None:
                driver.execute("BEGIN")
            elif isinstance(connection, _DriverHolder):
                self._begin_write(connection)
            elif self._no_wait:
                self._begin_no_wait(driver)
            else:
                driver.execute("BEGIN IMMEDIATE")
        except BaseException as error:
            self._finish()
            mapped = classify(error) if isinstance(error, self._errors) else None
            if mapped is None:
                raise
            raise mapped from error
        return RawTx(driver, postgres=False)

    def __exit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        try:
            try:
                if error is None and self._lock is not None:
                    self._driver.execute("COMMIT")
            finally:
                self._finish()
        except self._errors as failure:
            mapped = classify(failure)
            if mapped is None:
                raise
            raise mapped from failure
        mapped = classify(error) if isinstance(error, self._errors) else None
        if mapped is not None:
            raise mapped from error
        # Anything else the body raised (a bug's driver error included) goes on unchanged.

    def _begin_write(self, holder: _DriverHolder) -> None:
        """BEGIN IMMEDIATE on a thread's own connection, its busy timeout set for this write:
        0 without waiting (see _begin_no_wait), else the full wait. Only the event loop's
        thread makes no-wait writes, and only store threads waiting ones, so each connection
        keeps its value and the PRAGMA runs once, not twice per write (~4 µs of a post)."""
        wanted = 0 if self._no_wait else SQLITE_BUSY_TIMEOUT_MS
        if holder.busy_timeout_ms != wanted:
            holder.driver.execute(f"PRAGMA busy_timeout = {wanted}")
            holder.busy_timeout_ms = wanted
        if self._no_wait:
            _begin_immediate_or_would_block(holder.driver)
        else:
            holder.driver.execute("BEGIN IMMEDIATE")

    @staticmethod
    def _begin_no_wait(driver: Any) -> None:
        """The same on a pooled connection (a transaction nested in another), which goes back
        to the pool with the full wait."""
        driver.execute("PRAGMA busy_timeout = 0")
        try:
            _begin_immediate_or_would_block(driver)
        finally:
            driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    def _finish(self) -> None:
        """Roll back what was not committed, give back a pooled connection, unlock."""
        connection, self._connection, self._driver = self._connection, None, None
        try:
            if isinstance(connection, _DriverHolder):
                self._drivers.end(connection)
            elif connection is not None:
                connection.close()  # the pool rolls back whatever was not committed
        finally:
            if self._lock is not None:
                self._lock.release()


class _SharedReads:
    """`Database.shared_reads()`: one read transaction for the reads of a scope."""

    __slots__ = ("_context", "_db", "_rtx")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._context: AbstractContextManager[RawTx] | None = None
        self._rtx: RawTx | None = None

    def __enter__(self) -> None:
        self._db._scope.shared = self

    def __exit__(self, exc_type: type[BaseException] | None, error: object, tb: object) -> None:
        self._db._scope.shared = None
        self.end_snapshot()

    def read(self) -> AbstractContextManager[RawTx]:
        if self._rtx is None:
            context = self._db._own_read_raw()
            self._rtx = context.__enter__()
            self._rtx.memo = {}
            self._context = context
        return _SharedRead(self, self._rtx)

    def end_snapshot(
        self,
        exc_type: type[BaseException] | None = None,
        error: BaseException | None = None,
        tb: object = None,
    ) -> None:
        """End the shared transaction; given a failure, as its own `with` would end on it
        (a driver error is mapped to its StorageFailure there)."""
        context, self._context, self._rtx = self._context, None, None
        if context is not None:
            context.__exit__(exc_type, error, tb)  # type: ignore[arg-type]


class _SharedRead:
    """One read inside a shared scope: nothing to begin or end, except that a failure ends
    the snapshot (PostgreSQL refuses every later statement of a failed transaction)."""

    __slots__ = ("_rtx", "_scope")

    def __init__(self, scope: _SharedReads, rtx: RawTx) -> None:
        self._scope = scope
        self._rtx = rtx

    def __enter__(self) -> RawTx:
        return self._rtx

    def __exit__(
        self, exc_type: type[BaseException] | None, error: BaseException | None, tb: object
    ) -> None:
        if exc_type is not None:
            self._scope.end_snapshot(exc_type, error, tb)


class _NoScope:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


_NO_SCOPE = _NoScope()


def dialect_insert(tx: Tx, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT: both engines speak it, with their own class."""
    if tx.dialect.name == "sqlite":
        return sqlite.insert(table)
    return postgresql.insert(table)


def insert_ignoring_duplicates(tx: Tx, table: Table, values: dict[str, object]) -> None:
    tx.execute(dialect_insert(tx, table).values(values).on_conflict_do_nothing())


class RawTx:
    """Plain SQL on the driver connection of an open transaction.

    SQLAlchemy Core spends ~70 µs building and binding each statement; an indexed SQLite
    query costs ~7 µs. The queries a poll or a post runs per room therefore go straight to the
    driver, as `Statement`s (statements.py): written once with named parameters, compiled
    by SQLAlchemy into each driver's text when defined, and given their values as a tuple.
    Only a Statement is accepted, so no hand-written driver SQL gets in.
    """

    __slots__ = ("_driver", "memo", "postgres")

    def __init__(self, driver: Any, *, postgres: bool) -> None:
        self._driver = driver
        self.postgres = postgres
        # A shared read transaction's memo (Database.shared_reads): what a use case looked up
        # once in it, e.g. a room and the caller's standing there. None elsewhere.
        self.memo: dict[Any, Any] | None = None

    @classmethod
    def of(cls, tx: Tx) -> RawTx:
        """The same transaction as an open SQLAlchemy connection, for raw statements."""
        return cls(tx.connection.driver_connection, postgres=tx.dialect.name != "sqlite")

    def _form(self, statement: Statement) -> tuple[str, Spread | None]:
        if self.postgres:
            return statement.postgres, statement.postgres_spread
        return statement.sqlite, statement.sqlite_spread

    def _execute(self, statement: Statement, params: Params) -> Any:
        # _form inlined: a poll or a post runs this for every statement.
        if self.postgres:
            sql, spread = statement.postgres, statement.postgres_spread
        else:
            sql, spread = statement.sqlite, statement.sqlite_spread
        return self._driver.execute(sql, params if spread is None else spread(params))

    def one(self, statement: Statement, params: Params = ()) -> Row | None:
        row: Row | None = self._execute(statement, params).fetchone()  # both give tuples
        return row

    def all(self, statement: Statement, params: Params = ()) -> list[Row]:
        rows: list[Row] = self._execute(statement, params).fetchall()
        return rows

    def run(self, statement: Statement, params: Params = ()) -> None:
        self._execute(statement, params)

    def run_counted(self, statement: Statement, params: Params = ()) -> int:
        """Run a statement; the number of rows it changed."""
        return int(self._execute(statement, params).rowcount)

    def run_many(self, statement: Statement, rows: Sequence[Params]) -> None:
        """One statement for each of `rows` (the driver's executemany)."""
        if not rows:
            return
        sql, spread = self._form(statement)
        if spread is not None:
            rows = [spread(row) for row in rows]
        if self.postgres:
            with self._driver.cursor() as cursor:
                cursor.executemany(sql, rows)
        else:
            self._driver.executemany(sql, rows)


def as_raw(tx: Tx | RawTx) -> RawTx:
    """Raw statements inside whichever transaction the caller holds."""
    return tx if isinstance(tx, RawTx) else RawTx.of(tx)
