"""Both engines on real speech with real small models.

tiny.en for speed; multilingual base only for the Finnish sample."""

from __future__ import annotations

import re
from pathlib import Path

import jiwer
import pytest

from qualcode.audio import load_audio
from qualcode.engines import TranscribeOptions, get_engine
from qualcode.errors import QualcodeError

SPEECH = Path(__file__).parent / "data" / "speech"


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


@pytest.fixture(scope="module")
def jfk():
    return load_audio(SPEECH / "jfk.flac").samples


@pytest.fixture(scope="module")
def jfk_ref() -> str:
    return normalize((SPEECH / "jfk.ref.txt").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def faster_tiny(jfk):
    done: list[float] = []
    result = get_engine("faster-whisper").transcribe(
        jfk, TranscribeOptions(model="tiny.en", cpu_threads=2), done.append
    )
    return result, done


def test_unknown_engine_lists_known_ones():
    with pytest.raises(QualcodeError, match="known engines: faster-whisper, openai-whisper"):
        get_engine("whisperx")


def test_faster_whisper_tiny_en_transcribes_jfk(faster_tiny, jfk_ref):
    result, done = faster_tiny
    hyp = normalize(" ".join(s.text for s in result.segments))
    assert jiwer.wer(jfk_ref, hyp) <= 0.1, hyp
    assert result.language == "en"
    assert result.settings["compute_type"] == "int8"  # the CPU default
    assert result.settings["vad"] is True
    assert done and done[-1] == pytest.approx(11.0, abs=0.05)
    assert done == sorted(done)


def test_word_timestamps_are_ordered_and_inside_the_audio(faster_tiny):
    result, _ = faster_tiny
    words = result.words
    assert len(words) >= 20
    assert all(0 <= w.start <= w.end <= 11.1 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:], strict=False))
    country = [w for w in words if normalize(w.word) == "country"]
    assert len(country) == 2 and country[1].start > 9.0  # "...for your country." at the end


def test_openai_whisper_gives_the_same_transcript_from_the_same_weights(faster_tiny, jfk, jfk_ref):
    result = get_engine("openai-whisper").transcribe(
        jfk, TranscribeOptions(model="tiny.en", cpu_threads=2)
    )
    assert result.settings["compute_type"] == "float32"
    assert result.settings["model_path"] == faster_tiny[0].settings["model_path"]
    ref_hyp = normalize(" ".join(s.text for s in result.segments))
    fw_hyp = normalize(" ".join(s.text for s in faster_tiny[0].segments))
    assert jiwer.wer(ref_hyp, fw_hyp) <= 0.05, (ref_hyp, fw_hyp)
    assert jiwer.wer(jfk_ref, ref_hyp) <= 0.1
    assert result.words and result.words[-1].end == pytest.approx(
        faster_tiny[0].words[-1].end, abs=0.5
    )


def test_openai_whisper_refuses_int8():
    with pytest.raises(QualcodeError, match="float32 on CPU"):
        get_engine("openai-whisper").load(
            TranscribeOptions(model="tiny.en", compute_type="int8", device="cpu")
        )


def test_multilingual_base_detects_finnish():
    audio = load_audio(SPEECH / "fi-css10-0040.wav").samples
    result = get_engine("faster-whisper").transcribe(
        audio, TranscribeOptions(model="base", cpu_threads=2)
    )
    assert result.language == "fi"
    ref = normalize((SPEECH / "fi-css10-0040.ref.txt").read_text(encoding="utf-8"))
    hyp = normalize(" ".join(s.text for s in result.segments))
    assert jiwer.cer(ref, hyp) <= 0.2, hyp


def test_forced_language_is_used(jfk):
    # forcing the language skips detection; the probability reported is then 1
    result = get_engine("faster-whisper").transcribe(
        jfk[: 16000 * 4], TranscribeOptions(model="tiny.en", language="en", cpu_threads=2)
    )
    assert result.language == "en" and result.language_probability == 1.0
    assert "fellow" in normalize(" ".join(s.text for s in result.segments))


def test_batched_pipeline_gives_the_same_words(jfk, jfk_ref):
    result = get_engine("faster-whisper").transcribe(
        jfk, TranscribeOptions(model="tiny.en", cpu_threads=2, batched=True, batch_size=4)
    )
    assert result.settings["batched"] is True
    hyp = normalize(" ".join(s.text for s in result.segments))
    assert jiwer.wer(jfk_ref, hyp) <= 0.1, hyp
    assert result.words


def test_long_recordings_are_batched_by_default() -> None:
    from qualcode.engines import BATCH_MIN_SECONDS, use_batched

    assert BATCH_MIN_SECONDS == 300
    assert use_batched(None, True, 600.0) is True  # a 10-minute session
    assert use_batched(None, True, 120.0) is False  # too short to pay off
    assert use_batched(None, False, 600.0) is False  # batches are cut at VAD pauses
    assert use_batched(False, True, 600.0) is False and use_batched(True, True, 5.0) is True


def test_a_forced_language_is_checked_against_what_the_speech_sounds_like(jfk):
    """--language fi on an English recording: the transcript is Finnish
    nonsense, so the engine says what it heard (one encoder pass)."""
    result = get_engine("faster-whisper").transcribe(
        jfk[: 16000 * 4], TranscribeOptions(model="base", language="fi", cpu_threads=2)
    )
    assert result.language == "fi"
    assert result.heard_language == "en" and (result.heard_probability or 0) > 0.8
