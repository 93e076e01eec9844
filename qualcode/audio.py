"""Decode whatever recording a researcher has into what Whisper needs.

Researchers bring wav, mp3, m4a, flac, ogg, opus and the sound tracks of
mp4/mkv/webm videos. PyAV decodes all of them without an ``ffmpeg`` binary on
the PATH (it bundles the libraries), so both engines get the same 16 kHz mono
float32 array from one place, and a broken file fails here with one line that
names it instead of deep inside an engine.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.errors import FormatError, not_a_file
from qualcode.inputs import files_in_folders

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
# below this a file holds no speech Whisper could transcribe (a click, a header)
MIN_SECONDS = 0.1
# all-zero (digital silence) or near it: nothing to transcribe
SILENCE_PEAK = 1e-4
# a recorded sound takes hundreds of distinct sample values; a file with a
# handful (a stuck converter, a header with filler) holds no sound at all
MIN_DISTINCT_VALUES = 32


@dataclass
class Audio:
    """A decoded recording.

    samples: mono float32 in [-1, 1] at ``SAMPLE_RATE``.
    channels: (n_channels, n_samples) float32, only when asked for
        (``keep_channels=True``), for one-speaker-per-channel recordings.
    duration: seconds.
    """

    path: Path
    samples: np.ndarray
    duration: float
    channels: np.ndarray | None = None
    warning: str | None = None  # e.g. a file cut short: decoded, but say so

    @property
    def n_channels(self) -> int:
        return 1 if self.channels is None else int(self.channels.shape[0])


# what a folder given to ``transcribe`` stands for (anything else ffmpeg
# reads can still be named one by one)
MEDIA_EXTENSIONS = frozenset(
    ".wav .wave .mp3 .m4a .aac .flac .ogg .oga .opus .wma .mp4 .m4v .mov .mkv .webm .avi".split()
)


NO_RECORDINGS = (
    "it holds no recordings (" + ", ".join(sorted(e[1:] for e in MEDIA_EXTENSIONS)) + ")"
)


def expand_folders(paths: list[Path]) -> list[Path]:
    """Folders stand for the recordings in them, by extension (see
    ``qualcode.inputs``); one without any stays, to be reported as such."""
    return files_in_folders(paths, lambda p: p.suffix.lower() in MEDIA_EXTENSIONS)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


class _BrokenOff(Exception):
    """The file decoded up to a point and then broke (a recorder that died,
    a copy cut short): the sound before it, and why it stopped."""

    def __init__(self, samples: np.ndarray, reason: str) -> None:
        super().__init__(reason)
        self.samples, self.reason = samples, reason


def _decode(path: Path, layout: str) -> np.ndarray:
    """All frames of the first audio stream, resampled to 16 kHz s16 in
    ``layout``, as float32 (n_samples * n_channels interleaved). Raises
    ``_BrokenOff`` with what came before when the stream breaks off."""
    import av
    import numpy as np

    resampler = av.AudioResampler(format="s16", layout=layout, rate=SAMPLE_RATE)
    chunks: list[Any] = []
    broken: str | None = None
    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        if not container.streams.audio:
            raise FormatError(path, "has no sound track; give an audio or video file with sound")
        frames = container.decode(audio=0)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except av.error.FFmpegError as e:
                if not chunks:
                    raise
                broken = getattr(e, "strerror", None) or str(e) or type(e).__name__
                break
            try:
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            except av.error.InvalidDataError:
                # a damaged frame in an otherwise good file: skip it, as players do
                continue
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    samples = (
        np.concatenate(chunks).astype(np.float32) / 32768.0
        if chunks
        else np.zeros(0, dtype=np.float32)
    )
    if broken is not None:
        raise _BrokenOff(samples, broken)
    return samples


def load_audio(path: str | Path, *, keep_channels: bool = False) -> Audio:
    """Decode ``path`` to 16 kHz mono float32 (plus per-channel arrays when
    ``keep_channels``). Raises ``FormatError`` naming the file for missing,
    corrupt, empty, silent or non-audio files."""
    import av
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise not_a_file(path, NO_RECORDINGS)
    if path.stat().st_size == 0:
        raise FormatError(path, "is an empty file (0 bytes); re-export or re-copy the recording")
    from qualcode.formats import EXTENSIONS

    # a transcript someone hands to transcribe by mistake: ffmpeg would read a
    # subtitle file as a stream without sound, so say what it is instead
    if path.suffix.lower() in EXTENSIONS or path.suffix.lower() in (".csv", ".pdf"):
        raise FormatError(path, "a transcript, not a recording; use `qualcode import` for it")
    broken: str | None = None
    try:
        try:
            mono = _decode(path, "mono")
        except _BrokenOff as e:
            if len(e.samples) < SAMPLE_RATE:  # under a second: nothing worth keeping
                raise av.error.InvalidDataError(0, e.reason) from None
            mono, broken = e.samples, e.reason
        channels = None
        if keep_channels:
            n = _channel_count(path)
            if n >= 2:
                layout = "stereo" if n == 2 else f"{n}c"
                try:
                    both = _decode(path, layout)
                except _BrokenOff as e:
                    both = e.samples
                channels = both[: len(both) - len(both) % n].reshape(-1, n).T.copy()
    except FormatError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise FormatError(
            path, f"cannot be decoded as audio ({reason}); is it a complete audio or video file?"
        ) from None
    duration = len(mono) / SAMPLE_RATE
    if duration < MIN_SECONDS:
        raise FormatError(path, "contains no audio samples; re-export the recording")
    if float(np.max(np.abs(mono))) < SILENCE_PEAK:
        raise FormatError(
            path, f"is silent ({duration:.1f} s of nothing to transcribe); check the recording"
        )
    # a strided sample keeps this cheap on hour-long recordings
    distinct = len(np.unique(mono[:: max(1, len(mono) // 200_000)]))
    if distinct < MIN_DISTINCT_VALUES:
        raise FormatError(
            path,
            f"holds no recorded sound ({duration:.1f} s with only {distinct} distinct sample "
            "values); check the recording",
        )
    # what of a damaged file could be read is transcribed, and said to be
    # all there is (a recorder that died mid-file lost nothing before it)
    warning = (
        f"{path}: the file breaks off after {duration:.1f} s ({broken}); only that much was "
        "transcribed (an interrupted recording or copy?)"
        if broken
        else _cut_short(path, duration)
    )
    return Audio(path=path, samples=mono, duration=duration, channels=channels, warning=warning)


def _cut_short(path: Path, duration: float) -> str | None:
    """A line when a WAV header promises more sound than the file holds: an
    interrupted copy or recording, which transcribes without complaint
    (ffmpeg measures the file, the header keeps what was meant)."""
    import wave

    if path.suffix.lower() in (".wav", ".wave"):
        try:
            with wave.open(str(path)) as w:
                declared: float | None = w.getnframes() / w.getframerate()
        except (wave.Error, EOFError, OSError, ZeroDivisionError):
            return None  # not plain PCM: nothing to compare
    else:
        # an MP3 or OGG cut short keeps the length its header announced; the
        # audio stream's, not the container's (a video may run on past its sound)
        declared = _header_durations(path)[1]
    if declared is None or declared <= duration + max(1.0, 0.02 * declared):
        return None
    return (
        f"{path}: its header says {declared:.1f} s but it holds {duration:.1f} s of sound; "
        "it looks cut short (an interrupted copy or recording?): only that part is transcribed"
    )


def _header_durations(path: str | Path) -> tuple[float | None, float | None]:
    """(container, audio stream) lengths the file's headers announce, in
    seconds, None where they do not say, without decoding."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            whole = float(container.duration) / 1_000_000 if container.duration else None
            stream = container.streams.audio[0]
            sound = (
                float(stream.duration * stream.time_base)
                if stream.duration and stream.time_base
                else None
            )
            return whole, sound
    except Exception:  # noqa: BLE001 - only an estimate; decoding reports real errors
        return None, None


def _channel_count(path: Path) -> int:
    import av

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        stream = container.streams.audio[0]
        return int(stream.codec_context.channels or 1)


def probe_duration(path: str | Path) -> float | None:
    """Duration from the container header, without decoding (for progress
    totals before a batch starts); None when the header does not say."""
    whole, sound = _header_durations(path)
    return whole if whole is not None else sound
