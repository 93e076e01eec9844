"""Segmentation: units within turns, exact offsets, times, back-channel,
decisions surviving re-segmentation."""

from __future__ import annotations

import pytest

from qualcode.errors import QualcodeError
from qualcode.models import Decision, Session, Transcript, Utterance, Word
from qualcode.segment import (
    SegmentOptions,
    is_backchannel,
    segment_session,
    segment_utterances,
    split_turn,
    split_turns,
)
from qualcode.transcript import plain_text

LONG_FI = (
    "Meillä on yhdistyksessä tosi paljon vapaaehtoisia. Heidän perehdyttämisensä vie "
    "aikaa. Mä en aina ehdi kiittää heitä. Hallitus ei oikein ymmärrä tätä. "
    "Rahoitus loppuu ensi vuonna, ja sitten mietitään mitä tehdään."
)

UTTERANCES = [
    Utterance("Tervetuloa kaikki, aloitetaan kierroksella.", "Fasilitaattori", 0.0, 4.0),
    Utterance("Joo.", "Aino", 4.0, 4.5),
    Utterance(LONG_FI, "Aino", 4.5, 30.0),
    Utterance("Mm.", "Ville", 30.0, 30.4),
    Utterance("Yeah, right.", "Ville", 30.4, 31.0),
    Utterance(
        "I never know what to do first when everything is urgent.",
        "Ville",
        31.0,
        35.0,
        words=[
            Word(31.0, 31.2, " I"),
            Word(31.2, 31.5, " never"),
            Word(31.5, 31.8, " know"),
            Word(31.8, 32.0, " what"),
            Word(32.0, 32.1, " to"),
            Word(32.1, 32.3, " do"),
            Word(32.3, 32.8, " first"),
            Word(32.8, 33.0, " when"),
            Word(33.0, 33.6, " everything"),
            Word(33.6, 33.8, " is"),
            Word(33.8, 34.9, " urgent."),
        ],
    ),
]


def _add(store, utterances, name="s1", replace=False) -> int:
    return store.add_session(
        Session(name=name, language="fi"), Transcript(list(utterances)), replace=replace
    )


def test_offsets_slice_plain_text_exactly() -> None:
    units = segment_utterances(UTTERANCES, 1, lang="fi")
    text = plain_text(UTTERANCES)
    assert len(units) >= 6
    for unit in units:
        assert text[unit.char_start : unit.char_end] == unit.text
        assert unit.text == unit.text.strip() and unit.text


def test_units_never_cross_a_turn_and_long_turns_split() -> None:
    units = segment_utterances(UTTERANCES, 1, lang="fi")
    text = plain_text(UTTERANCES)
    for unit in units:
        assert "\n" not in text[unit.char_start : unit.char_end]
    aino = [u for u in units if u.speaker == "Aino" and u.codable]
    # five sentences, at most three per unit
    assert len(aino) == 2
    assert aino[0].text.startswith("Meillä") and aino[1].text.endswith("tehdään.")
    assert [u.seq for u in units] == list(range(len(units)))


def test_backchannel_turns_are_not_codable() -> None:
    units = segment_utterances(UTTERANCES, 1, lang="fi")
    by_text = {u.text: u for u in units}
    assert not by_text["Joo."].codable
    assert not by_text["Mm."].codable
    assert not by_text["Yeah, right."].codable
    assert by_text["Tervetuloa kaikki, aloitetaan kierroksella."].codable
    assert is_backchannel("Joo joo.") and not is_backchannel("Joo, rahoitus loppuu.")


def test_a_title_line_before_the_first_speaker_is_not_codable() -> None:
    utts = [
        Utterance("Ryhmä 1, tapaaminen 2"),
        Utterance("Tervetuloa kaikki, aloitetaan kierroksella.", "Fasilitaattori"),
        Utterance("Ilman puhujaa kirjattu repliikki", None),
    ]
    units = segment_utterances(utts, 1, lang="fi")
    assert [u.codable for u in units] == [False, True, True]
    assert units[0].text == "Ryhmä 1, tapaaminen 2"  # kept in the text
    # a speakerless transcript, or a first line that is a sentence, is talk
    alone = segment_utterances([Utterance("Ryhmä 1, tapaaminen 2")], 1, lang="fi")
    assert [u.codable for u in alone] == [True]
    said = [Utterance("Rahat loppuvat keväällä."), Utterance("Niin käy.", "Aino")]
    assert segment_utterances(said, 1, lang="fi")[0].codable


