"""Decoding real recordings and refusing broken ones clearly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from qualcode.audio import SAMPLE_RATE, load_audio, probe_duration, sha256_file
from qualcode.errors import FormatError

SPEECH = Path(__file__).parent / "data" / "speech"


def test_decodes_stereo_44k_flac_to_16k_mono_float32():
    audio = load_audio(SPEECH / "jfk.flac")
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration == pytest.approx(11.0, abs=0.05)
    assert len(audio.samples) == pytest.approx(11.0 * SAMPLE_RATE, abs=SAMPLE_RATE * 0.05)
    assert 0.05 < float(np.abs(audio.samples).max()) <= 1.0
    assert audio.channels is None


def test_decodes_22k_wav():
    audio = load_audio(SPEECH / "fi-css10-0040.wav")
    assert audio.duration == pytest.approx(6.2, abs=0.05)
    assert probe_duration(SPEECH / "fi-css10-0040.wav") == pytest.approx(6.2, abs=0.05)


def test_keeps_channels_when_asked():
    audio = load_audio(SPEECH / "stereo-two-speakers.wav", keep_channels=True)
    assert audio.channels is not None
    assert audio.channels.shape == (2, len(audio.samples))
    # one speaker per channel: the loud channel changes over time
    frames = audio.channels[:, : audio.channels.shape[1] // 1600 * 1600].reshape(2, -1, 1600)
    energy = (frames**2).mean(axis=2)
    louder_left = energy[0] > energy[1] * 4
    louder_right = energy[1] > energy[0] * 4
    assert louder_left.sum() > 3 and louder_right.sum() > 3


def test_sha256_matches_hashlib():
    path = SPEECH / "jfk.flac"
    assert sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line_naming(error: FormatError, path: Path) -> str:
    message = str(error)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_empty_recording_is_refused_clearly():
    path = SPEECH / "empty.wav"
    with pytest.raises(FormatError) as e:
        load_audio(path)
    assert "no recorded sound" in _one_line_naming(e.value, path)


def test_truncated_file_is_refused_clearly(tmp_path):
    path = tmp_path / "cut.flac"
    path.write_bytes((SPEECH / "jfk.flac").read_bytes()[:3000])
    with pytest.raises(FormatError) as e:
        load_audio(path)
    assert "cannot be decoded" in _one_line_naming(e.value, path)


def test_text_file_is_not_audio(tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_text("these are my field notes, not a recording\n" * 50)
    with pytest.raises(FormatError) as e:
        load_audio(path)
    _one_line_naming(e.value, path)


def test_zero_byte_and_missing_files(tmp_path):
    empty = tmp_path / "zero.wav"
    empty.write_bytes(b"")
    with pytest.raises(FormatError, match="empty file"):
        load_audio(empty)
    with pytest.raises(FormatError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_digital_silence_is_refused(tmp_path):
    import wave

    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 16000 * 2)
    with pytest.raises(FormatError, match="silent"):
        load_audio(path)


def test_a_wav_cut_short_decodes_with_a_warning(tmp_path) -> None:
    """An interrupted copy: the header promises 30 s, the file holds half."""
    whole = (SPEECH / "two-speakers.wav").read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole[: len(whole) // 2])
    audio = load_audio(cut)
    assert 14 < audio.duration < 16
    assert audio.warning is not None and "header says 30.0 s but it holds 15" in audio.warning
    assert load_audio(SPEECH / "two-speakers.wav").warning is None


def test_a_file_that_breaks_off_keeps_what_came_before(tmp_path):
    """A FLAC cut to a third (a recorder that died) was refused outright,
    though 3.5 s of it decode; a WAV cut short was transcribed with a note."""
    path = tmp_path / "third.flac"
    whole = (SPEECH / "jfk.flac").read_bytes()
    path.write_bytes(whole[: len(whole) // 3])
    audio = load_audio(path)
    assert 2.0 < audio.duration < 6.0
    assert audio.warning is not None and "breaks off after" in audio.warning
    assert str(path) in audio.warning and "\n" not in audio.warning


def test_an_mp3_cut_short_says_so(tmp_path):
    """A WAV cut short got a warning, an MP3 (its header keeps the length)
    was transcribed as if it were whole."""
    src = SPEECH / "en-de-multilingual.mp3"
    path = tmp_path / "cut.mp3"
    path.write_bytes(src.read_bytes()[:120_000])
    audio = load_audio(path)
    assert audio.warning is not None and "header says 59.9 s" in audio.warning
    assert load_audio(src).warning is None
