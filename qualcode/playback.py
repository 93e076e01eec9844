"""Playing a unit's stretch of a session recording during review.

Kept apart from the review loop because it depends on what the coder's
machine has: a command-line player on the PATH (``ffplay`` can seek; the
others get a cut-out wav) or the ``simpleaudio`` package. When none is
there, or the session has no recording, the reason is given in words so the
review screen can say it instead of failing silently.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

PLAYERS = ("ffplay", "paplay", "aplay", "afplay")


def find_player() -> tuple[str | None, str]:
    """(player, reason): the first audio player found, or None and why not."""
    for name in PLAYERS:
        path = shutil.which(name)
        if path:
            return path, name
    try:
        import simpleaudio  # noqa: F401

        return "simpleaudio", "simpleaudio"
    except ImportError:
        pass
    return None, "no audio player found (install ffmpeg's ffplay, or aplay/paplay)"


def availability(media: str | None, start: float | None) -> tuple[bool, str]:
    """(available, why) for a unit of a recording at ``media`` starting at ``start``."""
    if not media:
        return False, "this session has no recording (it was imported as text)"
    if not Path(media).exists():
        return False, f"the recording {media} is missing"
    if start is None:
        return False, "this unit has no timestamps"
    player, why = find_player()
    if player is None:
        return False, why
    return True, f"{why} ({Path(media).name})"


def play_clip(media: str, start: float, end: float | None) -> str:
    """Start playing ``media`` from ``start`` to ``end`` in the background."""
    length = max(0.1, (end if end is not None else start + 5.0) - start)
    player, name = find_player()
    if player is None:
        return f"playback not available: {name}"
    if name == "ffplay":
        cmd = [player, "-nodisp", "-autoexit", "-loglevel", "quiet"]
        cmd += ["-ss", f"{start:.2f}", "-t", f"{length:.2f}", media]
        subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        wav = _cut_wav(media, start, length)
        if name == "simpleaudio":
            import simpleaudio

            simpleaudio.WaveObject.from_wave_file(wav).play()
        else:
            subprocess.Popen([player, wav], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"playing {start:.1f}-{start + length:.1f} s"


def _cut_wav(media: str, start: float, length: float) -> str:
    """Decode a stretch of a recording to a temporary wav for simple players."""
    import wave

    import numpy as np

    from qualcode.audio import SAMPLE_RATE, load_audio

    audio = load_audio(media)
    lo = int(start * SAMPLE_RATE)
    part = audio.samples[lo : lo + int(length * SAMPLE_RATE)]
    pcm = (np.clip(part, -1, 1) * 32767).astype("<i2").tobytes()
    fd, name = tempfile.mkstemp(suffix=".wav", prefix="qualcode-play-")
    with open(fd, "wb") as fh, wave.open(fh, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm)
    return name
