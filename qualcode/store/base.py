"""What every part of the store shares: the connection and transactions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qualcode.errors import UnitGone

if TYPE_CHECKING:
    from qualcode.models import Code


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def code_row(code: Code, position: int) -> tuple:
    """A code's columns for ``codes``, up to its position (id, parent_id,
    label, labels, description, color, position)."""
    return (
        code.id,
        code.parent_id,
        code.label,
        dumps(code.labels),
        dumps(code.description),
        code.color,
        position,
    )


class StoreBase:
    """Holds the connection. The connection runs in autocommit mode, so a
    single statement is committed when it returns (a coder's decision is
    durable the moment it is made) and multi-statement work goes through
    ``transaction()``, which commits all or nothing."""

    db: sqlite3.Connection

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self._depth = 0

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        # nested calls join the outer transaction
        if self._depth:
            self._depth += 1
            try:
                yield self.db
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.db
        except BaseException:
            self._depth = 0
            self.db.execute("ROLLBACK")
            raise
        self._depth = 0
        self.db.execute("COMMIT")

    def is_current(self, segment_id: int) -> bool:
        """Is the unit still one of its session's units (not retired or gone)?"""
        row = self.db.execute("SELECT retired FROM segments WHERE id = ?", (segment_id,)).fetchone()
        return row is not None and not row[0]

    def _require_current(self, segment_id: int) -> None:
        # an answer written to a unit that a re-import or re-segmenting
        # retired meanwhile would be kept where no count or review sees it
        if not self.is_current(segment_id):
            raise UnitGone(segment_id)

    def _log(self, coder: str, kind: str, segment_id: int | None, payload: dict) -> int:
        """Append to the event log (what undo reverts and the audit reads)."""
        cur = self.db.execute(
            "INSERT INTO events(coder, kind, segment_id, payload, at) VALUES (?, ?, ?, ?, ?)",
            (coder, kind, segment_id, dumps(payload), now()),
        )
        return int(cur.lastrowid or 0)

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
