"""Copy a whole opengroup database to another one: SQLite to PostgreSQL and back.

    counts = copy_database(source_url, target_url, progress=bar.update)

One pass: a single read transaction on a consistent snapshot of the source (REPEATABLE READ on
PostgreSQL; a SQLite read transaction is a snapshot already), a single write transaction on
the target, so a copy that fails leaves the target as empty as it was. Tables go parents first
(foreign-key order), in primary-key order, in batches. Then PostgreSQL sequences are moved past
the copied ids, and every table's row count is compared with the source's.

The target must be empty: it is migrated to this code's schema first, then checked. Uploaded
files live on disk (DATA_DIR/files), not in the database: they are not copied here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Table, func, inspect, select, text
from sqlalchemy.engine import make_url

from .database import Database, is_sqlite, normalise_url
from .migrate import current_revision, head_revision, migrate
from .schema import metadata

BATCH_ROWS = 1000
TABLES: tuple[Table, ...] = tuple(metadata.sorted_tables)  # parents before children
_ALEMBIC_TABLE = "alembic_version"


class CopyError(Exception):
    """The copy cannot start or did not check out; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class TableCount:
    table: str
    source: int
    target: int

    @property
    def matches(self) -> bool:
        return self.source == self.target


def copy_database(
    source_url: str,
    target_url: str,
    *,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> list[TableCount]:
    """Copy every row; `on_total(rows)` is called once, then `progress(rows)` per batch."""
    if normalise_url(source_url) == normalise_url(target_url):
        raise CopyError("--from and --to are the same database")
    _require_existing_sqlite_file(source_url)
    source, target = Database(source_url), Database(target_url)
    try:
        _check_source(source)
        _prepare_target(target)
        with _snapshot(source) as snapshot:
            counts = {table.name: _count(snapshot, table) for table in TABLES}
            if on_total:
                on_total(sum(counts.values()))
            with target.write() as tx:
                for table in TABLES:
                    _copy_table(snapshot, tx, table, batch_rows, progress)
                _advance_sequences(tx)
        with target.read() as tx:
            result = [TableCount(t.name, counts[t.name], _count(tx, t)) for t in TABLES]
    finally:
        source.dispose()
        target.dispose()
    wrong = [c for c in result if not c.matches]
    if wrong:
        raise CopyError(
            "row counts differ after the copy: "
            + ", ".join(f"{c.table} {c.source} -> {c.target}" for c in wrong)
        )
    return result


def _require_existing_sqlite_file(url: str) -> None:
    """SQLite would create a missing file and we would copy nothing: say so instead."""
    if not is_sqlite(url):
        return
    path = make_url(normalise_url(url)).database or ""
    if path in ("", ":memory:") or not Path(path).is_file():
        raise CopyError(f"source database file not found: {path or url}")


def _check_source(source: Database) -> None:
    with source.engine.connect() as conn:
        revision = current_revision(conn)
    if revision is None:
        raise CopyError("the source holds no opengroup database (no schema revision)")
    if revision != head_revision():
        migrate(source)  # an older schema: bring it up first, as any opengroup command would


def _prepare_target(target: Database) -> None:
    with target.engine.connect() as conn:
        present = set(inspect(conn).get_table_names())
        revision = current_revision(conn) if _ALEMBIC_TABLE in present else None
    ours = {table.name for table in TABLES} | {_ALEMBIC_TABLE}
    foreign = sorted(present - ours)
    if foreign:
        raise CopyError(f"the target is not empty: it has other tables ({', '.join(foreign)})")
    if present and revision is None:
        raise CopyError("the target is not empty: it has opengroup tables but no schema revision")
    migrate(target)
    with target.read() as tx:
        filled = [(t.name, n) for t in TABLES if (n := _count(tx, t))]
    if filled:
        listed = ", ".join(f"{name} has {n} rows" for name, n in filled)
        raise CopyError(f"the target is not empty ({listed}); copy only into an empty database")


@contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """A read transaction that sees one moment of the source across all tables."""
    with db.engine.connect() as conn:
        if not db.is_sqlite:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _copy_table(
    source: Connection,
    target: Connection,
    table: Table,
    batch_rows: int,
    progress: Callable[[int], None] | None,
) -> None:
    query = select(table).order_by(*table.primary_key.columns)
    result = source.execution_options(stream_results=True, yield_per=batch_rows).execute(query)
    for batch in result.mappings().partitions(batch_rows):
        target.execute(table.insert(), [dict(row) for row in batch])
        if progress:
            progress(len(batch))


def _advance_sequences(tx: Connection) -> None:
    """PostgreSQL: serial columns (rooms.pk) continue after the largest copied id.

    SQLite needs nothing: an INTEGER PRIMARY KEY takes max(rowid) + 1.
    """
    if tx.dialect.name != "postgresql":
        return
    for table in TABLES:
        column = table.autoincrement_column
        if column is None:
            continue
        tx.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, :column),"
                f" COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
            ),
            {"table": table.name, "column": column.name},
        )
