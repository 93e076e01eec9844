"""Store queries for reports, agreement, unit exports and pseudonyms.

Theme counts must stay interactive on large projects (a million decisions),
so every aggregate is one SQL statement with GROUP BY; Python only shapes
the few result rows. Which decisions count (one coder, or the reconciled
view) is expressed once, as the ``coded`` common table expression built by
``_coded_cte``; the reconciled theme counts, which would otherwise read
every coder's decisions, start from the per-unit ``unit_codings`` table
that triggers keep current (schema migration 3).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qualcode.store.base import StoreBase

_APPLIED = "('accepted', 'added')"

# a unit a coder skipped in review ("leave it for later") is not their coding
# yet: the codes they ticked before skipping do not count, nor do the codes
# they had not ticked veto other coders' (schema migration 5)
_SKIPPED = "SELECT segment_id, coder FROM reviews WHERE status = 'skipped'"
_COUNTED = f"(segment_id, coder) NOT IN ({_SKIPPED})"

# the units a coder has coded: a decision on them (not skipped), or a
# finished review
_CODER_UNITS = f"""
coder_units(segment_id, coder) AS (
    SELECT segment_id, coder FROM decisions WHERE {_COUNTED}
    UNION
    SELECT segment_id, coder FROM reviews WHERE status = 'done'
)"""


@dataclass(frozen=True)
class View:
    """Which decisions count.

    coder: only this coder's applied decisions (accepted/added).
    lead: when ``coder`` is None, the reconciled view: on units the lead
        coder has coded, the lead's coding; on other units, a code counts
        when every coder who coded the unit applied it. None: unanimity
        everywhere.

    A unit a coder skipped in review is not their coding until they finish
    it: neither the codes they ticked nor the ones they did not count.
    """

    coder: str | None = None
    lead: str | None = None


def _coded_cte(view: View) -> tuple[str, list]:
    """``coded(segment_id, code_id)``: the (unit, code) pairs that count.
    Retired units are dropped later, where each unit is joined once."""
    if view.coder is not None:
        # decisions_coder_unit covers this: no table reads, unit order
        sql = f"""
        coded(segment_id, code_id) AS (
            SELECT segment_id, code_id FROM decisions
            WHERE coder = ? AND verdict IN {_APPLIED} AND segment_id NOT IN (
                SELECT segment_id FROM reviews WHERE coder = ? AND status = 'skipped')
        )"""
        return sql, [view.coder, view.coder]
    lead = view.lead if view.lead is not None else ""
    # n_coders: how many coders coded the unit (a decision on a unit they did
    # not skip, or a finished review without any decision); lead_seen:
    # whether the lead did. A pair
    # counts when the lead applied it, or (lead absent) when all coders of
    # the unit applied it.
    sql = f"""
    counted(segment_id, code_id, coder, verdict) AS (
        SELECT segment_id, code_id, coder, verdict FROM decisions WHERE {_COUNTED}
    ),
    review_only(segment_id, n, lead) AS (
        SELECT r.segment_id, COUNT(*), MAX(r.coder = ?) FROM reviews r
        WHERE r.status = 'done' AND NOT EXISTS (
            SELECT 1 FROM decisions d WHERE d.segment_id = r.segment_id AND d.coder = r.coder)
        GROUP BY r.segment_id
    ),
    unit_info(segment_id, n_coders, lead_seen) AS (
        SELECT segment_id, COUNT(DISTINCT coder), MAX(coder = ?)
        FROM counted GROUP BY segment_id
    ),
    pair_info(segment_id, code_id, n_applied, lead_applied) AS (
        SELECT segment_id, code_id, COUNT(*), MAX(coder = ?)
        FROM counted WHERE verdict IN {_APPLIED}
        GROUP BY segment_id, code_id
    ),
    coded(segment_id, code_id) AS (
        SELECT p.segment_id, p.code_id FROM pair_info p
        JOIN unit_info u ON u.segment_id = p.segment_id
        LEFT JOIN review_only r ON r.segment_id = p.segment_id
        WHERE CASE WHEN u.lead_seen OR COALESCE(r.lead, 0) THEN p.lead_applied
                   ELSE p.n_applied = u.n_coders + COALESCE(r.n, 0) END
    )"""
    return sql, [lead, lead, lead]


@dataclass
class ComboRow:
    """Units sharing one set of codes (as applied), session and speaker."""

    codes: tuple[str, ...]
    session_id: int
    participant_id: int | None
    units: int
    timed_units: int
    seconds: float


@dataclass
class UnitCodingRow:
    """One (unit, code) of a units export, before pseudonymisation."""

    segment_id: int
    session: str
    group: str | None
    speaker: str | None
    participant_id: int | None
    start: float | None
    end: float | None
    text: str
    code_id: str
    label: str
    coders: str


class ReportStore(StoreBase):
    # -- frequency summaries -----------------------------------------------

    def code_combo_stats(self, view: View) -> list[ComboRow]:
        """Counted units grouped by (their set of codes as applied, session,
        speaker).

        One streaming pass groups the counted pairs per unit, so each unit
        row is joined once; the outer GROUP BY leaves a few thousand rows
        from which every per-code figure, parent roll-up, cross-table and
        co-occurrence is summed exactly in Python."""
        if view.coder is None:
            return self._reconciled_combo_stats(view.lead)
        cte, args = _coded_cte(view)
        sql = f"""
        WITH {cte},
        per_unit(segment_id, combo) AS (
            SELECT segment_id, GROUP_CONCAT(code_id, char(31)) FROM coded GROUP BY segment_id
        )
        SELECT u.combo, g.session_id, g.participant_id, COUNT(*), COUNT(g.end - g.start),
               COALESCE(SUM(g.end - g.start), 0)
        FROM per_unit u JOIN segments g ON g.id = u.segment_id AND g.retired = 0
        GROUP BY 1, 2, 3
        """
        return [
            ComboRow(tuple(sorted(combo.split("\x1f"))), sid, pid, int(n), int(nt), float(sec))
            for combo, sid, pid, n, nt, sec in self.db.execute(sql, args)
        ]

    def _reconciled_combo_stats(self, lead: str | None) -> list[ComboRow]:
        """The reconciled view from ``unit_codings`` (schema migration 3),
        one row per unit kept current by triggers: the coders of the unit
        and the applied (code, coder) pairs. Units with the same pattern,
        session and speaker are counted together in SQL, and Python applies
        the rule (see ``View``) once per distinct pattern, not per unit."""
        sql = """
        SELECT u.pattern, u.coders, g.session_id, g.participant_id,
               COUNT(*), COUNT(g.end - g.start), COALESCE(SUM(g.end - g.start), 0)
        FROM unit_codings u JOIN segments g ON g.id = u.segment_id AND g.retired = 0
        WHERE u.pattern IS NOT NULL
        GROUP BY 3, 4, 1, 2
        """
        decided: dict[tuple[str, str], tuple[str, ...]] = {}
        merged: dict[tuple, list] = {}
        for pattern, unit_coders, sid, pid, n, nt, sec in self.db.execute(sql):
            codes = decided.get((pattern, unit_coders))
            if codes is None:
                coders = set(unit_coders.split("\x1f"))
                applied: dict[str, set[str]] = {}
                for part in pattern.split("\x1f"):
                    code, coder = part.split("\x1e")
                    applied.setdefault(code, set()).add(coder)
                if lead in coders:
                    codes = tuple(sorted(c for c, who in applied.items() if lead in who))
                else:
                    codes = tuple(sorted(c for c, who in applied.items() if who == coders))
                decided[(pattern, unit_coders)] = codes
            if not codes:
                continue
            acc = merged.setdefault((codes, sid, pid), [0, 0, 0.0])
            acc[0] += n
            acc[1] += nt
            acc[2] += sec
        return [ComboRow(k[0], k[1], k[2], a[0], a[1], float(a[2])) for k, a in merged.items()]

    def codable_unit_counts(self) -> list[tuple[int, int | None, int]]:
        """(session id, participant id, codable units): the percent bases."""
        return [
            (int(s), p, int(n))
            for s, p, n in self.db.execute(
                "SELECT session_id, participant_id, COUNT(*) FROM segments "
                "WHERE codable = 1 AND retired = 0 GROUP BY 1, 2"
            )
        ]

    def session_labels(self) -> dict[int, tuple[str, str | None]]:
        """{session id: (name, group)}."""
        return {
            int(i): (n, g)
            for i, n, g in self.db.execute("SELECT id, name, group_name FROM sessions")
        }

    def participant_names(self) -> dict[int, str]:
        return {int(i): n for i, n in self.db.execute("SELECT id, name FROM participants")}

    def attribute_keys(self) -> list[str]:
        return [
            r[0]
            for r in self.db.execute("SELECT DISTINCT key FROM participant_attributes ORDER BY 1")
        ]

    # -- agreement ----------------------------------------------------------

    def suggested_counts(self, session_id: int | None, threshold: float) -> tuple[int, int]:
        """(units, (unit, code) pairs) with a suggestion scoring ``threshold``
        or more: what review pre-selects, of one session or all."""
        where = "AND g.session_id = ?" if session_id is not None else ""
        row = self.db.execute(
            f"""
            SELECT COUNT(DISTINCT x.segment_id), COUNT(*) FROM suggestions x
            JOIN segments g ON g.id = x.segment_id
            WHERE g.retired = 0 AND x.score >= ? {where}
            """,
            (threshold, session_id) if session_id is not None else (threshold,),
        ).fetchone()
        return int(row[0]), int(row[1])

    def coded_unit_count(self, view: View) -> int:
        """Codable current units the view has coding for: the coder's (any
        decision or a finished review), or any coder's in the reconciled
        view. A share of all codable units reads low while coding goes on."""
        if view.coder is not None:
            sql = (
                f"WITH {_CODER_UNITS} SELECT COUNT(DISTINCT u.segment_id) FROM coder_units u "
                "JOIN segments g ON g.id = u.segment_id AND g.retired = 0 AND g.codable = 1 "
                "WHERE u.coder = ?"
            )
            return int(self.db.execute(sql, (view.coder,)).fetchone()[0])
        return int(
            self.db.execute(
                "SELECT COUNT(*) FROM unit_codings u JOIN segments g ON g.id = u.segment_id "
                "AND g.retired = 0 AND g.codable = 1"
            ).fetchone()[0]
        )

    def coder_unit_ids(self, coder: str) -> set[int]:
        """Current units a coder has coded: any decision, or a finished review."""
        return {
            int(r[0])
            for r in self.db.execute(
                f"WITH {_CODER_UNITS} SELECT u.segment_id FROM coder_units u "
                "JOIN segments g ON g.id = u.segment_id AND g.retired = 0 WHERE u.coder = ?",
                (coder,),
            )
        }

    def applied_pairs(self, coder: str) -> set[tuple[int, str]]:
        """(unit, code) pairs a coder applied (accepted or added)."""
        return {
            (int(s), c)
            for s, c in self.db.execute(
                "SELECT segment_id, code_id FROM decisions "
                f"WHERE coder = ? AND verdict IN {_APPLIED} AND {_COUNTED}",
                (coder,),
            )
        }

    def suggested_pairs(self, threshold: float) -> tuple[set[int], set[tuple[int, str]]]:
        """(units the model scored, (unit, code) pairs scored >= threshold).
        A scored unit without a stored suggestion had every code below the
        floor that is stored: a confident "no code" that agreement must count."""
        units = {
            int(r[0])
            for r in self.db.execute(
                "SELECT id FROM segments WHERE codable = 1 AND retired = 0 AND scored = 1"
            )
        }
        pairs = {
            (int(s), c)
            for s, c in self.db.execute(
                "SELECT segment_id, code_id FROM suggestions WHERE score >= ?", (threshold,)
            )
        }
        return units, pairs

    # -- exports and pseudonyms --------------------------------------------

    def unit_codings(self, view: View) -> Iterator[UnitCodingRow]:
        """Every counted (unit, code), in session and unit order, with the
        coders who applied it (comma-separated)."""
        cte, args = _coded_cte(view)
        sql = f"""
        WITH RECURSIVE {cte}
        SELECT g.id, s.name, s.group_name, p.name, g.participant_id, g.start, g.end, g.text,
               c.code_id, k.label,
               (SELECT GROUP_CONCAT(coder, ',') FROM (
                    SELECT d.coder FROM decisions d WHERE d.segment_id = g.id
                    AND d.code_id = c.code_id AND d.verdict IN {_APPLIED}
                    AND (d.segment_id, d.coder) NOT IN ({_SKIPPED}) ORDER BY d.coder))
        FROM coded c JOIN segments g ON g.id = c.segment_id AND g.retired = 0
        JOIN sessions s ON s.id = g.session_id
        LEFT JOIN participants p ON p.id = g.participant_id
        JOIN codes k ON k.id = c.code_id
        ORDER BY s.name, g.seq, k.position, c.code_id
        """
        for sid, sess, grp, spk, pid, start, end, text, code, label, coders in self.db.execute(
            sql, args
        ):
            yield UnitCodingRow(
                sid, sess, grp, spk, pid, start, end, text, code, label, coders or ""
            )

    def participant_attribute_map(self) -> dict[int, dict[str, str]]:
        out: dict[int, dict[str, str]] = {}
        for pid, key, value in self.db.execute(
            "SELECT participant_id, key, value FROM participant_attributes ORDER BY key"
        ):
            out.setdefault(int(pid), {})[key] = value
        return out

    def participants_by_first_appearance(self) -> list[str]:
        """Participant names ordered by their first utterance (sessions in the
        order they entered the project, then utterance order); participants
        who never speak come last, by name."""
        rows = self.db.execute(
            """
            SELECT p.name, MIN(u.session_id * 1000000000 + u.seq) AS first
            FROM participants p LEFT JOIN utterances u ON u.participant_id = p.id
            GROUP BY p.id ORDER BY first IS NULL, first, p.name
            """
        )
        return [r[0] for r in rows]

    # -- benchmarks ---------------------------------------------------------

    def bulk_insert_decisions(self, rows: list[tuple[int, str, str, str]]) -> None:
        """(segment_id, code_id, coder, verdict) rows, one transaction, no
        events: for synthetic benchmark projects and trusted imports."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR REPLACE INTO decisions(segment_id, code_id, coder, verdict, decided_at) "
                "VALUES (?, ?, ?, ?, '2026-01-01T00:00:00')",
                rows,
            )
