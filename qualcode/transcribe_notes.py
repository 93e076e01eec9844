"""What a transcription says about itself: a language that sounds wrong
(with the command that redoes it, repeating the run's own options), more
speakers asked for than the recording holds.

Kept beside ``qualcode.transcribe`` so the batch reads as the steps it
takes, and these lines can be read and tested on their own.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.models import Utterance

if TYPE_CHECKING:
    from qualcode.engines import EngineResult
    from qualcode.transcribe import BatchOptions


def redo_args(options: BatchOptions) -> str:
    """The options of this run, as a command line repeats them: a redo
    suggested without them would silently go back to the defaults."""
    t = options.transcribe
    args = [f"--model {shlex.quote(t.model)}", f"--speakers {shlex.quote(options.speakers)}"]
    if options.engine != "faster-whisper":
        args.append(f"--engine {shlex.quote(options.engine)}")
    if t.beam_size != 5:
        args.append(f"--beam-size {t.beam_size}")
    if not t.vad:
        args.append("--no-vad")
    if t.batched is not None:
        args.append("--batched" if t.batched else "--no-batched")
    if t.device != "auto":
        args.append(f"--device {t.device}")
    if t.compute_type:
        args.append(f"--compute-type {t.compute_type}")
    if t.cpu_threads:
        args.append(f"--threads {t.cpu_threads}")
    if options.project:
        args.append(f"-P {shlex.quote(options.project)}")
    return " ".join(args)


def thin_speakers(speakers: str, utterances: list[Utterance]) -> str | None:
    """A note when a number of speakers given (--speakers N) left some with
    almost nothing said: more than the recording holds (20 asked of 11 s of
    one voice gave 15 "speakers" without a word)."""
    if not speakers.isdigit() or int(speakers) < 2:
        return None
    said: dict[str, float] = {}
    for u in utterances:
        if u.speaker and u.start is not None and u.end is not None:
            said[u.speaker] = said.get(u.speaker, 0.0) + u.end - u.start
    thin = sorted(name for name, seconds in said.items() if seconds < 3.0)
    if not thin:
        return None
    return (
        f"{len(thin)} of the {speakers} speakers asked for say under 3 s ({', '.join(thin[:5])}); "
        "the recording may hold fewer voices: try --speakers auto or a smaller number"
    )


def language_warning(
    path: Path, name: str, result: EngineResult, options: BatchOptions
) -> str | None:
    """A line when the speech does not sound like the language it was
    transcribed as (``--language fi`` on an English recording gives Finnish
    nonsense, slowly), with the command that redoes it."""
    heard, p = result.heard_language, result.heard_probability
    if not heard or heard == result.language or p is None or p < 0.8:
        return None
    return (
        f"{path}: transcribed as {result.language}, but the speech sounds like {heard} "
        f"(p={p:.2f}); if it is, run `qualcode transcribe {shlex.quote(str(path))} "
        f"--language {heard} --session {shlex.quote(name)} --force {redo_args(options)}`"
    )
