"""The UI-free review loop and its store queries, on a real project."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import QualcodeError
from qualcode.models import Decision
from qualcode.review import QueueReloaded, ReviewOptions, ReviewSession
from qualcode.review_views import fold, search_codes


def session(p, **kw) -> ReviewSession:
    kw.setdefault("coder", "anna")
    kw.setdefault("order", "chronological")
    kw.setdefault("retrain_every", 0)
    return ReviewSession(p.store, p, ReviewOptions(**kw))


def test_view_shows_unit_context_and_suggestions(proj):
    rs = session(proj)
    view = rs.view()
    assert view is not None
    first = proj.store.segments(codable_only=True)[0]
    assert view.segment.id == first.id and view.segment.text == first.text
    assert view.before == [] and len(view.after) == 2
    sugs = proj.store.suggestions(first.id)
    assert [i.code_id for i in view.items] == [
        s.code_id for s in sorted(sugs, key=lambda s: -s.score)
    ]
    assert all(i.rationale for i in view.items)
    assert rs.progress().total == len(proj.store.segments(codable_only=True))
    assert rs.progress().reviewed == 0


def test_accept_as_shown_writes_decisions_and_moves_on(proj):
    rs = session(proj)
    sid = rs.current_id
    shown = rs.view().items
    rs.accept()
    got = {d.code_id: d.verdict for d in proj.store.decisions(coder="anna", segment_id=sid)}
    assert got == {i.code_id: "accepted" if i.checked else "rejected" for i in shown}
    assert proj.store.review_statuses("anna") == {sid: "done"}
    assert rs.index == 1 and rs.progress().reviewed == 1


def test_preselection_follows_the_projects_suggestion_threshold(proj):
    assert session(proj).threshold == 0.5
    proj.config.suggest = {"threshold": 0.2}
    rs = session(proj)
    assert rs.threshold == 0.2
    scores = [s.score for u in proj.store.segments(codable_only=True) for s in rs.suggestions(u.id)]
    assert any(0.2 <= x < 0.5 for x in scores)  # the lower threshold changes something
    while (view := rs.view()) is not None:
        assert all(i.checked == (i.score >= 0.2) for i in view.items if i.score is not None)
        rs.next()
    # an explicit option wins over the project's
    assert session(proj, threshold=0.9).threshold == 0.9


def test_toggle_reject_all_and_apply_by_search(proj):
    rs = session(proj)
    # find a unit with at least one suggestion
    while not rs.view().items:
        rs.next()
    sid = rs.current_id
    before = rs.view().items[0].checked
    item = rs.toggle(1)
    assert item.checked is (not before)
    (d,) = proj.store.decisions(coder="anna", segment_id=sid)
    assert d.verdict == ("accepted" if item.checked else "rejected")
    (code,) = search_codes(rs.codes, "VAPAAEHTOIS")  # fi label, other case
    assert code.id == "volunteers"
    rs.apply_code("volunteers")
    assert rs.decided[sid]["volunteers"] in ("accepted", "added")
    with pytest.raises(QualcodeError, match="no code 9"):
        rs.toggle(9)
    rs.reject_all()
    verdicts = {d.verdict for d in proj.store.decisions(coder="anna", segment_id=sid)}
    assert verdicts == {"rejected"}


def test_a_parent_code_is_not_applied_in_review(proj):
    """Suggestions, import-coded and evaluate code leaves only; find
    offered "third_sector" and applied it, a coding nothing else accepts."""
    rs = session(proj)
    sid = rs.current_id
    assert search_codes(rs.codes, "third_sector") == []
    assert "volunteers" in {c.id for c in search_codes(rs.codes, "volunt")}
    with pytest.raises(QualcodeError, match="third_sector has sub-codes; apply one of them: "):
        rs.apply_code("third_sector")
    # find says why it has nothing, instead of "no code matches"
    assert rs.no_match("third_sector").startswith("third_sector has sub-codes; find one of them:")
    assert rs.no_match("zzz") == "No code matches 'zzz'"
    # sub-codes that have sub-codes: the codes that can be applied, all the way down
    rs._children = {"third_sector": ["money", "people"], "money": ["grants", "fees"]}
    assert rs._leaves_under("third_sector") == ["grants", "fees", "people"]
    assert proj.store.decisions(coder="anna", segment_id=sid) == []


def test_search_ignores_case_and_accents(proj):
    codes = proj.store.codes()
    assert fold("Työn JAKAMINEN") == "tyon jakaminen"
    assert [c.id for c in search_codes(codes, "tyon jak")] == ["work_sharing"]
    assert search_codes(codes, "funding")[0].id == "funding"
    assert search_codes(codes, "zzz") == []


def test_undo_reverts_a_whole_action(proj):
    rs = session(proj)
    while not rs.view().items:  # a unit with suggestions, so accept writes decisions
        rs.next()
    sid = rs.current_id
    rs.accept()
    assert proj.store.decisions(coder="anna", segment_id=sid)
    message = rs.undo()
    assert "accept" in message
    assert proj.store.decisions(coder="anna", segment_id=sid) == []
    assert proj.store.review_statuses("anna") == {}
    assert rs.current_id == sid and rs.progress().reviewed == 0
    assert rs.undo() == "nothing to undo"


def test_undo_restores_an_earlier_verdict(proj):
    rs = session(proj)
    sid = rs.current_id
    rs.apply_code("funding")
    rs.toggle(len(rs.view().items))  # funding is last: toggle it off
    assert rs.decided[sid]["funding"] == "rejected"
    rs.undo()
    assert {d.code_id: d.verdict for d in proj.store.decisions(segment_id=sid)}["funding"] in (
        "accepted",
        "added",
    )


def test_edit_keeps_original_and_memo(proj):
    rs = session(proj)
    sid = rs.current_id
    original = rs.view().segment.text
    rs.edit_text("Korjattu teksti.")
    seg = proj.store.get_segment(sid)
    assert seg.text == "Korjattu teksti." and seg.original_text == original
    rs.edit_text("Toinen korjaus.")
    assert proj.store.get_segment(sid).original_text == original
    rs.set_memo("kiinnostava kohta")
    assert rs.view().memo == "kiinnostava kohta"
    rs.undo()  # the memo
    assert proj.store.memo(sid, "anna") is None
    rs.undo()  # the second edit
    rs.undo()  # the first edit
    seg = proj.store.get_segment(sid)
    assert seg.text == original and seg.original_text is None


def test_undoing_an_edit_keeps_a_colleagues_later_correction(proj):
    anna = session(proj)
    sid = anna.current_id
    anna.edit_text("Annan korjaus.")
    ben = session(proj, coder="ben")
    ben.go_to(sid)
    ben.edit_text("Benin parempi korjaus.")
    said = anna.undo()
    assert "stays as another coder corrected it" in said
    assert proj.store.get_segment(sid).text == "Benin parempi korjaus."
    ben.undo()  # his own edit, on top: back to anna's
    assert proj.store.get_segment(sid).text == "Annan korjaus."


def test_resume_at_first_unreviewed_and_skip(proj):
    rs = session(proj)
    first, second = rs.queue[0], rs.queue[1]
    rs.accept()
    rs.skip()
    rs2 = session(proj)
    assert first not in rs2.queue  # reviewed units leave the default queue
    assert rs2.current_id not in (first, second)
    assert proj.store.review_statuses("anna") == {first: "done", second: "skipped"}
    everything = session(proj, only_unreviewed=False)
    assert everything.queue[0] == first and everything.current_id not in (first, second)
    # with every unit reviewed, --all starts over at the first, not past the end
    for sid in everything.queue:
        proj.store.mark_reviewed(sid, "anna")
    again = session(proj, only_unreviewed=False)
    assert again.current_id == again.queue[0] == first


def test_a_skipped_unit_comes_back_in_the_same_sitting(proj):
    rs = session(proj)
    first, second, last = rs.queue[0], rs.queue[1], rs.queue[-1]
    rs.skip()
    assert rs.current_id == second and rs.queue[-1] == first
    while rs.current_id != first:
        rs.accept()
    assert rs.queue[-2] == last  # after every unit not seen yet
    rs.skip()  # skipped again: it stays behind, the queue ends
    assert rs.finished and "1 of its" in rs.end_message()
    assert proj.store.review_statuses("anna")[first] == "skipped"


def test_skip_on_a_finished_unit_moves_on_and_keeps_its_coding(proj):
    """In --all, `s` on a unit reviewed before made it "skipped", and since
    a skipped unit is not yet the coder's coding, its codes left the counts."""
    rs = session(proj, order="chronological")
    first = rs.current_id
    rs.apply_code("funding")
    rs.accept()
    again = session(proj, only_unreviewed=False, order="chronological")
    while again.current_id != first:  # it opens at the first unit not reviewed
        again.previous()
    said = again.skip()
    assert said.startswith("already reviewed") and again.current_id != first
    assert proj.store.review_statuses("anna")[first] == "done"
    assert first in proj.store.coder_unit_ids("anna")


