"""The store: migrations, transactions, durability and the session tables."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from qualcode.errors import NotFound, QualcodeError
from qualcode.models import Code, Decision, Segment, Session, Transcript, Utterance, Word
from qualcode.store import SCHEMA_VERSION, open_store
from qualcode.store.schema import MIGRATIONS, migrate
from qualcode.transcript import plain_text


def _transcript() -> Transcript:
    return Transcript(
        utterances=[
            Utterance("Tervetuloa kaikki.", speaker="Fasilitaattori", start=0.0, end=1.5),
            Utterance(
                "Minulla on liikaa töitä.",
                speaker="Aino",
                start=1.6,
                end=3.0,
                words=[Word(1.6, 2.0, " Minulla", 0.9), Word(2.0, 3.0, " on", 0.8)],
            ),
            Utterance("Samoin.", speaker="Ben", start=3.1, end=3.5),
        ],
        language="fi",
        duration=3.5,
        source_format="txt",
    )


@pytest.fixture
def store(tmp_path: Path):
    s = open_store(tmp_path / "q.db")
    yield s
    s.close()


def test_new_database_is_migrated_to_latest(store) -> None:
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_migrate_is_idempotent_and_refuses_newer(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    assert migrate(db) == 0
    assert migrate(db) == SCHEMA_VERSION
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        migrate(db)


def test_failed_migration_leaves_no_trace(tmp_path: Path, monkeypatch) -> None:
    def broken(db: sqlite3.Connection) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    import qualcode.store.schema as schema

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    db = sqlite3.connect(tmp_path / "y.db", isolation_level=None)
    with pytest.raises(RuntimeError, match="boom"):
        schema.migrate(db)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "sessions" in tables and "half_done" not in tables
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_add_session_stores_utterances_speakers_and_words(store) -> None:
    sid = store.add_session(Session(name="s1", group="g1"), _transcript())
    s = store.get_session("s1")
    assert (s.id, s.group, s.language, s.duration, s.source_format) == (sid, "g1", "fi", 3.5, "txt")
    assert (s.n_utterances, s.n_speakers) == (3, 3)
    us = store.utterances(sid)
    assert [u.speaker for u in us] == ["Fasilitaattori", "Aino", "Ben"]
    assert us[1].words[0].word == " Minulla" and us[1].words[1].start == 2.0
    assert plain_text(us) == (
        "Fasilitaattori: Tervetuloa kaikki.\nAino: Minulla on liikaa töitä.\nBen: Samoin."
    )


def test_add_session_is_all_or_nothing(store) -> None:
    bad = _transcript()
    bad.utterances.append(Utterance(None, speaker="Cecilia"))  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        store.add_session(Session(name="broken"), bad)
    assert store.sessions() == []
    assert store.db.execute("SELECT COUNT(*) FROM utterances").fetchone()[0] == 0
    assert "Cecilia" not in [p.name for p in store.participants()]


def test_duplicate_session_name_is_refused_unless_replaced(store) -> None:
    store.add_session(Session(name="s1"), _transcript())
    with pytest.raises(QualcodeError, match="already exists"):
        store.add_session(Session(name="s1"), _transcript())
    store.add_session(Session(name="s1", group="new"), _transcript(), replace=True)
    assert [s.group for s in store.sessions()] == ["new"]
    assert store.unique_session_name("s1") == "s1-2"


def test_rename_and_merge_speakers(store) -> None:
    store.add_session(Session(name="s1"), _transcript())
    store.set_attributes("Aino", {"sector": "ngo", "workplace_size": "1"})
    store.set_attributes("Ben", {"sector": "municipality"})
    assert store.rename_participant("Aino", "Aino K.") is False
    assert store.get_participant("Aino K.").attributes == {"sector": "ngo", "workplace_size": "1"}
    # an existing name is another person unless the caller says merge
    with pytest.raises(QualcodeError, match="'Aino K.' is already a speaker.*--merge"):
        store.rename_participant("Ben", "Aino K.")
    assert store.get_participant("Ben").n_utterances == 1
    # merging keeps the target's attributes and moves the utterances
    assert store.rename_participant("Ben", "Aino K.", merge=True) is True
    p = store.get_participant("Aino K.")
    assert p.n_utterances == 2 and p.attributes["sector"] == "ngo"
    with pytest.raises(NotFound):
        store.get_participant("Ben")
    store.set_attributes("Aino K.", {"sector": None})
    assert "sector" not in store.get_participant("Aino K.").attributes


def _segments(store, sid: int) -> list[int]:
    text = plain_text(store.utterances(sid))
    spans = [(0, 34), (35, 63)]
    return store.replace_segments(
        sid,
        [
            Segment(session_id=sid, seq=i, text=text[a:b], char_start=a, char_end=b)
            for i, (a, b) in enumerate(spans)
        ],
    )


def test_decision_is_durable_the_moment_it_returns(store, tmp_path: Path) -> None:
    store.sync_codes([Code(id="support", label="Support")])
    sid = store.add_session(Session(name="s1"), _transcript())
    seg = _segments(store, sid)[1]
    store.record_decision(Decision(seg, "support", "anna", "accepted"))
    # a second process sees it without any commit call from the first
    other = sqlite3.connect(tmp_path / "q.db")
    assert other.execute("SELECT verdict FROM decisions").fetchall() == [("accepted",)]
    store.record_decision(Decision(seg, "support", "anna", "rejected"))
    assert [d.verdict for d in store.decisions(coder="anna")] == ["rejected"]
    events = store.db.execute("SELECT kind, payload FROM events ORDER BY id").fetchall()
    assert len(events) == 2 and '"before": ["accepted", null]' in events[1][1]
    with pytest.raises(QualcodeError):
        store.record_decision(Decision(seg, "support", "anna", "maybe"))


def test_removed_codes_stay_with_their_decisions(store) -> None:
    store.sync_codes([Code(id="a", label="A"), Code(id="b", label="B")])
    sid = store.add_session(Session(name="s1"), _transcript())
    seg = _segments(store, sid)[0]
    store.record_decision(Decision(seg, "b", "anna", "added"))
    added, gone = store.sync_codes([Code(id="a", label="A"), Code(id="c", label="C")])
    assert (added, gone) == (["c"], ["b"])
    assert [c.id for c in store.codes()] == ["a", "c"]
    assert [c.id for c in store.codes(include_inactive=True) if not c.active] == ["b"]
    assert store.code_ids_in_use() == {"b": 1}


def test_resegmenting_keeps_unchanged_units_and_retires_changed_ones_with_decisions(
    store,
) -> None:
    store.sync_codes([Code(id="a", label="A")])
    sid = store.add_session(Session(name="s1"), _transcript())
    first, second = _segments(store, sid)
    store.record_decision(Decision(second, "a", "anna", "added"))
    # the same place and text: the same rows, the decision where it was
    assert _segments(store, sid) == [first, second]
    assert store.retired_segments(sid) == []
    assert store.decisions(coder="anna")[0].segment_id == second
    # cut differently: the unit with a decision is retired, the other replaced
    text = plain_text(store.utterances(sid))
    [whole] = store.replace_segments(sid, [Segment(sid, 0, text[0:63], 0, 63)])
    assert [s.id for s in store.segments(sid)] == [whole] and whole not in (first, second)
    assert [s.id for s in store.retired_segments(sid)] == [second]
    store.move_segment_history(second, whole)
    assert store.decisions(coder="anna")[0].segment_id == whole
    assert store.retired_segments(sid) == []


def test_a_unit_whose_text_moved_keeps_its_row(store) -> None:
    """A longer first turn moves every later unit: found again by its text,
    in order, the unit keeps its id (the number a coder wrote down)."""
    sid = store.add_session(Session(name="s1"), _transcript())
    first, second = _segments(store, sid)
    text = plain_text(store.utterances(sid))
    moved = [Segment(sid, 0, "Tervetuloa", 0, 10), Segment(sid, 1, text[35:63], 40, 68)]
    new, kept = store.replace_segments(sid, moved)
    assert kept == second and new not in (first, second)
    assert [(g.char_start, g.char_end) for g in store.segments(sid)] == [(0, 10), (40, 68)]


def test_merging_a_code_moves_decisions_and_a_yes_wins(store) -> None:
    from qualcode.models import Suggestion

    store.sync_codes([Code(id="grants", label="Grants"), Code(id="funding", label="Funding")])
    sid = store.add_session(Session(name="s1"), _transcript())
    u1, u2 = store.replace_segments(
        sid, [Segment(sid, 0, "Aino: hei", 0, 9), Segment(sid, 1, "Ben: moi", 10, 18)]
    )
    store.record_decisions(
        [
            Decision(u1, "funding", "anna", "accepted"),  # and rejected grants: the yes wins
            Decision(u1, "grants", "anna", "rejected"),
            Decision(u1, "funding", "ben", "rejected"),  # and added grants: stays added
            Decision(u1, "grants", "ben", "added"),
            Decision(u2, "funding", "cleo", "added"),  # only the old code: moves
        ]
    )
    store.replace_suggestions([Suggestion(u2, "funding", 0.9), Suggestion(u2, "grants", 0.8)])
    assert store.merge_code("funding", "grants", dry_run=True) == (1, 2)
    assert len(store.decisions()) == 5
    assert store.merge_code("funding", "grants") == (1, 2)
    got = {(d.segment_id, d.coder): (d.code_id, d.verdict) for d in store.decisions()}
    assert got == {
        (u1, "anna"): ("grants", "accepted"),
        (u1, "ben"): ("grants", "added"),
        (u2, "cleo"): ("grants", "added"),
    }
    assert [s.code_id for s in store.suggestions(u2)] == ["grants"]


def test_undo_stops_at_a_code_merge(store) -> None:
    """An undo step older than a merge names a decision the merge changed:
    undoing it would delete the merged decision (a coder's 'yes' lost)."""
    store.sync_codes([Code(id="grants", label="Grants"), Code(id="funding", label="Funding")])
    sid = store.add_session(Session(name="s1"), _transcript())
    [unit] = store.replace_segments(sid, [Segment(sid, 0, "Aino: hei", 0, 9)])
    store.record_decisions([Decision(unit, "funding", "anna", "added")])
    store.log_action("anna", "apply grants", unit)
    store.record_decision(Decision(unit, "grants", "anna", "added"))
    store.merge_code("funding", "grants")
    assert store.undo_last("anna") == []
    assert [(d.code_id, d.verdict) for d in store.decisions(coder="anna")] == [("grants", "added")]
    # a step taken after the merge is undone as usual
    store.log_action("anna", "reject grants", unit)
    store.record_decision(Decision(unit, "grants", "anna", "rejected"))
    assert [e.kind for e in store.undo_last("anna")] == ["action", "decision"]
    assert store.decisions(coder="anna")[0].verdict == "added"


def test_a_unit_scored_below_the_stored_floor_is_scored_and_a_new_one_is_not(store) -> None:
    """Caption-only talk may score under min_score for every code: no rows,
    but scored (review must not score it again on every start); a unit a
    corrected transcript adds to the session is new and unscored."""
    sid = store.add_session(Session(name="s1"), _transcript())
    first, second = _segments(store, sid)
    assert store.unscored_units(sid) == [first, second]
    store.replace_suggestions([], segment_ids=[first, second])
    assert store.unscored_units(sid) == []
    text = plain_text(store.utterances(sid))
    kept, added = store.replace_segments(
        sid, [Segment(sid, 0, text[0:34], 0, 34), Segment(sid, 1, "Uusi.", 35, 40)]
    )
    assert kept == first and store.unscored_units(sid) == [added]


def test_answers_on_a_retired_unit_are_refused(store):
    """What another process's re-segmenting leaves behind takes no answers:
    they would be kept where no report or review looks."""
    from qualcode.errors import UnitGone

    store.sync_codes([Code(id="support", label="Support"), Code(id="funding", label="Funding")])
    sid = store.add_session(Session(name="s"), Transcript([Utterance("Yksi kaksi kolme.", "A")]))
    (gid,) = store.replace_segments(sid, [Segment(sid, 0, "Yksi kaksi kolme.", 0, 17)])
    store.record_decision(Decision(gid, "funding", "ben", "added"))
    # the text changed: gid keeps ben's decision, retired
    store.replace_segments(sid, [Segment(sid, 0, "Yksi kaksi.", 0, 11)])
    assert not store.is_current(gid)
    for write in (
        lambda: store.record_decision(Decision(gid, "support", "ann", "accepted")),
        lambda: store.mark_reviewed(gid, "ann"),
        lambda: store.set_memo(gid, "ann", "note"),
        lambda: store.edit_segment_text(gid, "ann", "Yksi."),
        lambda: store.log_action("ann", "accept", gid),
    ):
        with pytest.raises(UnitGone, match=rf"unit #{gid} is no longer current"):
            write()
    assert [d.coder for d in store.decisions(segment_id=gid)] == ["ben"]
    assert store.memo(gid, "ann") is None


def test_scores_of_units_re_cut_meanwhile_are_dropped(store) -> None:
    """A background scorer's units may be gone when it stores (a colleague's
    re-import): the rest are stored, nothing fails."""
    from qualcode.models import Suggestion

    store.sync_codes([Code(id="support", label="Support")])
    sid = store.add_session(Session(name="s"), Transcript([Utterance("Yksi kaksi.", "A")]))
    (gid,) = store.replace_segments(sid, [Segment(sid, 0, "Yksi kaksi.", 0, 11)])
    n = store.replace_suggestions(
        [Suggestion(gid, "support", 0.9), Suggestion(gid + 99, "support", 0.8)]
    )
    assert n == 1 and [s.segment_id for s in store.suggestions()] == [gid]