def test_times_from_words_else_proportional() -> None:
    units = segment_utterances(UTTERANCES, 1, lang="fi")
    ville = next(u for u in units if u.text.startswith("I never"))
    assert (ville.start, ville.end) == (31.0, 34.9)
    aino = [u for u in units if u.speaker == "Aino" and u.codable]
    assert aino[0].start == pytest.approx(4.5)
    assert 4.5 < aino[0].end < aino[1].start + 1e-9 < 30.0
    assert aino[1].end == pytest.approx(30.0)


def test_max_words_cuts_a_run_on_sentence() -> None:
    words = ", ".join(f"sana{i} toinen kolmas" for i in range(40)) + "."
    opts = SegmentOptions(max_words=30)
    pieces = split_turn(words, "fi", opts)
    assert len(pieces) >= 4
    assert all(len(words[s:e].split()) <= 30 for s, e in pieces)
    # pieces cover the text in order without overlap
    assert all(a[1] <= b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert words[pieces[-1][0] : pieces[-1][1]].endswith("kolmas.")


def test_options_from_config_reject_unknown() -> None:
    assert SegmentOptions.from_config({"max_words": 40}).max_words == 40
    with pytest.raises(QualcodeError, match="unknown segment setting"):
        SegmentOptions.from_config({"max_wrds": 40})


def test_segment_session_stores_units_with_speakers(store) -> None:
    sid = _add(store, UTTERANCES)
    report = segment_session(store, sid)
    units = store.segments(sid)
    assert report.n_units == len(units) and report.orphaned == []
    assert report.n_codable == len(store.segments(sid, codable_only=True)) < len(units)
    text = plain_text(store.utterances(sid))
    for unit in units:
        assert text[unit.char_start : unit.char_end] == unit.text
        assert unit.speaker in {"Aino", "Ville", "Fasilitaattori"}
        assert unit.participant_id is not None and unit.utterance_id is not None


def test_resegment_in_place_keeps_unchanged_units(store) -> None:
    sid = _add(store, UTTERANCES)
    segment_session(store, sid)
    first = next(u for u in store.segments(sid) if u.text.startswith("Meillä"))
    last = next(u for u in store.segments(sid) if u.text.startswith("I never"))
    store.record_decision(Decision(first.id, "volunteers", "anna", "accepted"))
    store.record_decision(Decision(last.id, "funding", "anna", "added"))

    # one sentence per unit: Aino's first unit changes, Ville's one-sentence turn not
    report = segment_session(store, sid, options=SegmentOptions(max_sentences=1))
    units = store.segments(sid)
    assert report.n_kept == 1
    assert [o.text for o in report.orphaned] == [first.text]
    kept = next(u for u in units if u.text.startswith("I never"))
    assert kept.id == last.id  # unchanged: the same unit, the number a coder knows
    assert [(d.code_id, d.verdict) for d in store.decisions(segment_id=kept.id)] == [
        ("funding", "added")
    ]
    # the orphaned unit keeps its decision, out of the current units
    assert first.id not in {u.id for u in units}
    assert store.decisions(segment_id=first.id)[0].code_id == "volunteers"

    # back to the first options: the orphan's text exists again and is re-attached
    report = segment_session(store, sid, options=SegmentOptions(max_sentences=3))
    again = next(u for u in store.segments(sid) if u.text == first.text)
    assert store.decisions(segment_id=again.id)[0].code_id == "volunteers"
    assert report.orphaned == []


@pytest.fixture
def fresh_pipelines():
    from qualcode.segment import _pipeline

    _pipeline.cache_clear()
    yield
    _pipeline.cache_clear()


def test_trained_finnish_pipeline_is_used_when_installed(fresh_pipelines) -> None:
    """`make` installs spacy-fi-experimental-web-md (the `fi` extra): its parser
    ends sentences that have no full stop and keeps abbreviations inside them."""
    from qualcode.segment import sentence_splitter

    assert sentence_splitter("fi").startswith("spacy_fi_experimental_web_md ")
    one = SegmentOptions(max_sentences=1)
    run_on = "Toiminnanjohtaja sanoi että rahat loppuu Hallitus ei tee mitään Mä en jaksa enää"
    assert [run_on[s:e] for s, e in split_turn(run_on, "fi", one)] == [
        "Toiminnanjohtaja sanoi että rahat loppuu",
        "Hallitus ei tee mitään",
        "Mä en jaksa enää",
    ]
    abbrev = "Meillä on esim. STEA:n avustus. Vapaaehtoiset tulee joka ti. klo 18 paikalle."
    assert len(split_turn(abbrev, "fi", one)) == 2
    # a language with no trained pipeline gets the rule-based sentencizer
    assert sentence_splitter("sv") == "spaCy sentencizer (sv)"


def test_turns_read_in_a_batch_split_as_one_by_one(fresh_pipelines) -> None:
    """A session's turns go through the trained pipeline in batches (and
    without the components sentence ends do not need): the same units."""
    from qualcode.segment import _pipeline

    assert _pipeline("fi", None)[0].pipe_names == ["tok2vec", "parser"]
    opts = SegmentOptions(max_sentences=1)
    turns = [LONG_FI, "", "Joo. Mennään eteenpäin Kiitos kaikille", LONG_FI[:200], "Mitä?"]
    assert split_turns(turns, "fi", opts) == [split_turn(t, "fi", opts) for t in turns]
    assert split_turns(turns, "fi", opts)[1] == []


def test_unloadable_pipeline_falls_back_to_the_sentencizer(fresh_pipelines, monkeypatch) -> None:
    import spacy

    from qualcode.segment import sentence_splitter

    def broken(name, **kw):
        raise OSError("libvoikko.so.1: cannot open shared object file")

    monkeypatch.setattr(spacy, "load", broken)
    used = sentence_splitter("fi")
    assert used.startswith("spaCy sentencizer (fi) (spacy_fi_experimental_web_md is installed")
    assert "libvoikko" in used
    assert len(split_turn(LONG_FI, "fi", SegmentOptions(max_sentences=1))) == 5
    # a pipeline the project names explicitly is an error, not a silent fallback
    with pytest.raises(QualcodeError, match="could not be loaded.*segment.spacy_model"):
        sentence_splitter("fi", SegmentOptions(spacy_model="spacy_fi_experimental_web_md"))


def test_a_turn_longer_than_spacy_reads_is_split_in_pieces(monkeypatch) -> None:
    """A whole interview pasted as one paragraph: over spaCy's max_length
    (1,000,000 characters) it was refused; read in pieces, its units still
    cover it sentence by sentence, with offsets into the whole turn."""
    import qualcode.segment as seg

    sentence = "Rahoitus loppuu ensi vuonna ja kukaan ei tiedä mitä sitten tapahtuu. "
    text = (sentence * (1_000_001 // len(sentence) + 1)).strip()
    assert len(text) > 1_000_000
    [units] = split_turns([text], "xx", SegmentOptions(max_sentences=1))
    assert len(units) == text.count(".")
    assert all(text[s:e] == sentence.strip() for s, e in units)
    # a piece boundary falls after a full stop, so no sentence is cut in two
    part, opts = text[:20_000], SegmentOptions(max_sentences=1)
    whole = split_turn(part, "xx", opts)
    monkeypatch.setattr(seg, "_PIECE", 1000)
    assert split_turn(part, "xx", opts) == whole
    # no full stop and no space: pieces of _PIECE characters, nothing lost
    blob = "x" * 2500
    assert seg._pieces(blob) == [(0, 1000), (1000, 2000), (2000, 2500)]


def test_a_coders_correction_survives_resegmenting(store) -> None:
    """A coder fixed a misheard word; segmenting again (same options, or the
    unit moved by a turn inserted before it) keeps the fix, not the
    transcript's text."""
    sid = _add(store, UTTERANCES)
    segment_session(store, sid)
    unit = next(u for u in store.segments(sid) if u.text.startswith("I never"))
    store.edit_segment_text(unit.id, "anna", "I never know what to do first.")
    store.record_decision(Decision(unit.id, "funding", "anna", "added"))
    report = segment_session(store, sid)
    again = store.get_segment(unit.id)  # the same unit
    assert again.text == "I never know what to do first." and again.original_text == unit.text
    assert report.n_kept == 1 and report.orphaned == []

    # a turn inserted before it: the unit moves, its correction with it
    _add(store, [Utterance("Aloitetaan.", "Fasilitaattori"), *UTTERANCES], replace=True)
    segment_session(store, sid)
    moved = next(u for u in store.segments(sid) if u.original_text == unit.text)
    assert moved.text == "I never know what to do first."
    assert [d.code_id for d in store.decisions(segment_id=moved.id)] == ["funding"]


def test_a_unit_merged_with_its_neighbour_takes_its_decisions_along(store) -> None:
    """Cut again into longer units, a coded unit's whole text is now part of
    a bigger one: its decisions go there instead of staying retired."""
    turn = "Yes. It has been really stressful, because the grant ended in May."
    sid = _add(store, [Utterance(turn, "Aino", 0.0, 6.0)])
    segment_session(store, sid, options=SegmentOptions(max_sentences=1))
    short, coded = store.segments(sid)
    assert short.text == "Yes." and coded.text.startswith("It has been")
    store.record_decision(Decision(coded.id, "funding", "anna", "added"))
    report = segment_session(store, sid, options=SegmentOptions(max_sentences=3))
    [whole] = store.segments(sid)
    assert whole.text == turn and report.orphaned == []
    assert [d.code_id for d in store.decisions(segment_id=whole.id)] == ["funding"]


def test_units_merged_into_one_keep_every_coders_codes(store) -> None:
    """Three coded one-sentence units become one: the codes applied to any
    of them stay applied (only the first unit's history used to move, the
    others were retired and dropped out of the counts), memos are joined."""
    turn = (
        "Syyslomaviikko meni niin että rahat loppui kesken. "
        "Sitten piti päättää mikä tehdään ensin ja mikä jätetään. "
        "Lopulta jätettiin koko retki pois listalta."
    )
    sid = _add(store, [Utterance(turn, "Aino", 0.0, 9.0)])
    segment_session(store, sid, options=SegmentOptions(max_sentences=1))
    a, b, c = store.segments(sid)
    store.record_decision(Decision(a.id, "funding", "zoe", "accepted"))
    store.record_decision(Decision(a.id, "prioritisation", "zoe", "rejected"))
    store.record_decision(Decision(b.id, "prioritisation", "zoe", "accepted"))
    store.record_decision(Decision(c.id, "prioritisation", "zoe", "added"))
    store.record_decision(Decision(b.id, "volunteers", "ann", "rejected"))
    for unit in (a, b, c):
        store.mark_reviewed(unit.id, "zoe")
    store.set_memo(a.id, "zoe", "rahat")
    store.set_memo(c.id, "zoe", "retki")
    report = segment_session(store, sid, options=SegmentOptions(max_sentences=3))
    [whole] = store.segments(sid)
    assert whole.text == turn and report.orphaned == [] and report.n_kept == 3
    verdicts = {(d.coder, d.code_id): d.verdict for d in store.decisions(segment_id=whole.id)}
    assert verdicts == {
        ("zoe", "funding"): "accepted",
        ("zoe", "prioritisation"): "accepted",
        ("ann", "volunteers"): "rejected",
    }
    assert store.memo(whole.id, "zoe") == "rahat\n\nretki"
    assert store.review_statuses("zoe") == {whole.id: "done"}
    assert store.retired_segments(sid) == []


def test_a_short_part_joined_to_its_neighbour_keeps_its_coding(store) -> None:
    """ "Pekka, onko uutisia?" (three words) was coded on its own; joined back
    into the turn it keeps its codes and memo, from every coder."""
    turn = "Kaupungin rahoitus loppuu joulukuussa tänä vuonna. Pekka, onko uutisia?"
    sid = _add(store, [Utterance(turn, "Anna", 0.0, 6.0)])
    segment_session(store, sid, options=SegmentOptions(max_sentences=1))
    first, short = store.segments(sid)
    assert short.text == "Pekka, onko uutisia?"
    store.record_decision(Decision(first.id, "funding", "anna", "added"))
    store.record_decision(Decision(short.id, "volunteers", "anna", "added"))
    store.record_decision(Decision(short.id, "volunteers", "ben", "added"))
    store.set_memo(short.id, "ben", "kysyy uutisia")
    report = segment_session(store, sid, options=SegmentOptions(max_sentences=3))
    [whole] = store.segments(sid)
    assert report.orphaned == []
    applied = {(d.coder, d.code_id) for d in store.decisions(segment_id=whole.id)}
    assert applied == {("anna", "funding"), ("anna", "volunteers"), ("ben", "volunteers")}
    assert store.memo(whole.id, "ben") == "kysyy uutisia"


def test_a_skipped_part_leaves_the_joined_unit_unfinished(store) -> None:
    """A code ticked on a part the coder skipped does not count; joined to a
    part they finished, it must not start counting (nor the other way)."""
    turn = (
        "Our funding from the city ends in December this year. "
        "We have three new volunteers joining the club next week."
    )
    sid = _add(store, [Utterance(turn, "Anna", 0.0, 6.0)])
    segment_session(store, sid, options=SegmentOptions(max_sentences=1))
    done, skipped = store.segments(sid)
    store.record_decision(Decision(done.id, "funding", "anna", "added"))
    store.mark_reviewed(done.id, "anna")
    store.record_decision(Decision(skipped.id, "volunteers", "anna", "added"))
    store.mark_reviewed(skipped.id, "anna", "skipped")
    segment_session(store, sid, options=SegmentOptions(max_sentences=3))
    [whole] = store.segments(sid)
    assert store.review_statuses("anna") == {whole.id: "skipped"}
    assert store.coder_unit_ids("anna") == set()


def test_a_misheard_word_corrected_in_the_transcript_keeps_the_coding(store) -> None:
    """import --force of a corrected transcript fixes one word of a coded
    unit: its decisions and memo go to the corrected unit; a unit rewritten
    in other words stays retired with its history (listed for the coder)."""
    turns = [
        Utterance("Avustus loppuu ensi vuona ja kukaan ei tiedä mitä sitten.", "Aino", 0.0, 5.0),
        Utterance("Vapaaehtoiset jaksaa vielä, mutta väsyy.", "Ville", 5.0, 9.0),
    ]
    sid = _add(store, turns)
    segment_session(store, sid)
    fixed, changed = store.segments(sid)
    store.record_decision(Decision(fixed.id, "funding", "anna", "added"))
    store.set_memo(fixed.id, "anna", "rahoituksen epävarmuus")
    store.record_decision(Decision(changed.id, "volunteers", "anna", "added"))
    _add(
        store,
        [
            Utterance(turns[0].text.replace("vuona", "vuonna"), "Aino", 0.0, 5.0),
            Utterance("Hallitus päätti asiasta eilen.", "Ville", 5.0, 9.0),
        ],
        replace=True,
    )
    report = segment_session(store, sid)
    new_fixed = next(u for u in store.segments(sid) if "vuonna" in u.text)
    assert [d.code_id for d in store.decisions(segment_id=new_fixed.id)] == ["funding"]
    assert store.memo(new_fixed.id, "anna") == "rahoituksen epävarmuus"
    assert [o.id for o in report.orphaned] == [changed.id]