def test_retraining_does_not_change_the_list_on_screen(proj):
    """The worker stores new scores for the unit the coder is looking at:
    keys 1-9 and "accept as shown" still act on the list shown, and the new
    list appears when the coder comes back to the unit."""
    from qualcode.models import Suggestion

    rs = session(proj)
    while not rs.view().items:
        rs.next()
    sid = rs.current_id
    shown = [(i.code_id, i.checked) for i in rs.view().items]
    new = [Suggestion(sid, "hr_management", 0.97, "retrained"), Suggestion(sid, "funding", 0.2)]
    proj.store.replace_suggestions(new, [sid])
    rs._forget_suggestions([sid, rs.queue[1]])  # what the worker does when it is done
    assert [(i.code_id, i.checked) for i in rs.view().items] == shown
    toggled = rs.toggle(1)
    assert toggled.code_id == shown[0][0]
    rs.accept()
    applied = {c for c, v in proj.store.coder_codes_for(sid, "anna").items() if v != "rejected"}
    assert applied == {c for c, checked in shown if checked} ^ {shown[0][0]}
    rs.go_to(sid)
    assert [i.code_id for i in rs.view().items][:2] == ["hr_management", "funding"]


def test_a_session_re_cut_by_a_colleague_is_reloaded_not_written_to(proj, tmp_path):
    """A colleague imports a corrected transcript while the review is open:
    the coder's next answer on a replaced unit is refused (it would sit on a
    retired unit no count sees) and the review reads the new units."""
    from qualcode.importer import import_files

    rs = session(proj, session="emessi-fi-session1")
    sid = rs.current_id
    old_text = rs.units[sid].text
    source = Path(__file__).parent / "data" / "review" / "emessi-fi-session1.txt"
    text = source.read_text(encoding="utf-8")
    assert old_text in text
    corrected = tmp_path / "emessi-fi-session1.txt"
    corrected.write_text(text.replace(old_text, "Hyvää huomenta kaikille."), encoding="utf-8")
    [r] = import_files(proj, [corrected], session="emessi-fi-session1", force=True)
    assert r.status == "imported", r.message
    with pytest.raises(QualcodeError, match=rf"unit #{sid} was re-cut since this review opened"):
        rs.accept()
    assert proj.store.decisions(segment_id=sid) == []
    assert sid not in rs.queue and rs.current_id is not None
    assert proj.store.is_current(rs.current_id)
    rs.accept()  # the new units take answers
    assert proj.store.review_statuses("anna")


