"""The project store: every SQL statement in qualcode lives in this package.

Stages talk to a ``Store`` through methods that take and return the
dataclasses in ``qualcode.models``; none of them sees a cursor or assumes
SQLite. That keeps the door open for a shared PostgreSQL database for teams
and for many transcription workers writing to one project: only this package
would change.

The store is split by concern into mixins (sessions, coding, suggestions,
review, reports, exchange), combined into one ``Store`` class here.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from qualcode.store.base import StoreBase
from qualcode.store.coding import CodingStore
from qualcode.store.exchange import ExchangeStore
from qualcode.store.reports import ReportStore
from qualcode.store.review import ReviewStore
from qualcode.store.schema import SCHEMA_VERSION, migrate
from qualcode.store.sessions import SessionStore
from qualcode.store.suggestions import SuggestionStore

__all__ = ["Store", "StoreConflict", "StoreDamaged", "StoreError", "open_store", "SCHEMA_VERSION"]

# What the backend raises when the database cannot be used (locked, disk
# full, corrupt). Callers catch this name, never the driver's own class.
StoreError = sqlite3.OperationalError
# the database file itself is damaged or is not a database (a parent of StoreError)
StoreDamaged = sqlite3.DatabaseError
# a change the schema refuses (a code id the store does not know): the data
# is fine, the caller's view of it is stale
StoreConflict = sqlite3.IntegrityError


class Store(
    SessionStore,
    CodingStore,
    SuggestionStore,
    ReviewStore,
    ReportStore,
    ExchangeStore,
    StoreBase,
):
    """A project's database."""

    path: Path | None = None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])


def open_store(path: str | Path) -> Store:
    """Open (creating and migrating if needed) the SQLite store at ``path``."""
    db = sqlite3.connect(str(path), isolation_level=None, timeout=30.0, check_same_thread=False)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA journal_mode = WAL")
    # FULL: a decision survives even a power cut, not just a killed terminal
    db.execute("PRAGMA synchronous = FULL")
    migrate(db)
    store = Store(db)
    store.path = Path(path)
    return store
