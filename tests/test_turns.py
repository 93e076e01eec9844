"""Words into utterances (``qualcode.turns``)."""

from __future__ import annotations

import pytest

from qualcode.errors import QualcodeError
from qualcode.models import Word
from qualcode.turns import split_at_silences, words_to_turns


def test_words_to_turns_merges_runs_and_keeps_words():
    words = [
        Word(0.0, 0.4, " Hello"),
        Word(0.4, 0.7, " there."),
        Word(1.0, 1.3, " Hi"),
        Word(1.3, 1.5, "!"),
        Word(2.0, 2.4, " Welcome"),
    ]
    turns = words_to_turns(words, ["SPEAKER_1", "SPEAKER_1", "SPEAKER_2", "SPEAKER_2", "SPEAKER_1"])
    assert [(t.speaker, t.text, t.start, t.end) for t in turns] == [
        ("SPEAKER_1", "Hello there.", 0.0, 0.7),
        ("SPEAKER_2", "Hi!", 1.0, 1.5),
        ("SPEAKER_1", "Welcome", 2.0, 2.4),
    ]
    assert turns[1].words == words[2:4]


def test_a_long_silence_or_a_long_turn_ends_an_utterance():
    """A minute of silence inside one voice's words was one utterance (one
    subtitle cue and one coding unit across it); one voice heard in a whole
    recording was a single six-minute utterance."""
    words = [Word(0.0, 0.5, " Ask"), Word(0.5, 1.0, " not."), Word(62.0, 62.5, " Hello.")]
    turns = words_to_turns(words, ["A"] * 3)
    assert [(t.text, t.start, t.end) for t in turns] == [
        ("Ask not.", 0.0, 1.0),
        ("Hello.", 62.0, 62.5),
    ]
    # a short pause between words stays inside the turn
    assert len(words_to_turns([Word(0, 1, " a"), Word(2.5, 3, " b")], ["A", "A"])) == 1
    talk = [Word(i * 1.0, i * 1.0 + 0.9, " sana." if i % 10 == 9 else " sana") for i in range(150)]
    long = words_to_turns(talk, ["A"] * len(talk))
    # cut at the first sentence end past a minute (a sentence here is 10 s)
    assert len(long) == 3 and all(t.end - t.start <= 71 for t in long)
    assert all(t.text.endswith(".") for t in long[:-1])


def test_words_without_leading_spaces_still_get_spaces():
    turns = words_to_turns([Word(0, 1, "no"), Word(1, 2, "spaces"), Word(2, 3, ",")], ["A"] * 3)
    assert turns[0].text == "no spaces,"


def test_words_to_turns_rejects_mismatched_labels():
    with pytest.raises(QualcodeError, match="2 words but 1 speaker labels"):
        words_to_turns([Word(0, 1, " a"), Word(1, 2, " b")], ["SPEAKER_1"])


def test_a_long_silence_inside_whisper_s_segment_ends_an_utterance():
    """--speakers none and 1 keep Whisper's segments; with some thread
    counts one ran from 9.5 s to 78.2 s across a minute of silence (one
    subtitle cue, one coding unit)."""
    from qualcode.models import Utterance, Word

    words = [Word(9.5, 10.0, " And"), Word(10.0, 10.7, " so,"), Word(76.0, 78.2, " my fellow")]
    spanning = Utterance("And so, my fellow", "SPEAKER_1", 9.5, 78.2, words=words)
    short = Utterance("Ask not.", "SPEAKER_1", 0.0, 9.5, words=[Word(0.0, 9.5, " Ask not.")])
    out = split_at_silences([short, spanning])
    assert [(u.text, u.start, u.end, u.speaker) for u in out] == [
        ("Ask not.", 0.0, 9.5, "SPEAKER_1"),
        ("And so,", 9.5, 10.7, "SPEAKER_1"),
        ("my fellow", 76.0, 78.2, "SPEAKER_1"),
    ]
    unnamed = Utterance("And so, my fellow", None, 9.5, 78.2, words=words)
    assert [u.speaker for u in split_at_silences([unnamed])] == [None, None]