def test_a_re_cut_landing_between_check_and_write_reloads_too(proj, tmp_path, monkeypatch):
    """The colleague's import commits after the review checked the unit but
    before it wrote: the store refuses the write, the review reloads, and
    the new units come with their suggestions."""
    from qualcode.importer import import_files

    rs = session(proj, session="emessi-fi-session1")
    sid = rs.current_id
    source = Path(__file__).parent / "data" / "review" / "emessi-fi-session1.txt"
    corrected = tmp_path / "emessi-fi-session1.txt"
    corrected.write_text(source.read_text(encoding="utf-8").replace("Joo.", "No joo."), "utf-8")
    real_log = proj.store.log_action

    def log_after_a_colleague_imported(*args):
        monkeypatch.setattr(proj.store, "log_action", real_log)
        list(import_files(proj, [corrected], session="emessi-fi-session1", force=True))
        proj.store.db.execute("DELETE FROM segments WHERE id = ?", (sid,))  # re-cut away
        return real_log(*args)

    monkeypatch.setattr(proj.store, "log_action", log_after_a_colleague_imported)
    with pytest.raises(QueueReloaded, match=rf"unit #{sid} was re-cut"):
        rs.accept()
    assert sid not in rs.units and proj.store.decisions(coder="anna") == []
    assert proj.store.unscored_units() == []  # the new units were scored for the review


