"""Fixtures for every suite: fresh databases of both backends (tests/support/databases.py)."""

from tests.support.databases import (
    database_factory,
    db_url,
    postgres_scratch,
    session_db_url,
)

__all__ = ["database_factory", "db_url", "postgres_scratch", "session_db_url"]
