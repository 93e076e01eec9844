"""Numbered schema migrations.

The schema version lives in SQLite's ``user_version``. Each migration is a
function that takes the connection and brings the schema from version N-1 to
N; they run in order inside one transaction each, so a project made by any
earlier qualcode opens in a newer one. Never edit a released migration: add a
new one at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run several statements inside the caller's transaction (``executescript``
    would commit first, breaking the one-transaction-per-migration rule)."""
    statement = ""
    for line in sql.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""


def _m1_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            group_name TEXT,
            recorded_at TEXT,
            media_path TEXT,
            media_sha256 TEXT,
            source_path TEXT,
            source_sha256 TEXT,
            source_format TEXT,
            language TEXT,
            duration REAL,
            settings TEXT NOT NULL DEFAULT '{}',   -- engine, model, options (JSON)
            settings_key TEXT,                     -- sha256(media + settings): skip re-runs
            created_at TEXT NOT NULL
        );
        CREATE INDEX sessions_source_sha ON sessions(source_sha256);
        CREATE INDEX sessions_settings_key ON sessions(settings_key);

        CREATE TABLE participants (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE participant_attributes (
            participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (participant_id, key)
        );

        CREATE TABLE utterances (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            participant_id INTEGER REFERENCES participants(id),
            start REAL,
            end REAL,
            text TEXT NOT NULL,
            words TEXT,                            -- JSON [[start, end, word, prob], ...]
            UNIQUE (session_id, seq)
        );
        CREATE INDEX utterances_participant ON utterances(participant_id);

        -- coding units, filled by the segmentation stage
        CREATE TABLE segments (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            participant_id INTEGER REFERENCES participants(id),
            utterance_id INTEGER REFERENCES utterances(id) ON DELETE SET NULL,
            start REAL,
            end REAL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            text TEXT NOT NULL,
            original_text TEXT,                    -- set when a coder corrects the text
            codable INTEGER NOT NULL DEFAULT 1,    -- 0 for back-channel ("Joo.")
            retired INTEGER NOT NULL DEFAULT 0,    -- 1 when re-segmentation replaced it
            UNIQUE (session_id, seq, retired)
        );
        CREATE INDEX segments_session ON segments(session_id);

        CREATE TABLE codes (
            id TEXT PRIMARY KEY,
            parent_id TEXT REFERENCES codes(id),
            label TEXT NOT NULL,
            labels TEXT NOT NULL DEFAULT '{}',     -- JSON {lang: label}
            description TEXT NOT NULL DEFAULT '{}',-- JSON {lang: text}
            color TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            active INTEGER NOT NULL DEFAULT 1      -- 0: gone from the codebook, kept for decisions
        );

        CREATE TABLE suggestions (
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            code_id TEXT NOT NULL REFERENCES codes(id),
            score REAL NOT NULL,
            rationale TEXT NOT NULL DEFAULT '',
            model_version TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (segment_id, code_id)
        );

        -- the current decision of each coder on each (unit, code)
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            code_id TEXT NOT NULL REFERENCES codes(id),
            coder TEXT NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected', 'added')),
            decided_at TEXT NOT NULL,
            memo TEXT,
            UNIQUE (segment_id, code_id, coder)
        );
        CREATE INDEX decisions_coder ON decisions(coder);
        CREATE INDEX decisions_code ON decisions(code_id);

        -- append-only history of every change a coder made (for undo and audit)
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            coder TEXT NOT NULL,
            kind TEXT NOT NULL,                    -- decision, review, edit, memo, undo
            segment_id INTEGER REFERENCES segments(id) ON DELETE CASCADE,
            payload TEXT NOT NULL DEFAULT '{}',    -- JSON: what changed, before and after
            at TEXT NOT NULL
        );
        CREATE INDEX events_coder ON events(coder, id);

        -- which units a coder has finished (or skipped)
        CREATE TABLE reviews (
            segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
            coder TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('done', 'skipped')),
            at TEXT NOT NULL,
            PRIMARY KEY (segment_id, coder)
        );

        CREATE TABLE memos (
            id INTEGER PRIMARY KEY,
            segment_id INTEGER REFERENCES segments(id) ON DELETE CASCADE,
            session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
            coder TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        -- learned suggestion models, so every process sees the same one
        CREATE TABLE model_states (
            name TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            n_decisions INTEGER NOT NULL,
            trained_at TEXT NOT NULL,
            data BLOB NOT NULL
        );

        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


def _m2_report_indexes(db: sqlite3.Connection) -> None:
    """Covering indexes for theme counts: one coder's decisions in unit order,
    and every coder's decisions per unit, read without touching the table
    (reports over a million decisions stay under a second)."""
    _script(
        db,
        """
        CREATE INDEX decisions_coder_unit ON decisions(coder, segment_id, verdict, code_id);
        CREATE INDEX decisions_unit_code ON decisions(segment_id, code_id, coder, verdict);
        """,
    )


def _unit_codings_row(unit: str, *, skipped_out: bool) -> tuple[str, str]:
    """SQL for the ``coders`` and ``pattern`` of unit ``unit`` (an SQL
    expression such as ``NEW.segment_id``). ``skipped_out``: the rule of
    migration 5, where a coder who skipped the unit is not among its coders
    yet (migration 3 must keep building what it built)."""
    out = (
        f" AND coder NOT IN (SELECT coder FROM reviews WHERE segment_id = {unit}"
        " AND status = 'skipped')"
        if skipped_out
        else ""
    )
    coders = f"""(SELECT GROUP_CONCAT(coder, char(31)) FROM (
                SELECT coder FROM decisions WHERE segment_id = {unit}{out}
                UNION SELECT coder FROM reviews WHERE segment_id = {unit} AND status = 'done'
            ))"""
    pattern = f"""(SELECT GROUP_CONCAT(code_id || char(30) || coder, char(31)) FROM decisions
             WHERE segment_id = {unit} AND verdict IN ('accepted', 'added'){out})"""
    return coders, pattern


def _unit_codings_refresh(unit: str, *, skipped_out: bool = False) -> str:
    """Statements that recompute the ``unit_codings`` row of unit ``unit``."""
    coders, pattern = _unit_codings_row(unit, skipped_out=skipped_out)
    return f"""
        DELETE FROM unit_codings WHERE segment_id = {unit};
        INSERT INTO unit_codings(segment_id, coders, pattern)
        SELECT {unit}, c, p FROM (SELECT {coders} AS c, {pattern} AS p) WHERE c IS NOT NULL;"""


def _unit_codings_rebuild(db: sqlite3.Connection, *, skipped_out: bool) -> None:
    """Every unit's ``unit_codings`` row, computed afresh."""
    coders, pattern = _unit_codings_row("u.segment_id", skipped_out=skipped_out)
    db.execute("DELETE FROM unit_codings")
    db.execute(
        f"""
        INSERT INTO unit_codings(segment_id, coders, pattern)
        SELECT segment_id, c, p FROM (
            SELECT u.segment_id, {coders} AS c, {pattern} AS p
            FROM (SELECT segment_id FROM decisions UNION
                  SELECT segment_id FROM reviews WHERE status = 'done') u)
        WHERE c IS NOT NULL
        """
    )


def _unit_codings_triggers(db: sqlite3.Connection, *, skipped_out: bool) -> None:
    """Triggers on every write to decisions and reviews that refresh the
    units they touch."""
    for table in ("decisions", "reviews"):
        for event, units in (
            ("INSERT", ("NEW.segment_id",)),
            ("DELETE", ("OLD.segment_id",)),
            ("UPDATE", ("OLD.segment_id", "NEW.segment_id")),
        ):
            body = "".join(_unit_codings_refresh(u, skipped_out=skipped_out) for u in units)
            name = f"{table}_{event.lower()}_unit_codings"
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
            db.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {body} END")


def _m3_unit_codings(db: sqlite3.Connection) -> None:
    """Per-unit summary of every coder's decisions, kept current by triggers.

    The reconciled report (lead coder's coding, else unanimity) must compare
    all coders on every unit; reading a million decisions per report took
    ~1.7 s. ``unit_codings`` holds per unit the coders who coded it (any
    decision or a finished review, char(31)-separated) and the applied
    (code char(30) coder) pairs, so a report reads one row per unit. Triggers
    keep it in step with every write path, imports and cascades included."""
    _script(
        db,
        """
        CREATE TABLE unit_codings (
            segment_id INTEGER PRIMARY KEY,
            coders TEXT NOT NULL,
            pattern TEXT
        );
        """,
    )
    _unit_codings_triggers(db, skipped_out=False)
    _unit_codings_rebuild(db, skipped_out=False)


def _m4_scored_units(db: sqlite3.Connection) -> None:
    """Which units the model has scored. A unit whose every code scored
    below ``min_score`` has no suggestion rows, so "has suggestions" could
    not tell it from a unit nobody scored: review scored caption-only
    sessions again on every start, and units that a corrected transcript
    added to a scored session were shown with no proposal."""
    _script(
        db,
        """
        ALTER TABLE segments ADD COLUMN scored INTEGER NOT NULL DEFAULT 0;
        UPDATE segments SET scored = 1 WHERE session_id IN (
            SELECT DISTINCT g.session_id FROM suggestions x
            JOIN segments g ON g.id = x.segment_id);
        """,
    )


def _m5_skipped_units_uncoded(db: sqlite3.Connection) -> None:
    """A unit a coder skipped in review is not yet their coding. Codes they
    ticked before pressing skip ("leave it for later") used to count, and in
    the reconciled view every code they had not ticked was vetoed for the
    coders who finished the unit. ``unit_codings`` now leaves a skipping
    coder out until they finish the unit; it is rebuilt under that rule."""
    _unit_codings_triggers(db, skipped_out=True)
    _unit_codings_rebuild(db, skipped_out=True)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m1_initial,
    _m2_report_indexes,
    _m3_unit_codings,
    _m4_scored_units,
    _m5_skipped_units_uncoded,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection) -> int:
    """Bring ``db`` up to ``SCHEMA_VERSION``; returns the version it had."""
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise RuntimeError(
            f"database schema version {version} is newer than this qualcode "
            f"({SCHEMA_VERSION}); upgrade qualcode"
        )
    for number in range(version + 1, SCHEMA_VERSION + 1):
        # the connection is in autocommit mode: manage the transaction here
        db.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return int(version)
