"""Sessions, participants (speakers) and utterances."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from qualcode.errors import AlreadyStored, NotFound, QualcodeError
from qualcode.models import Participant, Session, Transcript, Utterance, Word
from qualcode.store.base import StoreBase, dumps, now

_SESSION_COLS = (
    "id, name, group_name, recorded_at, media_path, media_sha256, source_path, "
    "source_sha256, source_format, language, duration, settings, settings_key, created_at"
)


def _session(row: sqlite3.Row | tuple) -> Session:
    return Session(
        id=row[0],
        name=row[1],
        group=row[2],
        recorded_at=row[3],
        media_path=row[4],
        media_sha256=row[5],
        source_path=row[6],
        source_sha256=row[7],
        source_format=row[8],
        language=row[9],
        duration=row[10],
        settings=json.loads(row[11] or "{}"),
        settings_key=row[12],
        created_at=row[13],
    )


def _words_json(words: list[Word]) -> str | None:
    if not words:
        return None
    return json.dumps(
        [[round(w.start, 3), round(w.end, 3), w.word, w.probability] for w in words],
        ensure_ascii=False,
    )


def _words(raw: str | None) -> list[Word]:
    if not raw:
        return []
    return [Word(start=s, end=e, word=w, probability=p) for s, e, w, p in json.loads(raw)]


class SessionStore(StoreBase):
    # -- participants -------------------------------------------------------

    def speaker_session_ids(self, name: str) -> list[int]:
        """Sessions where ``name`` speaks at least once."""
        rows = self.db.execute(
            """
            SELECT DISTINCT u.session_id FROM utterances u
            JOIN participants p ON p.id = u.participant_id WHERE p.name = ?
            ORDER BY u.session_id
            """,
            (name,),
        )
        return [int(r[0]) for r in rows]

    def participant_id(self, name: str, *, create: bool = True) -> int:
        row = self.db.execute("SELECT id FROM participants WHERE name = ?", (name,)).fetchone()
        if row:
            return int(row[0])
        if not create:
            raise NotFound(f"no speaker named {name!r}; see `qualcode speakers`")
        cur = self.db.execute("INSERT INTO participants(name) VALUES (?)", (name,))
        return int(cur.lastrowid or 0)

    def participants(self) -> list[Participant]:
        rows = self.db.execute(
            """
            SELECT p.id, p.name, COUNT(u.id)
            FROM participants p LEFT JOIN utterances u ON u.participant_id = p.id
            GROUP BY p.id ORDER BY p.name
            """
        ).fetchall()
        attrs: dict[int, dict[str, str]] = {}
        for pid, key, value in self.db.execute(
            "SELECT participant_id, key, value FROM participant_attributes ORDER BY key"
        ):
            attrs.setdefault(pid, {})[key] = value
        sessions: dict[int, list[str]] = {}
        for pid, sname in self.db.execute(
            """
            SELECT DISTINCT u.participant_id, s.name FROM utterances u
            JOIN sessions s ON s.id = u.session_id
            WHERE u.participant_id IS NOT NULL ORDER BY s.name
            """
        ):
            sessions.setdefault(pid, []).append(sname)
        return [
            Participant(
                id=pid,
                name=name,
                attributes=attrs.get(pid, {}),
                n_utterances=n,
                sessions=sessions.get(pid, []),
            )
            for pid, name, n in rows
        ]

    def speakers_in_other_groups(self, session: str) -> dict[str, list[str]]:
        """Speakers of session ``session`` who also speak in sessions of
        another group (or with a group where this one has none, or none
        where it has one) -> those sessions: a shared first name may be two
        people, which only the researcher can tell."""
        rows = self.db.execute(
            """
            SELECT DISTINCT p.name, o.name FROM sessions s
            JOIN utterances u ON u.session_id = s.id
            JOIN participants p ON p.id = u.participant_id
            JOIN utterances v ON v.participant_id = p.id AND v.session_id != s.id
            JOIN sessions o ON o.id = v.session_id
            WHERE s.name = ? AND o.group_name IS NOT s.group_name
            ORDER BY p.name, o.name
            """,
            (session,),
        )
        out: dict[str, list[str]] = {}
        for name, other in rows:
            out.setdefault(name, []).append(other)
        return out

    def speaker_names_elsewhere(self, session: str) -> set[str]:
        """Participant names in use outside session ``session`` (in other
        sessions' utterances or units, or with no session at all)."""
        rows = self.db.execute(
            """
            SELECT p.name FROM participants p
            WHERE NOT EXISTS (
                SELECT 1 FROM utterances u JOIN sessions s ON s.id = u.session_id
                WHERE u.participant_id = p.id AND s.name = ?)
               OR EXISTS (
                SELECT 1 FROM utterances u JOIN sessions s ON s.id = u.session_id
                WHERE u.participant_id = p.id AND s.name != ?)
               OR EXISTS (
                SELECT 1 FROM segments g JOIN sessions s ON s.id = g.session_id
                WHERE g.participant_id = p.id AND s.name != ?)
            """,
            (session, session, session),
        )
        return {r[0] for r in rows}

    def get_participant(self, name: str) -> Participant:
        for p in self.participants():
            if p.name == name:
                return p
        raise NotFound(f"no speaker named {name!r}; see `qualcode speakers`")

    def move_participant_turns(
        self, session_id: int, old: str, new: str, *, merge: bool = False
    ) -> bool:
        """Give ``old``'s turns and units in one session to ``new``: two
        people who share a first name in different groups become two
        speakers. ``new`` is created (without attributes: they are another
        person's) unless it exists, which needs ``merge`` as for a rename.
        Returns True when ``new`` existed."""
        old_id, row = self._rename_target(old, new, merge, f"{old!r} in this session")
        with self.transaction():
            new_id = int(row[0]) if row is not None else self.participant_id(new)
            self._log_rename(old, new)
            for table in ("utterances", "segments"):
                self.db.execute(
                    f"UPDATE {table} SET participant_id = ? "
                    "WHERE participant_id = ? AND session_id = ?",
                    (new_id, old_id, session_id),
                )
        return row is not None

    def _rename_target(self, old: str, new: str, merge: bool, who: str) -> tuple[int, Any]:
        """(old's id, new's row or None), refusing a blank name, and a name
        already taken unless ``merge``: a typo in NEW would otherwise join
        two people for good."""
        if not new.strip():
            raise QualcodeError(f"a speaker needs a name; give {old!r} a name that is not empty")
        old_id = self.participant_id(old, create=False)
        row = self.db.execute("SELECT id FROM participants WHERE name = ?", (new,)).fetchone()
        if row is not None and not merge:
            raise QualcodeError(
                f"{new!r} is already a speaker; if {who} is the same person, run the rename "
                "again with --merge (their turns and units become one speaker's)"
            )
        return old_id, row

    def _log_rename(self, old: str, new: str) -> None:
        # pseudonymized exports must also mask a name the speaker had before
        self._log("", "speaker_rename", None, {"old": old, "new": new})

    def former_speaker_names(self) -> dict[str, list[str]]:
        """Each speaker's earlier names (renames and splits, oldest last)."""
        former: dict[str, list[str]] = {}
        for (payload,) in self.db.execute(
            "SELECT payload FROM events WHERE kind = 'speaker_rename' ORDER BY id"
        ):
            change = json.loads(payload)
            old, new = change["old"], change["new"]
            names = [old, *former.get(old, [])]
            former[new] = list(dict.fromkeys([*former.get(new, []), *names]))
        return former

    def rename_participant(self, old: str, new: str, *, merge: bool = False) -> bool:
        """Rename ``old`` to ``new``. When ``new`` exists, ``merge`` makes them
        one speaker (utterances, units and attributes move; ``new``'s
        attributes win); without it that is refused, since a typo in NEW
        would otherwise join two people for good. Returns True when it merged."""
        if old == new:
            self.participant_id(old, create=False)  # still an error for an unknown name
            return False
        old_id, row = self._rename_target(old, new, merge, repr(old))
        with self.transaction():
            self._log_rename(old, new)
            if row is None:
                self.db.execute("UPDATE participants SET name = ? WHERE id = ?", (new, old_id))
                return False
            new_id = int(row[0])
            self.db.execute(
                "UPDATE utterances SET participant_id = ? WHERE participant_id = ?",
                (new_id, old_id),
            )
            self.db.execute(
                "UPDATE segments SET participant_id = ? WHERE participant_id = ?",
                (new_id, old_id),
            )
            self.db.execute(
                """
                INSERT OR IGNORE INTO participant_attributes(participant_id, key, value)
                SELECT ?, key, value FROM participant_attributes WHERE participant_id = ?
                """,
                (new_id, old_id),
            )
            self.db.execute("DELETE FROM participants WHERE id = ?", (old_id,))
            return True

    def set_attributes(self, name: str, attributes: dict[str, str | None]) -> None:
        """Set (or, with a value of None, remove) attributes of a speaker."""
        pid = self.participant_id(name, create=False)
        with self.transaction():
            for key, value in attributes.items():
                if value is None:
                    self.db.execute(
                        "DELETE FROM participant_attributes WHERE participant_id = ? AND key = ?",
                        (pid, key),
                    )
                else:
                    self.db.execute(
                        "INSERT INTO participant_attributes(participant_id, key, value) "
                        "VALUES (?, ?, ?) ON CONFLICT(participant_id, key) "
                        "DO UPDATE SET value = excluded.value",
                        (pid, key, value),
                    )

    # -- sessions -----------------------------------------------------------

    def add_session(
        self,
        session: Session,
        transcript: Transcript,
        *,
        replace: bool = False,
        free_name: bool = False,
        once: bool = False,
    ) -> int:
        """Store a session and its utterances in one transaction: an
        interrupted import or transcription leaves no half session.
        With ``replace``, a session of the same name gets the new transcript
        but keeps its id, coding units, decisions and memos: segmenting it
        again (``segment_session``) carries the decisions over to units whose
        text is unchanged.

        Checked inside the transaction, so that two processes working at
        once (minutes of transcription each) cannot both store: with
        ``once``, a session with the same ``settings_key`` (else the same
        ``source_sha256``) already there raises ``AlreadyStored``; with
        ``free_name``, a taken name becomes the next free one (``talk-2``)
        and ``session.name`` is set to it."""
        with self.transaction():
            column = "settings_key" if session.settings_key else "source_sha256"
            value = session.settings_key or session.source_sha256
            if once and value:
                done = self.db.execute(
                    f"SELECT name FROM sessions WHERE {column} = ?", (value,)
                ).fetchone()
                if done is not None:
                    raise AlreadyStored(done[0])
            if free_name:
                session.name = self.unique_session_name(session.name)
            existing = self.db.execute(
                "SELECT id FROM sessions WHERE name = ?", (session.name,)
            ).fetchone()
            if existing and not replace:
                raise QualcodeError(
                    f"a session named {session.name!r} already exists; "
                    "choose another name with --session"
                )
            values = (
                session.group,
                session.recorded_at,
                session.media_path,
                session.media_sha256,
                session.source_path,
                session.source_sha256,
                session.source_format or transcript.source_format,
                session.language or transcript.language,
                session.duration if session.duration is not None else transcript.duration,
                dumps(session.settings or transcript.metadata),
                session.settings_key,
            )
            if existing:
                sid = int(existing[0])
                self.db.execute(
                    """
                    UPDATE sessions SET group_name = ?, recorded_at = ?, media_path = ?,
                        media_sha256 = ?, source_path = ?, source_sha256 = ?, source_format = ?,
                        language = ?, duration = ?, settings = ?, settings_key = ?
                    WHERE id = ?
                    """,
                    (*values, sid),
                )
                # units keep their text and decisions; their utterance link is cleared
                self.db.execute("DELETE FROM utterances WHERE session_id = ?", (sid,))
            else:
                cur = self.db.execute(
                    """
                    INSERT INTO sessions(name, group_name, recorded_at, media_path,
                        media_sha256, source_path, source_sha256, source_format, language,
                        duration, settings, settings_key, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    (session.name, *values, now()),
                )
                sid = int(cur.lastrowid or 0)
            self._insert_utterances(sid, transcript.utterances)
            return sid

    def _insert_utterances(self, session_id: int, utterances: Iterable[Utterance]) -> None:
        ids: dict[str, int] = {}
        rows = []
        for seq, u in enumerate(utterances):
            pid = None
            if u.speaker:
                if u.speaker not in ids:
                    ids[u.speaker] = self.participant_id(u.speaker)
                pid = ids[u.speaker]
            rows.append((session_id, seq, pid, u.start, u.end, u.text, _words_json(u.words)))
        self.db.executemany(
            "INSERT INTO utterances(session_id, seq, participant_id, start, end, text, words) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def sessions(self) -> list[Session]:
        rows = self.db.execute(f"SELECT {_SESSION_COLS} FROM sessions ORDER BY name").fetchall()
        counts = {
            sid: (n, k)
            for sid, n, k in self.db.execute(
                "SELECT session_id, COUNT(*), COUNT(DISTINCT participant_id) "
                "FROM utterances GROUP BY session_id"
            )
        }
        out = []
        for row in rows:
            s = _session(row)
            s.n_utterances, s.n_speakers = counts.get(s.id, (0, 0))
            out.append(s)
        return out

    def get_session(self, name_or_id: str | int) -> Session:
        if isinstance(name_or_id, int):
            row = self.db.execute(
                f"SELECT {_SESSION_COLS} FROM sessions WHERE id = ?", (name_or_id,)
            ).fetchone()
        else:
            row = self.db.execute(
                f"SELECT {_SESSION_COLS} FROM sessions WHERE name = ?", (name_or_id,)
            ).fetchone()
        if row is None:
            raise NotFound(f"no session named {name_or_id!r}; see `qualcode sessions`")
        s = _session(row)
        s.n_utterances, s.n_speakers = self.db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM utterances WHERE session_id = ?",
            (s.id,),
        ).fetchone()
        return s

    def find_session_by_source(self, sha256: str) -> Session | None:
        row = self.db.execute(
            f"SELECT {_SESSION_COLS} FROM sessions WHERE source_sha256 = ? OR media_sha256 = ?",
            (sha256, sha256),
        ).fetchone()
        return _session(row) if row else None

    def find_session(self, name: str) -> Session | None:
        """The session called ``name``, or None (``get_session`` raises)."""
        try:
            return self.get_session(name)
        except NotFound:
            return None

    def find_session_by_path(self, source_path: str, *, but: str) -> Session | None:
        """Another session (not ``but``) imported from the same file path:
        an earlier version of a transcript that was corrected since."""
        row = self.db.execute(
            f"SELECT {_SESSION_COLS} FROM sessions WHERE source_path = ? AND name != ? "
            "ORDER BY id LIMIT 1",
            (source_path, but),
        ).fetchone()
        return _session(row) if row else None

    def find_session_by_settings_key(self, key: str) -> Session | None:
        row = self.db.execute(
            f"SELECT {_SESSION_COLS} FROM sessions WHERE settings_key = ?", (key,)
        ).fetchone()
        return _session(row) if row else None

    def has_units(self, session_id: int) -> bool:
        """Was the session ever cut into coding units? (Every session with
        text has at least one unit once segmented, codable or not.)"""
        row = self.db.execute(
            "SELECT 1 FROM segments WHERE session_id = ? LIMIT 1", (session_id,)
        ).fetchone()
        return row is not None

    def delete_session(self, name: str) -> None:
        sid = self.get_session(name).id
        self.db.execute("DELETE FROM sessions WHERE id = ?", (sid,))

    def utterances(self, session_id: int) -> list[Utterance]:
        return [
            Utterance(
                id=uid,
                seq=seq,
                speaker=speaker,
                start=start,
                end=end,
                text=text,
                words=_words(words),
            )
            for uid, seq, speaker, start, end, text, words in self.db.execute(
                """
                SELECT u.id, u.seq, p.name, u.start, u.end, u.text, u.words
                FROM utterances u LEFT JOIN participants p ON p.id = u.participant_id
                WHERE u.session_id = ? ORDER BY u.seq
                """,
                (session_id,),
            )
        ]

    def unique_session_name(self, base: str) -> str:
        names = {r[0] for r in self.db.execute("SELECT name FROM sessions")}
        if base not in names:
            return base
        n = 2
        while f"{base}-{n}" in names:
            n += 1
        return f"{base}-{n}"
