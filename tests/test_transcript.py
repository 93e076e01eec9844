from qualcode.models import Utterance
from qualcode.transcript import format_time, plain_text, rename_speaker, utterance_spans


def test_plain_text_offsets_slice_each_utterance() -> None:
    us = [
        Utterance("Hei kaikki.", speaker="Fasilitaattori"),
        Utterance("ilman puhujaa"),
        Utterance("Vapaaehtoisten kanssa on kiirettä.", speaker="Aino"),
    ]
    text = plain_text(us)
    assert text.count("\n") == 2 and not text.endswith("\n")
    for u, (a, b) in zip(us, utterance_spans(us), strict=True):
        assert text[a:b] == u.text
    assert text.splitlines()[1] == "ilman puhujaa"


def test_format_time() -> None:
    assert format_time(None) == "--:--"
    assert format_time(65.4) == "01:05"
    assert format_time(3725.25, millis=True) == "1:02:05.250"


def test_renaming_a_speaker_moves_the_units_offsets(project) -> None:
    """Units address the plain text, whose lines start with the speaker's
    name: a rename (or a merge) to a name of another length must move them,
    or a REFI-QDA export would put codings on the wrong words."""
    from qualcode.models import Session, Transcript
    from qualcode.segment import segment_session

    store = project.store
    utts = [
        Utterance("Meillä ei ole koskaan aikaa mihinkään.", "SPEAKER_1", 0, 4),
        Utterance("Avustus leikattiin viime keväänä.", "SPEAKER_2", 4, 8),
        Utterance("Teen taas kaiken yksin.", "SPEAKER_1", 8, 12),
    ]
    sid = store.add_session(Session(name="s"), Transcript(utts))
    segment_session(store, sid, project)
    ids = [g.id for g in store.segments(sid)]

    def aligned() -> bool:
        text = plain_text(store.utterances(sid))
        return all(text[g.char_start : g.char_end] == g.text for g in store.segments(sid))

    assert aligned()
    assert rename_speaker(store, "SPEAKER_1", "Aino Virtanen") is False
    assert aligned()
    assert rename_speaker(store, "SPEAKER_2", "Aino Virtanen", merge=True) is True
    assert aligned()
    segment_session(store, sid, project)
    assert [g.id for g in store.segments(sid)] == ids


def test_rewriting_units_moves_every_later_offset() -> None:
    """A coder's correction replaces exactly its unit's words; the units
    after it move with the text, word timings of a changed turn are dropped."""
    from qualcode.models import Segment, Word
    from qualcode.transcript import corrected, rewrite_units

    utts = [
        Utterance("Se pitäis tehdä. Joo.", "Aino", 0, 4, words=[Word(0, 1, " Se", 0.9)], id=1),
        Utterance("Rahat loppuu.", "Ville", 4, 6, words=[Word(4, 5, " Rahat", 0.9)], id=2),
    ]
    text = plain_text(utts)
    a = text.index("Se pitäis")
    b = text.index("Rahat")
    fixed = Segment(1, 0, "Se pitäisi tehdä.", a, a + 16, utterance_id=1)
    fixed.original_text = "Se pitäis tehdä."
    rest = Segment(1, 1, "Joo.", a + 17, a + 21, utterance_id=1)
    later = Segment(1, 2, "Rahat loppuu.", b, b + 13, utterance_id=2)
    new, move = rewrite_units(utts, [fixed, rest, later], corrected)
    out = plain_text(new)
    assert out == "Aino: Se pitäisi tehdä. Joo.\nVille: Rahat loppuu."
    for g in (fixed, rest, later):
        assert out[move(g.char_start) : move(g.char_end)] == g.text
    assert new[0].words == [] and new[1].words == utts[1].words


def test_a_recording_transcribed_again_keeps_the_names_given_to_its_voices() -> None:
    from qualcode.transcript import carry_speaker_names

    before = [
        Utterance("Hei.", "Diane", 0.0, 3.0),
        Utterance("Moi.", "Sheila", 3.0, 7.0),
        Utterance("Jatketaan.", "Diane", 7.0, 9.0),
    ]
    # the new diarization swapped the numbers and cut the turns differently
    again = [
        Utterance("Hei.", "SPEAKER_2", 0.0, 2.9),
        Utterance("Moi.", "SPEAKER_1", 3.1, 6.5),
        Utterance("Jatketaan.", "SPEAKER_2", 7.2, 9.0),
        Utterance("Ja vielä.", "SPEAKER_3", 12.0, 13.0),  # nobody spoke then before
    ]
    mapping = carry_speaker_names(again, before)
    assert mapping == {"SPEAKER_2": "Diane", "SPEAKER_1": "Sheila"}
    assert [u.speaker for u in again] == ["Diane", "Sheila", "Diane", "SPEAKER_3"]


def test_a_later_recordings_labels_keep_their_order_of_appearance() -> None:
    """SPEAKER_1 was taken by another session: the new recording came out
    as SPEAKER_3, SPEAKER_2 (the taken label moved past the free one)."""
    from qualcode.models import Utterance
    from qualcode.transcript import separate_speaker_labels

    talk = [Utterance("a", "SPEAKER_1"), Utterance("b", "SPEAKER_2"), Utterance("c", "SPEAKER_1")]
    separate_speaker_labels(talk, {"SPEAKER_1"})
    assert [u.speaker for u in talk] == ["SPEAKER_2", "SPEAKER_3", "SPEAKER_2"]
    free = [Utterance("a", "SPEAKER_2"), Utterance("b", "SPEAKER_1")]
    separate_speaker_labels(free, {"SPEAKER_7"})  # nothing taken: as they were
    assert [u.speaker for u in free] == ["SPEAKER_2", "SPEAKER_1"]
    named = [Utterance("a", "SPEAKER_00"), Utterance("b", "Aino")]
    separate_speaker_labels(named, {"SPEAKER_00"})
    assert [u.speaker for u in named] == ["SPEAKER_01", "Aino"]
