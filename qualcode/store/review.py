"""Store queries for the review stage: which units a coder finished, unit
text corrections, memos, and undo.

Undo works on the append-only ``events`` table: the review loop writes an
``action`` event before each keystroke's changes (accept, toggle, edit ...),
every change logs its own event with what it replaced, and ``undo_last``
reverts everything after the coder's latest action that is not yet undone,
then logs an ``undo`` event naming the events it reverted. Nothing is
deleted from the history, so an audit can replay what a coder did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from qualcode.errors import NotFound, QualcodeError
from qualcode.store.base import StoreBase, now

REVIEW_STATUSES = ("done", "skipped")


@dataclass
class Event:
    id: int
    coder: str
    kind: str
    segment_id: int | None
    payload: dict = field(default_factory=dict)
    at: str = ""


@dataclass
class SessionProgress:
    """Codable units of one session and how many a coder has reviewed."""

    session_id: int
    name: str
    total: int
    done: int
    skipped: int


class ReviewStore(StoreBase):
    # -- review status ------------------------------------------------------

    def log_action(self, coder: str, name: str, segment_id: int | None) -> int:
        """Start an undoable group: everything the coder changes until the next
        action is undone together."""
        with self.transaction():  # waits for another process's re-cut to finish
            if segment_id is not None:
                self._require_current(segment_id)
            return self._log(coder, "action", segment_id, {"name": name})

    def mark_reviewed(self, segment_id: int, coder: str, status: str = "done") -> None:
        """Record that ``coder`` finished (``done``) or ``skipped`` a unit."""
        if status not in REVIEW_STATUSES:
            raise QualcodeError(f"unknown review status {status!r}; use done or skipped")
        with self.transaction():
            self._require_current(segment_id)
            row = self.db.execute(
                "SELECT status FROM reviews WHERE segment_id = ? AND coder = ?",
                (segment_id, coder),
            ).fetchone()
            before = row[0] if row else None
            if before == status:
                return
            self.db.execute(
                "INSERT INTO reviews(segment_id, coder, status, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(segment_id, coder) DO UPDATE SET status = excluded.status, "
                "at = excluded.at",
                (segment_id, coder, status, now()),
            )
            self._log(coder, "review", segment_id, {"before": before, "after": status})

    def mark_coded_elsewhere(self, pairs: Iterable[tuple[int, str]]) -> int:
        """Record (unit, coder) pairs coded outside review (imported hand
        coding) as ``done``: a unit the coder gave no code then counts, as
        after review, as a "no" for every code (for training and agreement).
        A status the coder set in review is kept; the review undo log is not
        touched, since nothing here was done in review. Returns pairs added."""
        at = now()
        with self.transaction():
            cur = self.db.executemany(
                "INSERT INTO reviews(segment_id, coder, status, at) VALUES (?, ?, 'done', ?) "
                "ON CONFLICT(segment_id, coder) DO NOTHING",
                [(segment_id, coder, at) for segment_id, coder in pairs],
            )
            return max(cur.rowcount, 0)

    def reviewers(self) -> list[str]:
        """Coders with a review status on any unit (a unit finished with no
        code leaves no decision, only this)."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT coder FROM reviews ORDER BY 1")]

    def review_statuses(self, coder: str) -> dict[int, str]:
        """segment id -> ``done``/``skipped`` for one coder."""
        return dict(
            self.db.execute(
                "SELECT segment_id, status FROM reviews WHERE coder = ?", (coder,)
            ).fetchall()
        )

    def review_progress(self, coder: str) -> list[SessionProgress]:
        """Per session: codable current units, and how many ``coder`` reviewed."""
        rows = self.db.execute(
            """
            SELECT s.id, s.name, COUNT(g.id),
                   COALESCE(SUM(r.status = 'done'), 0), COALESCE(SUM(r.status = 'skipped'), 0)
            FROM sessions s
            JOIN segments g ON g.session_id = s.id AND g.codable = 1 AND g.retired = 0
            LEFT JOIN reviews r ON r.segment_id = g.id AND r.coder = ?
            GROUP BY s.id ORDER BY s.id
            """,
            (coder,),
        ).fetchall()
        return [SessionProgress(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]

    def coder_codes(self, coder: str) -> dict[int, dict[str, str]]:
        """segment id -> {code id: verdict} of one coder's decisions (only
        theirs: coders review independently)."""
        out: dict[int, dict[str, str]] = {}
        for seg, code, verdict in self.db.execute(
            "SELECT segment_id, code_id, verdict FROM decisions WHERE coder = ?", (coder,)
        ):
            out.setdefault(seg, {})[code] = verdict
        return out

    def coder_codes_for(self, segment_id: int, coder: str) -> dict[str, str]:
        return dict(
            self.db.execute(
                "SELECT code_id, verdict FROM decisions WHERE segment_id = ? AND coder = ?",
                (segment_id, coder),
            ).fetchall()
        )

    def review_statuses_for(self, segment_id: int, coder: str) -> str | None:
        row = self.db.execute(
            "SELECT status FROM reviews WHERE segment_id = ? AND coder = ?", (segment_id, coder)
        ).fetchone()
        return row[0] if row else None

    # -- text corrections and memos ----------------------------------------

    def edit_segment_text(self, segment_id: int, coder: str, text: str) -> None:
        """Correct a unit's text; the first edit keeps the transcript's text in
        ``original_text`` and every edit is logged with what it replaced."""
        text = text.strip()
        if not text:
            raise QualcodeError(
                f"unit {segment_id}: the text cannot be empty; press Escape to keep it"
            )
        with self.transaction():
            row = self.db.execute(
                "SELECT text, original_text FROM segments WHERE id = ?", (segment_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"no coding unit with id {segment_id}")
            if row[0] == text:
                return
            self._require_current(segment_id)
            self.db.execute(
                "UPDATE segments SET text = ?, original_text = COALESCE(original_text, ?) "
                "WHERE id = ?",
                (text, row[0], segment_id),
            )
            self._log(
                coder,
                "edit",
                segment_id,
                {"before": row[0], "after": text, "original_before": row[1]},
            )

    def memo(self, segment_id: int, coder: str) -> str | None:
        row = self.db.execute(
            "SELECT text FROM memos WHERE segment_id = ? AND coder = ? ORDER BY id LIMIT 1",
            (segment_id, coder),
        ).fetchone()
        return row[0] if row else None

    def set_memo(self, segment_id: int, coder: str, text: str) -> None:
        """Add, replace or (empty text) remove a coder's memo on a unit."""
        text = text.strip()
        with self.transaction():
            before = self.memo(segment_id, coder)
            if (before or "") == text:
                return
            self._require_current(segment_id)
            self._write_memo(segment_id, coder, text or None)
            self._log(coder, "memo", segment_id, {"before": before, "after": text or None})

    def _write_memo(self, segment_id: int, coder: str, text: str | None) -> None:
        stamp = now()
        if text is None:
            self.db.execute(
                "DELETE FROM memos WHERE segment_id = ? AND coder = ?", (segment_id, coder)
            )
            return
        cur = self.db.execute(
            "UPDATE memos SET text = ?, updated_at = ? WHERE segment_id = ? AND coder = ?",
            (text, stamp, segment_id, coder),
        )
        if not cur.rowcount:
            self.db.execute(
                "INSERT INTO memos(segment_id, session_id, coder, text, created_at, updated_at) "
                "SELECT id, session_id, ?, ?, ?, ? FROM segments WHERE id = ?",
                (coder, text, stamp, stamp, segment_id),
            )

    # -- undo ---------------------------------------------------------------

    def _undone_ids(self, coder: str) -> set[int]:
        undone: set[int] = set()
        for (payload,) in self.db.execute(
            "SELECT payload FROM events WHERE coder = ? AND kind = 'undo'", (coder,)
        ):
            undone.update(json.loads(payload).get("event_ids", []))
        return undone

    def last_events(self, coder: str) -> list[Event]:
        """The coder's latest not-yet-undone group of changes: its ``action``
        event (when there is one) and everything logged after it, oldest first."""
        undone = self._undone_ids(coder)
        group: list[Event] = []
        for r in self.db.execute(
            "SELECT id, coder, kind, segment_id, payload, at FROM events "
            "WHERE coder = ? AND kind != 'undo' ORDER BY id DESC",
            (coder,),
        ):
            if r[0] in undone:
                continue
            event = Event(int(r[0]), r[1], r[2], r[3], json.loads(r[4]), r[5])
            if event.kind == "barrier":
                # a change made outside review (a code merge) that the
                # older steps would undo wrongly: undo stops here
                return []
            group.append(event)
            if event.kind == "action":
                break
        return group[::-1]

    def undo_last(self, coder: str) -> list[Event]:
        """Revert the coder's latest group of changes; returns what was undone
        (empty when there is nothing left to undo)."""
        with self.transaction():
            group = self.last_events(coder)
            for event in reversed(group):
                self._revert(event)
            if group:
                self._log(
                    coder,
                    "undo",
                    group[0].segment_id,
                    {"event_ids": [e.id for e in group]},
                )
        return group

    def _revert(self, e: Event) -> None:
        p, seg = e.payload, e.segment_id
        if e.kind == "decision":
            before = p.get("before")
            if before is None:
                self.db.execute(
                    "DELETE FROM decisions WHERE segment_id = ? AND code_id = ? AND coder = ?",
                    (seg, p["code_id"], e.coder),
                )
            else:
                self.db.execute(
                    "UPDATE decisions SET verdict = ?, memo = ? "
                    "WHERE segment_id = ? AND code_id = ? AND coder = ?",
                    (before[0], before[1], seg, p["code_id"], e.coder),
                )
        elif e.kind == "review":
            if p.get("before") is None:
                self.db.execute(
                    "DELETE FROM reviews WHERE segment_id = ? AND coder = ?", (seg, e.coder)
                )
            else:
                self.db.execute(
                    "UPDATE reviews SET status = ? WHERE segment_id = ? AND coder = ?",
                    (p["before"], seg, e.coder),
                )
        elif e.kind == "edit":
            # the text is shared: when another coder corrected it since, undoing
            # this coder's edit would throw their correction away, so it stays
            self.db.execute(
                "UPDATE segments SET text = ?, original_text = ? WHERE id = ? AND text = ?",
                (p["before"], p.get("original_before"), seg, p.get("after")),
            )
        elif e.kind == "memo":
            self._write_memo(seg or 0, e.coder, p.get("before"))
