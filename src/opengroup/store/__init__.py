"""The store: schema, migrations and queries. Nothing outside this package writes SQL."""

from .database import Database, Tx
from .files import BlobStore

__all__ = ["BlobStore", "Database", "Tx"]
