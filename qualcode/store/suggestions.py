"""The model's suggestions per unit and the learned model's saved state."""

from __future__ import annotations

import json
from collections.abc import Iterable

from qualcode.models import Suggestion
from qualcode.store.base import StoreBase, now


class SuggestionStore(StoreBase):
    # -- suggestions --------------------------------------------------------

    def unscored_units(self, session_id: int | None = None) -> list[int]:
        """Codable units the model has never scored (imported, segmented
        with ``--no-suggest``, or new in a corrected transcript), in session
        order."""
        where = "AND g.session_id = ?" if session_id is not None else ""
        rows = self.db.execute(
            f"""
            SELECT g.id FROM segments g
            WHERE g.codable = 1 AND g.retired = 0 AND g.scored = 0 {where}
            ORDER BY g.session_id, g.seq
            """,
            (session_id,) if session_id is not None else (),
        )
        return [int(r[0]) for r in rows]

    def replace_suggestions(
        self, suggestions: Iterable[Suggestion], segment_ids: Iterable[int] | None = None
    ) -> int:
        """Replace the suggestions of ``segment_ids`` (default: the segments
        that appear in ``suggestions``) in one transaction."""
        items = list(suggestions)
        ids = set(segment_ids) if segment_ids is not None else {s.segment_id for s in items}
        stamp = now()
        with self.transaction():
            # units another process re-cut away while they were scored
            live = {
                int(r[0])
                for r in self.db.execute(
                    "SELECT id FROM segments WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps(sorted(ids)),),
                )
            }
            ids &= live
            items = [s for s in items if s.segment_id in live]
            self.db.executemany("DELETE FROM suggestions WHERE segment_id = ?", [(i,) for i in ids])
            # scored, even where no code reached the floor that is stored
            self.db.executemany("UPDATE segments SET scored = 1 WHERE id = ?", [(i,) for i in ids])
            self.db.executemany(
                "INSERT INTO suggestions(segment_id, code_id, score, rationale, model_version, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (s.segment_id, s.code_id, s.score, s.rationale, s.model_version, stamp)
                    for s in items
                ],
            )
        return len(items)

    def suggestions(self, segment_id: int | None = None) -> list[Suggestion]:
        sql = "SELECT segment_id, code_id, score, rationale, model_version FROM suggestions"
        args: tuple = ()
        if segment_id is not None:
            sql += " WHERE segment_id = ?"
            args = (segment_id,)
        sql += " ORDER BY segment_id, score DESC"
        return [Suggestion(*r) for r in self.db.execute(sql, args)]

    # -- learned model state ------------------------------------------------

    def save_model_state(self, name: str, data: bytes, n_decisions: int) -> int:
        row = self.db.execute("SELECT version FROM model_states WHERE name = ?", (name,)).fetchone()
        version = (row[0] if row else 0) + 1
        self.db.execute(
            "INSERT INTO model_states(name, version, n_decisions, trained_at, data) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET version = excluded.version, "
            "n_decisions = excluded.n_decisions, trained_at = excluded.trained_at, "
            "data = excluded.data",
            (name, version, n_decisions, now(), data),
        )
        return version

    def load_model_state(self, name: str) -> tuple[int, int, bytes] | None:
        """(version, n_decisions, data) of a saved model, or None."""
        row = self.db.execute(
            "SELECT version, n_decisions, data FROM model_states WHERE name = ?", (name,)
        ).fetchone()
        return (int(row[0]), int(row[1]), bytes(row[2])) if row else None
