"""What a transcription says about itself (``qualcode.transcribe_notes``)."""

from __future__ import annotations

from pathlib import Path

from qualcode.engines import EngineResult, TranscribeOptions
from qualcode.transcribe import BatchOptions
from qualcode.transcribe_notes import language_warning


def test_a_language_mismatch_is_a_warning_with_the_command_that_redoes_it():

    heard = EngineResult([], "fi", 1.0, heard_language="en", heard_probability=0.97)
    plain = BatchOptions(transcribe=TranscribeOptions(model="base"), speakers="auto")
    line = language_warning(Path("talk.wav"), "talk", heard, plain)
    assert line is not None and "transcribed as fi, but the speech sounds like en" in line
    assert (
        "`qualcode transcribe talk.wav --language en --session talk --force --model base "
        "--speakers auto`" in line
    )
    spaced = language_warning(Path("my talk.wav"), "my talk", heard, plain) or ""
    assert "transcribe 'my talk.wav' --language en --session 'my talk' --force" in spaced
    # the run's own choices, and the project it ran in: the redo keeps them
    chosen = BatchOptions(
        transcribe=TranscribeOptions(model="base", beam_size=1, vad=False, batched=False),
        speakers="none",
        project="/data/my project",
    )
    redo = language_warning(Path("talk.wav"), "talk", heard, chosen) or ""
    assert redo.endswith(
        "--force --model base --speakers none --beam-size 1 --no-vad --no-batched "
        "-P '/data/my project'`"
    )
    unsure = EngineResult([], "fi", 1.0, heard_language="en", heard_probability=0.5)
    same = EngineResult([], "fi", 1.0, heard_language="fi", heard_probability=0.99)
    assert language_warning(Path("a"), "a", unsure, plain) is None
    assert language_warning(Path("a"), "a", same, plain) is None
