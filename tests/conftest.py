"""Fixtures for every suite: fresh databases of both backends (tests/support/databases.py)."""

import pytest

from tests.support.databases import (
    database_factory,
    db_url,
    postgres_scratch,
    session_db_url,
    skipped_postgres_summary,
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line at the end when the PostgreSQL variants did not run."""
    if getattr(terminalreporter.config, "workerinput", None) is not None:
        return
    line = skipped_postgres_summary()
    if line:
        terminalreporter.write_line(line, yellow=True, bold=True)


__all__ = ["database_factory", "db_url", "postgres_scratch", "session_db_url"]
