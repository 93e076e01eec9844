"""Codes, coding units (segments) and coder decisions."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from qualcode.errors import NotFound, QualcodeError
from qualcode.models import VERDICTS, Code, Decision, Segment
from qualcode.store.base import StoreBase, code_row, dumps, now

_APPLIED = "('accepted', 'added')"

_SEGMENT_SELECT = """
    SELECT g.id, g.session_id, g.seq, g.text, g.char_start, g.char_end, p.name,
           g.participant_id, g.utterance_id, g.start, g.end, g.codable, g.original_text
    FROM segments g LEFT JOIN participants p ON p.id = g.participant_id
"""


def _segment(row: Sequence) -> Segment:
    return Segment(
        id=row[0],
        session_id=row[1],
        seq=row[2],
        text=row[3],
        char_start=row[4],
        char_end=row[5],
        speaker=row[6],
        participant_id=row[7],
        utterance_id=row[8],
        start=row[9],
        end=row[10],
        codable=bool(row[11]),
        original_text=row[12],
    )


class CodingStore(StoreBase):
    # -- codes --------------------------------------------------------------

    def sync_codes(self, codes: Sequence[Code]) -> tuple[list[str], list[str]]:
        """Make the project's codes match a codebook. Codes missing from it are
        kept but marked inactive, so no decision is dropped. Returns (added ids,
        deactivated ids)."""
        with self.transaction():
            before = {r[0]: bool(r[1]) for r in self.db.execute("SELECT id, active FROM codes")}
            # parents first: codes are listed depth-first by the codebook loader
            for pos, c in enumerate(codes):
                self.db.execute(
                    """
                    INSERT INTO codes(id, parent_id, label, labels, description, color,
                                      position, active)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT(id) DO UPDATE SET parent_id = excluded.parent_id,
                        label = excluded.label, labels = excluded.labels,
                        description = excluded.description, color = excluded.color,
                        position = excluded.position, active = 1
                    """,
                    code_row(c, pos),
                )
            new_ids = {c.id for c in codes}
            gone = [cid for cid, active in before.items() if active and cid not in new_ids]
            for cid in gone:
                self.db.execute("UPDATE codes SET active = 0 WHERE id = ?", (cid,))
            added = [c.id for c in codes if c.id not in before]
            return added, gone

    def codes(self, *, include_inactive: bool = False) -> list[Code]:
        sql = "SELECT id, parent_id, label, labels, description, color, position, active FROM codes"
        if not include_inactive:
            sql += " WHERE active = 1"
        sql += " ORDER BY position, id"
        return [
            Code(
                id=r[0],
                parent_id=r[1],
                label=r[2],
                labels=json.loads(r[3]),
                description=json.loads(r[4]),
                color=r[5],
                position=r[6],
                active=bool(r[7]),
            )
            for r in self.db.execute(sql)
        ]

    def code_ids_in_use(self) -> dict[str, int]:
        """Number of decisions per code id (to report what a codebook change touches)."""
        return dict(
            self.db.execute("SELECT code_id, COUNT(*) FROM decisions GROUP BY code_id").fetchall()
        )

    def merge_code(self, old: str, new: str, *, dry_run: bool = False) -> tuple[int, int]:
        """Move every decision on code ``old`` to ``new`` in one transaction;
        where a coder decided both on one unit, a yes (accepted/added) wins.
        ``old``'s suggestions go (new ones come from the codebook). Returns
        (decisions moved, pairs joined into one)."""
        pairs = self.db.execute(
            """
            SELECT o.id, o.verdict, n.id, n.verdict FROM decisions o
            JOIN decisions n ON n.segment_id = o.segment_id AND n.coder = o.coder
                AND n.code_id = ?
            WHERE o.code_id = ?
            """,
            (new, old),
        ).fetchall()
        (total,) = self.db.execute(
            "SELECT COUNT(*) FROM decisions WHERE code_id = ?", (old,)
        ).fetchone()
        if dry_run:
            return int(total) - len(pairs), len(pairs)
        with self.transaction():
            for old_id, old_verdict, new_id, new_verdict in pairs:
                if old_verdict in ("accepted", "added") and new_verdict == "rejected":
                    self.db.execute(
                        "UPDATE decisions SET verdict = ? WHERE id = ?", (old_verdict, new_id)
                    )
                self.db.execute("DELETE FROM decisions WHERE id = ?", (old_id,))
            self.db.execute("UPDATE decisions SET code_id = ? WHERE code_id = ?", (new, old))
            self.db.execute("DELETE FROM suggestions WHERE code_id = ?", (old,))
            # each coder's undo stops at the merge: their older steps name
            # decisions the merge has changed
            coders = [r[0] for r in self.db.execute("SELECT DISTINCT coder FROM events")]
            for coder in coders:
                self._log(coder, "barrier", None, {"merge": {"from": old, "into": new}})
        return int(total) - len(pairs), len(pairs)

    # -- segments -----------------------------------------------------------

    def replace_segments(self, session_id: int, segments: Iterable[Segment]) -> list[int]:
        """Replace a session's coding units in one transaction; returns their
        ids in order. A unit at the same place with the same text keeps its
        row: its id (the number a coder wrote down, the GUID of an export),
        decisions, reviews and memos. The other current units are deleted,
        or retired (``retired = 1``) when they carry any of those, so the
        segmentation stage can carry them over to a unit with their text."""
        units = list(segments)
        with self.transaction():
            # a unit a coder corrected is found by the transcript's text it had
            current = {
                (start, original or text): int(i)
                for i, start, text, original in self.db.execute(
                    "SELECT id, char_start, text, original_text FROM segments "
                    "WHERE session_id = ? AND retired = 0",
                    (session_id,),
                )
            }
            keep = [current.pop((u.char_start, u.text), None) for u in units]
            # then by text alone, in order: an earlier turn that changed length
            # (a new transcript, a renamed speaker) moves every later unit
            by_text: dict[str, list[int]] = {}
            for (_start, text), i in sorted(current.items()):
                by_text.setdefault(text, []).append(i)
            for n, u in enumerate(units):
                if keep[n] is None and by_text.get(u.text):
                    keep[n] = by_text[u.text].pop(0)
            taken = set(keep)
            current = {k: i for k, i in current.items() if i not in taken}
            with_history = self.segment_ids_with_history(session_id)
            gone = list(current.values())
            self.db.executemany(
                "DELETE FROM segments WHERE id = ?",
                [(i,) for i in gone if i not in with_history],
            )
            # retired and kept rows step out of the numbering the new units take
            self.db.executemany(
                "UPDATE segments SET retired = 1, seq = -id WHERE id = ?",
                [(i,) for i in gone if i in with_history],
            )
            self.db.executemany(
                "UPDATE segments SET seq = -id WHERE id = ?", [(i,) for i in keep if i]
            )
            ids = []
            for s, kept in zip(units, keep, strict=True):
                values = (
                    s.seq,
                    s.participant_id,
                    s.utterance_id,
                    s.start,
                    s.end,
                    s.char_start,
                    s.char_end,
                    s.text,
                    int(s.codable),
                )
                if kept:
                    # the text stays: it is the transcript's, or the coder's correction
                    self.db.execute(
                        """
                        UPDATE segments SET seq = ?, participant_id = ?, utterance_id = ?,
                            start = ?, end = ?, char_start = ?, char_end = ?, codable = ?
                        WHERE id = ?
                        """,
                        (*values[:7], values[8], kept),
                    )
                    ids.append(kept)
                    continue
                cur = self.db.execute(
                    """
                    INSERT INTO segments(session_id, seq, participant_id, utterance_id, start, end,
                        char_start, char_end, text, codable, original_text)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (session_id, *values, s.original_text),
                )
                ids.append(int(cur.lastrowid or 0))
            return ids

    def set_segment_offsets(self, offsets: Iterable[tuple[int, int, int]]) -> None:
        """(unit id, char_start, char_end) for units whose text moved in the
        session's plain text (a speaker's name changed length)."""
        with self.transaction():
            self.db.executemany(
                "UPDATE segments SET char_start = ?, char_end = ? WHERE id = ?",
                [(a, b, i) for i, a, b in offsets],
            )

    def segment_ids_with_history(self, session_id: int) -> set[int]:
        """Units of a session that carry decisions, reviews or memos."""
        rows = self.db.execute(
            """
            SELECT segment_id FROM decisions WHERE segment_id IN
                (SELECT id FROM segments WHERE session_id = ?)
            UNION SELECT segment_id FROM reviews WHERE segment_id IN
                (SELECT id FROM segments WHERE session_id = ?)
            UNION SELECT segment_id FROM memos WHERE segment_id IN
                (SELECT id FROM segments WHERE session_id = ?)
            """,
            (session_id, session_id, session_id),
        )
        return {int(r[0]) for r in rows}

    def segments(
        self,
        session_id: int | None = None,
        *,
        codable_only: bool = False,
        include_retired: bool = False,
    ) -> list[Segment]:
        where, args = [], []
        if session_id is not None:
            where.append("g.session_id = ?")
            args.append(session_id)
        if codable_only:
            where.append("g.codable = 1")
        if not include_retired:
            where.append("g.retired = 0")
        sql = _SEGMENT_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY g.session_id, g.seq"
        return [_segment(r) for r in self.db.execute(sql, args)]

    def retired_segments(self, session_id: int) -> list[Segment]:
        sql = _SEGMENT_SELECT + " WHERE g.session_id = ? AND g.retired = 1 ORDER BY g.id"
        return [_segment(r) for r in self.db.execute(sql, (session_id,))]

    def get_segment(self, segment_id: int) -> Segment:
        row = self.db.execute(_SEGMENT_SELECT + " WHERE g.id = ?", (segment_id,)).fetchone()
        if row is None:
            raise NotFound(f"no coding unit with id {segment_id}")
        return _segment(row)

    def segments_by_ids(self, ids: Iterable[int]) -> list[Segment]:
        """Current or retired units by id, in the order of ``ids`` (unknown ids skipped)."""
        wanted = list(ids)
        found: dict[int, Segment] = {}
        for lo in range(0, len(wanted), 500):
            chunk = wanted[lo : lo + 500]
            marks = ",".join("?" * len(chunk))
            for r in self.db.execute(_SEGMENT_SELECT + f" WHERE g.id IN ({marks})", chunk):
                found[r[0]] = _segment(r)
        return [found[i] for i in wanted if i in found]

    def session_languages(self) -> dict[int, str | None]:
        return dict(self.db.execute("SELECT id, language FROM sessions").fetchall())

    def reviewed_segment_ids(self, coder: str | None = None, status: str = "done") -> set[int]:
        """Units a coder (any coder when None) marked with ``status`` in review."""
        sql = "SELECT segment_id FROM reviews WHERE status = ?"
        args: list = [status]
        if coder is not None:
            sql += " AND coder = ?"
            args.append(coder)
        return {r[0] for r in self.db.execute(sql, args)}

    def reviewed_pairs(self, status: str = "done") -> list[tuple[int, str]]:
        """(segment id, coder) of every finished review: the learning signal
        "reviewed without this code" is a negative."""
        return [
            (int(r[0]), r[1])
            for r in self.db.execute(
                "SELECT segment_id, coder FROM reviews WHERE status = ?", (status,)
            )
        ]

    def move_segment_history(self, old_id: int, new_id: int) -> None:
        """Carry decisions, reviews, memos and a coder's correction of the
        text from a retired unit to its unchanged successor, then drop the
        retired unit."""
        with self.transaction():
            self.db.execute(
                """
                UPDATE segments SET (text, original_text) = (
                    SELECT o.text, o.original_text FROM segments o WHERE o.id = ?)
                WHERE id = ? AND text = (
                    SELECT o.original_text FROM segments o WHERE o.id = ?)
                """,
                (old_id, new_id, old_id),
            )
            for table in ("decisions", "reviews"):
                self.db.execute(
                    f"UPDATE OR IGNORE {table} SET segment_id = ? WHERE segment_id = ?",
                    (new_id, old_id),
                )
            self.db.execute(
                "UPDATE memos SET segment_id = ? WHERE segment_id = ?", (new_id, old_id)
            )
            self.db.execute(
                "UPDATE events SET segment_id = ? WHERE segment_id = ?", (new_id, old_id)
            )
            self.db.execute("DELETE FROM segments WHERE id = ?", (old_id,))

    def merge_segment_history(self, old_id: int, new_id: int) -> None:
        """Carry a retired unit's history into a unit that already holds
        another's: the new cut joined both texts into one unit. Per coder
        and code, a code applied to either part stays applied (the joined
        unit holds those words), a memo joins the one there; a coder who
        skipped either part has not finished the joined unit (their codes
        count again once they finish it), else the target's status stands."""
        with self.transaction():
            self.db.execute(
                """
                UPDATE reviews SET status = 'skipped' WHERE segment_id = ? AND coder IN (
                    SELECT coder FROM reviews WHERE segment_id = ? AND status = 'skipped')
                """,
                (new_id, old_id),
            )
            self.db.execute(
                f"""
                UPDATE decisions AS t SET verdict = o.verdict, decided_at = o.decided_at
                FROM decisions AS o
                WHERE o.segment_id = ? AND t.segment_id = ? AND t.coder = o.coder
                  AND t.code_id = o.code_id AND t.verdict NOT IN {_APPLIED}
                  AND o.verdict IN {_APPLIED}
                """,
                (old_id, new_id),
            )
            for table in ("decisions", "reviews"):
                self.db.execute(
                    f"UPDATE OR IGNORE {table} SET segment_id = ? WHERE segment_id = ?",
                    (new_id, old_id),
                )
            for memo_id, coder, text in self.db.execute(
                "SELECT id, coder, text FROM memos WHERE segment_id = ? ORDER BY id", (old_id,)
            ).fetchall():
                there = self.db.execute(
                    "SELECT id FROM memos WHERE segment_id = ? AND coder = ? ORDER BY id LIMIT 1",
                    (new_id, coder),
                ).fetchone()
                if there is None:
                    self.db.execute(
                        "UPDATE memos SET segment_id = ? WHERE id = ?", (new_id, memo_id)
                    )
                else:
                    self.db.execute(
                        "UPDATE memos SET text = text || char(10) || char(10) || ?, "
                        "updated_at = ? WHERE id = ?",
                        (text, now(), there[0]),
                    )
                    self.db.execute("DELETE FROM memos WHERE id = ?", (memo_id,))
            self.db.execute(
                "UPDATE events SET segment_id = ? WHERE segment_id = ?", (new_id, old_id)
            )
            self.db.execute("DELETE FROM segments WHERE id = ?", (old_id,))

    def unit_review_statuses(self, segment_id: int) -> dict[str, str]:
        """coder -> ``done``/``skipped`` on one unit."""
        return dict(
            self.db.execute(
                "SELECT coder, status FROM reviews WHERE segment_id = ?", (segment_id,)
            ).fetchall()
        )

    def unfinish_units(self, pairs: Iterable[tuple[int, str]]) -> None:
        """(unit, coder): the coder has not read all of the unit (a new cut
        joined words they never reviewed to words they did), so the unit is
        not their finished coding: ``skipped`` until they finish it."""
        self.db.executemany(
            "UPDATE reviews SET status = 'skipped' WHERE segment_id = ? AND coder = ?",
            list(pairs),
        )

    def carry_correction(self, segment_id: int, heard: str, corrected: str) -> None:
        """A coder's correction of words now inside a longer unit: the unit's
        text gets it, and keeps the transcript's in ``original_text``."""
        row = self.db.execute("SELECT text FROM segments WHERE id = ?", (segment_id,)).fetchone()
        if row is None or heard not in row[0]:
            return
        self.db.execute(
            "UPDATE segments SET text = ?, original_text = COALESCE(original_text, ?) WHERE id = ?",
            (row[0].replace(heard, corrected, 1), row[0], segment_id),
        )

    # -- decisions ----------------------------------------------------------

    def record_decision(self, decision: Decision) -> Decision:
        """Write one decision now (autocommit: durable when this returns),
        replacing the coder's earlier decision on the same (unit, code), and
        log it so it can be undone."""
        if decision.verdict not in VERDICTS:
            raise QualcodeError(f"unknown verdict {decision.verdict!r}; use one of {VERDICTS}")
        stamp = decision.decided_at or now()
        with self.transaction():
            self._require_current(decision.segment_id)
            before = self.db.execute(
                "SELECT verdict, memo FROM decisions WHERE segment_id = ? AND code_id = ? "
                "AND coder = ?",
                (decision.segment_id, decision.code_id, decision.coder),
            ).fetchone()
            cur = self.db.execute(
                """
                INSERT INTO decisions(segment_id, code_id, coder, verdict, decided_at, memo)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(segment_id, code_id, coder) DO UPDATE SET
                    verdict = excluded.verdict, decided_at = excluded.decided_at,
                    memo = COALESCE(excluded.memo, decisions.memo)
                RETURNING id
                """,
                (
                    decision.segment_id,
                    decision.code_id,
                    decision.coder,
                    decision.verdict,
                    stamp,
                    decision.memo,
                ),
            )
            did = int(cur.fetchone()[0])
            self.db.execute(
                "INSERT INTO events(coder, kind, segment_id, payload, at) VALUES (?, ?, ?, ?, ?)",
                (
                    decision.coder,
                    "decision",
                    decision.segment_id,
                    dumps(
                        {
                            "code_id": decision.code_id,
                            "before": list(before) if before else None,
                            "after": [decision.verdict, decision.memo],
                        }
                    ),
                    stamp,
                ),
            )
        decision.id, decision.decided_at = did, stamp
        return decision

    def record_decisions(self, decisions: Iterable[Decision]) -> int:
        """Bulk version for imports (one transaction, no event per row)."""
        stamp = now()
        rows = [
            (d.segment_id, d.code_id, d.coder, d.verdict, d.decided_at or stamp, d.memo)
            for d in decisions
        ]
        with self.transaction():
            self.db.executemany(
                """
                INSERT INTO decisions(segment_id, code_id, coder, verdict, decided_at, memo)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(segment_id, code_id, coder) DO UPDATE SET
                    verdict = excluded.verdict, decided_at = excluded.decided_at
                """,
                rows,
            )
        return len(rows)

    def decisions(
        self, *, coder: str | None = None, segment_id: int | None = None
    ) -> list[Decision]:
        where: list[str] = []
        args: list[str | int] = []
        if coder is not None:
            where.append("coder = ?")
            args.append(coder)
        if segment_id is not None:
            where.append("segment_id = ?")
            args.append(segment_id)
        sql = "SELECT id, segment_id, code_id, coder, verdict, memo, decided_at FROM decisions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id"
        return [
            Decision(
                id=r[0],
                segment_id=r[1],
                code_id=r[2],
                coder=r[3],
                verdict=r[4],
                memo=r[5],
                decided_at=r[6],
            )
            for r in self.db.execute(sql, args)
        ]

    def coders(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT coder FROM decisions ORDER BY 1")]

    def count_decisions(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
