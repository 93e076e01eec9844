"""Store queries for the exchange stage (REFI-QDA import and export).

An import writes codes, sessions, utterances, coding units, decisions and
memos; it runs in one transaction so an interrupted or refused import leaves the
project as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from qualcode.models import Code, Segment, Session, Transcript
from qualcode.store.base import StoreBase, code_row, now


@dataclass
class Memo:
    id: int
    coder: str
    text: str
    segment_id: int | None = None
    session_id: int | None = None
    created_at: str | None = None


@dataclass
class ImportedMemo:
    """A memo of an import: on the unit ``segment`` (index into the
    session's ``segments``), or on the whole session when None. One per
    (unit, coder), as ``ReviewStore.set_memo`` keeps them."""

    segment: int | None
    coder: str
    text: str
    created_at: str | None = None  # ISO time; None: the time of the import


@dataclass
class ImportedSession:
    """One session of an import: its transcript, coding units (with the
    ``seq`` of the utterance they lie in, or None), decisions as
    (index into ``segments``, code id, coder) and memos."""

    session: Session
    transcript: Transcript
    segments: list[tuple[Segment, int | None]] = field(default_factory=list)
    decisions: list[tuple[int, str, str]] = field(default_factory=list)
    memos: list[ImportedMemo] = field(default_factory=list)


class ExchangeStore(StoreBase):
    def memos(self) -> list[Memo]:
        """All memos, oldest first; a memo on a unit also carries its session."""
        return [
            Memo(id=r[0], coder=r[1], text=r[2], segment_id=r[3], session_id=r[4], created_at=r[5])
            for r in self.db.execute(
                """
                SELECT m.id, m.coder, m.text, m.segment_id,
                       COALESCE(m.session_id, g.session_id), m.created_at
                FROM memos m LEFT JOIN segments g ON g.id = m.segment_id ORDER BY m.id
                """
            )
        ]

    def add_memo(
        self, coder: str, text: str, *, segment_id: int | None = None, session_id: int | None = None
    ) -> int:
        stamp = now()
        cur = self.db.execute(
            "INSERT INTO memos(segment_id, session_id, coder, text, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (segment_id, session_id, coder, text, stamp, stamp),
        )
        return int(cur.lastrowid or 0)

    def all_decisions(self) -> list[tuple[int, str, str, str]]:
        """(segment id, code id, coder, verdict) of every decision, one query
        for exports of many sessions; a unit a coder skipped in review is not
        their coding yet (as in reports), so its decisions are left out."""
        return list(
            self.db.execute(
                "SELECT segment_id, code_id, coder, verdict FROM decisions "
                "WHERE (segment_id, coder) NOT IN ("
                "SELECT segment_id, coder FROM reviews WHERE status = 'skipped') "
                "ORDER BY segment_id, id"
            )
        )

    def import_exchange(
        self,
        codes: Sequence[Code],
        sessions: Sequence[ImportedSession],
        attributes: dict[str, dict[str, str]] | None = None,
        *,
        once: bool = False,
    ) -> list[int]:
        """Add missing codes (existing ones are left as they are), the
        sessions with their units, decisions and memos, and participant
        attributes, all in one transaction. Returns the new session ids.
        ``once``: refuse (``AlreadyStored``) when the first session's
        settings key is already in the store (the same file imported by
        another run meanwhile)."""
        ids: list[int] = []
        with self.transaction():
            (top,) = self.db.execute("SELECT COALESCE(MAX(position), -1) FROM codes").fetchone()
            for i, c in enumerate(codes):
                self.db.execute(
                    """
                    INSERT OR IGNORE INTO codes(id, parent_id, label, labels, description,
                                                color, position, active)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (*code_row(c, top + 1 + i), int(c.active)),
                )
            for item in sessions:
                # the first session checks that no other run stored the file
                # meanwhile (its sessions share the file's settings key)
                sid = self.add_session(  # type: ignore[attr-defined]
                    item.session, item.transcript, free_name=True, once=once and not ids
                )
                ids.append(sid)
                utt = {
                    seq: (uid, pid)
                    for uid, seq, pid in self.db.execute(
                        "SELECT id, seq, participant_id FROM utterances WHERE session_id = ?",
                        (sid,),
                    )
                }
                seg_ids = []
                for seq, (g, useq) in enumerate(item.segments):
                    uid, pid = utt.get(useq, (None, None)) if useq is not None else (None, None)
                    cur = self.db.execute(
                        """
                        INSERT INTO segments(session_id, seq, participant_id, utterance_id,
                            start, end, char_start, char_end, text, codable)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                        """,
                        (sid, seq, pid, uid, g.start, g.end, g.char_start, g.char_end, g.text),
                    )
                    seg_ids.append(int(cur.lastrowid or 0))
                stamp = now()
                self.db.executemany(
                    "INSERT OR IGNORE INTO decisions(segment_id, code_id, coder, verdict, "
                    "decided_at) VALUES (?, ?, ?, 'added', ?)",
                    [(seg_ids[i], code, coder, stamp) for i, code, coder in item.decisions],
                )
                # a unit's memo also carries its session, as ``_write_memo`` does
                self.db.executemany(
                    "INSERT INTO memos(segment_id, session_id, coder, text, created_at, "
                    "updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (
                            seg_ids[m.segment] if m.segment is not None else None,
                            sid,
                            m.coder,
                            m.text,
                            m.created_at or stamp,
                            stamp,
                        )
                        for m in item.memos
                    ],
                )
            for name, values in (attributes or {}).items():
                pid = self.participant_id(name)  # type: ignore[attr-defined]
                self.db.executemany(
                    "INSERT INTO participant_attributes(participant_id, key, value) "
                    "VALUES (?, ?, ?) ON CONFLICT(participant_id, key) "
                    "DO UPDATE SET value = excluded.value",
                    [(pid, k, v) for k, v in values.items()],
                )
        return ids
