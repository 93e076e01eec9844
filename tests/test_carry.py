"""Where coders' work goes when a session is cut again (``qualcode.carry``)."""

from __future__ import annotations

from qualcode.models import Decision, Session, Transcript, Utterance
from qualcode.segment import SegmentOptions, segment_session

TURN = (
    "Kaupungin rahoitus loppuu joulukuussa tänä vuonna. Pekka, onko uutisia? "
    "Meille tulee kolme uutta vapaaehtoista ensi viikolla."
)


def _cut(store, max_sentences: int) -> list:
    sid = store.sessions()[0].id if store.sessions() else None
    if sid is None:
        sid = store.add_session(
            Session(name="s1", language="fi"), Transcript([Utterance(TURN, "Anna", 0.0, 9.0)])
        )
    segment_session(store, sid, options=SegmentOptions(max_sentences=max_sentences))
    return store.segments(sid)


def test_a_joined_unit_is_finished_only_by_who_read_all_of_it(store) -> None:
    """Anna finished the first sentence only, Ben all three: joined into one
    unit, it was "done" for Anna too, her missing codes vetoed Ben's."""
    first, second, third = _cut(store, 1)
    store.record_decision(Decision(first.id, "funding", "anna", "added"))
    store.mark_reviewed(first.id, "anna")
    for unit, code in ((first, "funding"), (second, "support"), (third, "volunteers")):
        store.record_decision(Decision(unit.id, code, "ben", "added"))
        store.mark_reviewed(unit.id, "ben")
    [whole] = _cut(store, 3)
    assert store.unit_review_statuses(whole.id) == {"anna": "skipped", "ben": "done"}
    # Ben's reading counts; Anna's part comes back to her to finish
    assert whole.id in store.coder_unit_ids("ben") and whole.id not in store.coder_unit_ids("anna")


def test_a_correction_of_words_joined_into_a_longer_unit_is_kept(store) -> None:
    first, second, third = _cut(store, 1)
    store.edit_segment_text(second.id, "ben", "Pekka, onko jo uutisia?")
    store.record_decision(Decision(second.id, "support", "ben", "added"))
    [whole] = _cut(store, 3)
    assert "Pekka, onko jo uutisia?" in whole.text
    assert whole.original_text == TURN
