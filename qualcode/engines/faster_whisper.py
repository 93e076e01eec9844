"""The default engine: faster-whisper on CTranslate2.

int8 on CPU and float16 on CUDA keep the accuracy of the float weights at a
fraction of the time; Silero VAD skips the pauses of a group discussion; the
batched pipeline decodes several VAD chunks at once on long files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qualcode.engines import (
    BATCH_CHUNK_SECONDS,
    EngineResult,
    Progress,
    TranscribeOptions,
    resolve_device,
    use_batched,
)
from qualcode.errors import QualcodeError
from qualcode.models import Utterance, Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000


def default_compute_type(device: str) -> str:
    return "float16" if device == "cuda" else "int8"


class FasterWhisperEngine:
    name = "faster-whisper"

    def __init__(self) -> None:
        # loaded models by (path, device, compute type, threads): a batch of
        # files loads its model once
        self._models: dict[tuple, Any] = {}

    def load(self, options: TranscribeOptions) -> tuple[Any, dict]:
        from faster_whisper import WhisperModel

        from qualcode.whisper_models import resolve_model

        path = resolve_model(options.model, allow_download=options.allow_download)
        device = resolve_device(options.device)
        compute = options.compute_type or default_compute_type(device)
        key = (str(path), device, compute, options.cpu_threads)
        if key not in self._models:
            try:
                self._models[key] = WhisperModel(
                    str(path), device=device, compute_type=compute, cpu_threads=options.cpu_threads
                )
            except ValueError as e:  # e.g. float16 asked for on a CPU without it
                raise QualcodeError(
                    f"cannot load {options.model!r} with compute type {compute!r} on {device} "
                    f"({e}); try --compute-type int8 or float32"
                ) from None
        return self._models[key], {
            "model_path": str(path),
            "device": device,
            "compute_type": compute,
        }

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: Progress | None = None
    ) -> EngineResult:
        import ctranslate2
        import faster_whisper

        model, resolved = self.load(options)
        duration = len(audio) / SAMPLE_RATE
        batched = use_batched(options.batched, options.vad, duration)
        common: dict[str, Any] = {
            "language": options.forced_language,
            "beam_size": options.beam_size,
            "word_timestamps": True,
            "vad_filter": options.vad,
        }
        if batched:
            from faster_whisper import BatchedInferencePipeline

            pipeline = BatchedInferencePipeline(model)
            segments, info = pipeline.transcribe(
                audio,
                batch_size=options.batch_size,
                chunk_length=BATCH_CHUNK_SECONDS,
                without_timestamps=False,
                **common,
            )
        else:
            # condition_on_previous_text=False: a group session's topic jumps,
            # and conditioning makes Whisper repeat itself after a misheard bit
            segments, info = model.transcribe(audio, condition_on_previous_text=False, **common)
        out: list[Utterance] = []
        for seg in segments:  # a generator: decoding happens while iterating
            words = [
                Word(
                    start=float(w.start),
                    end=float(w.end),
                    word=w.word.strip(),
                    probability=float(w.probability),
                )
                for w in seg.words or []
                if w.word.strip()
            ]
            text = seg.text.strip()
            if text:
                out.append(
                    Utterance(text=text, start=float(seg.start), end=float(seg.end), words=words)
                )
            if progress is not None:
                progress(min(float(seg.end), duration))
        if progress is not None:
            progress(duration)
        settings = {
            "engine": self.name,
            "model": options.model,
            **resolved,
            "beam_size": options.beam_size,
            "vad": options.vad,
            "batched": bool(batched),
            "batch_size": options.batch_size if batched else None,
            "chunk_length": BATCH_CHUNK_SECONDS if batched else None,
            "cpu_threads": options.cpu_threads,
            "versions": {
                "faster_whisper": faster_whisper.__version__,
                "ctranslate2": ctranslate2.__version__,
            },
        }
        heard, probability = None, None
        if options.forced_language and model.model.is_multilingual:
            # one encoder pass over the first 30 s: cheap beside decoding
            heard, probability, _ = model.detect_language(audio[: 30 * SAMPLE_RATE])
        return EngineResult(
            segments=out,
            language=info.language,
            language_probability=float(info.language_probability),
            settings=settings,
            heard_language=heard,
            heard_probability=None if probability is None else float(probability),
        )
