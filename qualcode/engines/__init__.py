"""Transcription engines behind one small interface, picked by name.

faster-whisper (CTranslate2) is the default because it is several times
faster on the CPUs researchers have; openai-whisper is the reference
implementation, kept to check that faster-whisper's transcripts are as good
on the same weights. Both take the same decoded 16 kHz mono array, so the
rest of qualcode never knows which engine ran.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from qualcode.errors import QualcodeError
from qualcode.models import Utterance

if TYPE_CHECKING:
    import numpy as np

# files at least this long go through faster-whisper's batched pipeline when
# ``batched`` is left to auto. Measured on 2 cores (docs/benchmarks.md): on a
# 10-minute session it is about 2x faster than the plain loop with the same
# WER; on a 2-minute cut the batches are too few to pay for themselves.
BATCH_MIN_SECONDS = 300.0
# the batched pipeline decodes VAD chunks of at most this many seconds, with
# timestamps inside each. faster-whisper's default (30 s chunks, no
# timestamps) fills Whisper's whole window and drops words at chunk ends:
# 16.6% WER against 12.1% with 25 s chunks on the 10-minute session, at the
# same speed (benchmarks/transcribe.py).
BATCH_CHUNK_SECONDS = 25

Progress = Callable[[float], None]


def use_batched(batched: bool | None, vad: bool, duration: float) -> bool:
    """Whether faster-whisper decodes in batches: as asked, or (``None``)
    on recordings of ``BATCH_MIN_SECONDS`` or more when VAD is on (the
    batched pipeline cuts the audio at the pauses VAD finds)."""
    if batched is not None:
        return batched
    return vad and duration >= BATCH_MIN_SECONDS


@dataclass
class TranscribeOptions:
    """How to transcribe; recorded with each session.

    model: a model name (``tiny.en``, ``base``, ``small``, ``large-v3`` ...) or
        a CTranslate2 model folder; see ``qualcode.whisper_models``.
    language: ``None`` or ``"auto"`` detects it; else an ISO code (``fi``, ``en``).
    device: ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    compute_type: ``None`` picks int8 on CPU and float16 on CUDA for
        faster-whisper, float32 (CPU) / float16 (CUDA) for openai-whisper.
    beam_size: beam search width (1 = greedy, faster, a little less accurate).
    vad: skip non-speech with Silero VAD before decoding (faster-whisper);
        long group recordings have many pauses.
    batched: use faster-whisper's batched pipeline (about 2x faster on long
        files, same accuracy); ``None`` = when VAD is on and the file is at
        least ``BATCH_MIN_SECONDS`` (5 minutes) long.
    batch_size: chunks per batch in the batched pipeline.
    cpu_threads: CPU threads (0 = the engine's default, all cores).
    allow_download: let a missing model be downloaded from the hub.
    """

    model: str = "base"
    language: str | None = None
    device: str = "auto"
    compute_type: str | None = None
    beam_size: int = 5
    vad: bool = True
    batched: bool | None = None
    batch_size: int = 8
    cpu_threads: int = 0
    allow_download: bool = False

    @property
    def forced_language(self) -> str | None:
        return None if self.language in (None, "", "auto") else self.language


@dataclass
class EngineResult:
    """Whisper segments (speaker unknown) with their words, and what ran."""

    segments: list[Utterance]
    language: str | None
    language_probability: float | None = None
    # resolved engine, model path, device, compute type, versions
    settings: dict = field(default_factory=dict)
    # with a forced language: what the speech itself sounds like (a Finnish
    # project's English recording would otherwise come out as Finnish nonsense)
    heard_language: str | None = None
    heard_probability: float | None = None

    @property
    def words(self) -> list:
        return [w for s in self.segments for w in s.words]


class Engine(Protocol):
    """A speech-to-text engine. ``progress`` is called with seconds of audio
    done so far."""

    name: str

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: Progress | None = None
    ) -> EngineResult: ...


def _registry() -> dict[str, Callable[[], Engine]]:
    # imported lazily: each engine module imports its library inside functions
    from qualcode.engines.faster_whisper import FasterWhisperEngine
    from qualcode.engines.openai_whisper import OpenAIWhisperEngine

    return {"faster-whisper": FasterWhisperEngine, "openai-whisper": OpenAIWhisperEngine}


ENGINES = ("faster-whisper", "openai-whisper")
_instances: dict[str, Engine] = {}


def get_engine(name: str) -> Engine:
    """The engine called ``name``; one instance per name so loaded models are
    reused across the files of a batch."""
    factories = _registry()
    if name not in factories:
        raise QualcodeError(f"unknown engine {name!r}; known engines: {', '.join(factories)}")
    if name not in _instances:
        _instances[name] = factories[name]()
    return _instances[name]


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise QualcodeError(f"unknown device {device!r}; use auto, cpu or cuda")
    if device != "auto":
        return device
    return "cuda" if _cuda_devices() > 0 else "cpu"


def _cuda_devices() -> int:
    try:
        import ctranslate2

        return int(ctranslate2.get_cuda_device_count())
    except Exception:  # noqa: BLE001 - no CUDA runtime means no GPU
        return 0


def whisper_languages() -> frozenset[str]:
    """The language codes Whisper knows (the same for both engines)."""
    try:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        return frozenset(_LANGUAGE_CODES)
    except ImportError:
        try:
            from whisper.tokenizer import LANGUAGES

            return frozenset(LANGUAGES)
        except ImportError:
            return frozenset()


def check_options(options: TranscribeOptions) -> None:
    """Refuse settings no file of a batch could use, once and before any
    decoding (each file failed with the engine's own multi-line message)."""
    resolve_device(options.device)
    if options.device == "cuda" and _cuda_devices() == 0:
        raise QualcodeError("--device cuda: no CUDA GPU is usable here; use --device cpu or auto")
    language = options.forced_language
    known = whisper_languages()
    if language and known and language.split("-")[0].lower() not in known:
        raise QualcodeError(
            f"language {language!r} (--language, or the project's language:): Whisper does not "
            "know it; it knows " + ", ".join(sorted(known))
        )