def test_undo_brings_the_unit_back_where_the_coder_is(proj):
    rs = session(proj)
    first, second = rs.queue[0], rs.queue[1]
    rs.skip()  # first moves to the end of the queue
    assert rs.undo().startswith("undid skip")
    assert rs.current_id == first and rs.queue[:2] == [first, second]
    # a unit an earlier sitting accepted is not in this sitting's queue
    rs.accept()
    later = session(proj)
    assert first not in later.queue
    later.undo()
    assert later.current_id == first and later.queue[1] == second


def test_find_takes_an_applied_code_off_and_unchanged_text_is_said(proj):
    rs = session(proj)
    sid = rs.current_id
    assert rs.apply_code("funding") == "funding applied"
    rs.apply_code("support")
    order = [i.code_id for i in rs.items(sid)]
    assert rs.apply_code("funding") == "funding removed"  # a code past 9 can be changed too
    assert rs.decided[sid]["funding"] == "rejected"
    rs.undo()
    assert [i.code_id for i in rs.items(sid)] == order  # numbers stay where they were
    assert rs.set_memo("") == "memo unchanged" and rs.set_memo("muistiin") == "memo saved"
    text = rs.units[sid].text
    assert rs.edit_text(text + "  ") == "text unchanged"
    assert proj.store.get_segment(sid).original_text is None


def test_coders_are_independent(proj):
    anna = session(proj)
    sid = anna.current_id
    proj.store.record_decision(Decision(sid, "funding", "ben", "added"))
    proj.store.mark_reviewed(sid, "ben")
    assert "funding" not in [i.code_id for i in anna.view().items if i.score is None]
    fresh = session(proj)
    assert fresh.current_id == sid  # ben's review does not count for anna
    assert all(i.verdict is None for i in fresh.view().items)


def test_filters_session_code_disagreements(proj):
    names = [s.name for s in proj.store.sessions()]
    only = session(proj, session=names[1])
    sid_of = {s.id for s in proj.store.segments(proj.store.get_session(names[1]).id)}
    assert only.queue and set(only.queue) <= sid_of
    funding = session(proj, code="funding")
    assert funding.queue
    assert all(any(s.code_id == "funding" for s in funding.suggestions(i)) for i in funding.queue)
    # a parent is never suggested itself: its queue is its sub-codes' units
    parent = session(proj, code="third_sector")
    assert set(funding.queue) < set(parent.queue)
    assert all(
        any(s.code_id in ("funding", "volunteers") for s in parent.suggestions(i))
        for i in parent.queue
    )
    with pytest.raises(QualcodeError, match="unknown code"):
        session(proj, code="nope")
    rs = session(proj)
    a, b = rs.queue[0], rs.queue[1]
    rs.apply_code("hr_management")  # differs from the model unless it suggested it strongly
    rs.accept()
    rs.reject_all()
    dis = session(proj, disagreements=True)
    assert a in dis.queue
    assert all(dis.disagrees(i) for i in dis.queue)
    assert set(dis.queue) <= {a, b}


def test_background_retraining_refreshes_upcoming(proj):
    rs = session(proj, retrain_every=3)
    upcoming = rs.queue[4:10]
    for _ in range(3):
        rs.apply_code("funding")
        rs.accept()
    rs.wait_for_retraining(timeout=120)
    assert rs.retrains == 1, rs.retrain_message
    assert "retrained" in rs.retrain_message
    versions = {s.model_version for i in upcoming for s in rs.suggestions(i)}
    assert versions and all(v and v.startswith("model-") for v in versions)


def test_playback_says_why_not(proj):
    rs = session(proj)
    ok, why = rs.playback()
    assert not ok and "no recording" in why
    assert rs.play().startswith("playback not available")


def test_end_of_queue_tells_what_is_left(proj):
    rs = session(proj)
    rs.accept()
    while not rs.finished:
        rs.next()
    assert rs.view() is None
    assert f"{len(rs.queue) - 1} of its {len(rs.queue)} units are not reviewed" in rs.end_message()
    with pytest.raises(QualcodeError, match="queue is finished"):
        rs.accept()
    rs.previous()
    assert rs.current_id == rs.queue[-1]


def test_playback_reasons(tmp_path, data_dir):
    from qualcode.playback import availability, find_player

    recording = str(data_dir / "speech" / "jfk.flac")
    ok, why = availability(recording, 1.0)
    player, name = find_player()
    assert ok is (player is not None)
    assert (name in why) if ok else ("no audio player" in why)
    assert availability(str(tmp_path / "gone.wav"), 1.0) == (
        False,
        f"the recording {tmp_path / 'gone.wav'} is missing",
    )
    assert availability(recording, None)[1] == "this unit has no timestamps"
    assert "no recording" in availability(None, 1.0)[1]


def test_picking_a_code_on_a_unit_without_codes_says_how_to_add_one(proj):
    rs = session(proj)
    sid = rs.current_id
    proj.store.replace_suggestions([], segment_ids=[sid])
    rs = session(proj)
    assert rs.current_id == sid and rs.items(sid) == []
    with pytest.raises(QualcodeError, match="no codes to pick; / finds a code to apply"):
        rs.toggle(1)


def test_a_refused_or_unchanged_edit_or_memo_leaves_no_undo_step(proj):
    rs = session(proj)
    sid = rs.current_id
    rs.set_memo("Tärkeä kohta.")
    with pytest.raises(QualcodeError, match="cannot be empty"):
        rs.edit_text("   ")
    rs.edit_text(proj.store.get_segment(sid).text)  # unchanged
    rs.set_memo("Tärkeä kohta.")  # unchanged
    # the one undo step left is the memo itself
    assert "memo" in rs.undo()
    assert proj.store.memo(sid, "anna") is None
    assert rs.undo() == "nothing to undo"


def test_labels_of_a_session_without_language_follow_the_project(project):
    """A transcript imported without --language in a Finnish project: the
    coder sees the codebook's Finnish labels, as in its reports."""
    from qualcode.models import Segment, Session, Suggestion, Transcript, Utterance

    store = project.store
    sid = store.add_session(Session(name="s1"), Transcript([Utterance("Rahat loppuvat.")]))
    [unit] = store.replace_segments(sid, [Segment(sid, 0, "Rahat loppuvat.", 0, 15)])
    store.replace_suggestions([Suggestion(unit, "funding", 0.9, "matched: raha")])
    rs = ReviewSession(store, project, ReviewOptions("anna", retrain_every=0))
    assert [i.label for i in rs.items(unit)] == ["Toiminnan rahoitus"]


def test_undoing_a_change_over_several_units_says_how_many(proj):
    """import-coded's replacement of a coder's earlier coding is one undo step
    over many units; the message names their number, not 'unit #None'."""
    units = [s.id for s in proj.store.segments(codable_only=True)][:2]
    proj.store.log_action("anna", "import-coded fix.csv", None)
    for sid in units:
        proj.store.record_decision(Decision(sid, "funding", "anna", "added"))
    rs = session(proj)
    assert rs.undo() == "undid import-coded fix.csv on 2 units"
