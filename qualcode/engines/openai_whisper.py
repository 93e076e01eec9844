"""The reference engine: OpenAI's own Whisper implementation (PyTorch).

Kept to check faster-whisper against the original on the same weights: the
model is an openai-whisper checkpoint converted from the very CTranslate2
folder faster-whisper uses (``qualcode.convert``), cached beside the models.
fp32 on CPU (openai-whisper's fp16 needs CUDA).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qualcode.engines import EngineResult, Progress, TranscribeOptions, resolve_device
from qualcode.errors import QualcodeError
from qualcode.models import Utterance, Word

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000


def load_checkpoint(path: str, device: str) -> Any:
    """An openai-whisper model from a checkpoint written by
    ``qualcode.convert``, with the alignment heads word timestamps need."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    model = Whisper(ModelDimensions(**checkpoint["dims"]))
    model.load_state_dict(checkpoint["model_state_dict"])
    heads = checkpoint.get("alignment_heads") or []
    if heads:
        mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
        for layer, head in heads:
            mask[layer, head] = True
        model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)
    return model.to(device)


class OpenAIWhisperEngine:
    name = "openai-whisper"

    def __init__(self) -> None:
        self._models: dict[tuple, Any] = {}

    def load(self, options: TranscribeOptions) -> tuple[Any, dict]:
        try:
            import torch
            import whisper  # noqa: F401 - fail early with the install hint
        except ImportError:
            raise QualcodeError(
                "the openai-whisper engine needs torch and openai-whisper; install them with "
                "`pip install 'qualcode[openai]'` or use --engine faster-whisper"
            ) from None
        from qualcode.convert import convert_model
        from qualcode.whisper_models import converted_checkpoint, resolve_model

        model_dir = resolve_model(options.model, allow_download=options.allow_download)
        device = resolve_device(options.device)
        compute = options.compute_type or ("float16" if device == "cuda" else "float32")
        if compute not in ("float32", "float16") or (compute == "float16" and device != "cuda"):
            raise QualcodeError(
                f"openai-whisper runs float32 on CPU or float16 on CUDA, not {compute!r} on "
                f"{device}; drop --compute-type"
            )
        checkpoint = converted_checkpoint(model_dir)
        if not checkpoint.is_file():
            convert_model(model_dir, checkpoint)
        if options.cpu_threads:
            torch.set_num_threads(options.cpu_threads)
        key = (str(checkpoint), device)
        if key not in self._models:
            self._models[key] = load_checkpoint(str(checkpoint), device)
        return self._models[key], {
            "model_path": str(model_dir),
            "checkpoint": str(checkpoint),
            "device": device,
            "compute_type": compute,
        }

    def transcribe(
        self, audio: np.ndarray, options: TranscribeOptions, progress: Progress | None = None
    ) -> EngineResult:
        import torch
        import whisper

        model, resolved = self.load(options)
        duration = len(audio) / SAMPLE_RATE
        with torch.inference_mode():
            result = model.transcribe(
                audio,
                language=options.forced_language,
                beam_size=options.beam_size if options.beam_size > 1 else None,
                # match faster-whisper's defaults so both decode the same way
                best_of=5,
                condition_on_previous_text=False,
                word_timestamps=True,
                fp16=resolved["compute_type"] == "float16",
                verbose=None,
            )
        out: list[Utterance] = []
        for seg in result["segments"]:
            words = [
                Word(
                    start=float(w["start"]),
                    end=float(w["end"]),
                    word=w["word"].strip(),
                    probability=float(w["probability"]),
                )
                for w in seg.get("words", [])
                if w["word"].strip()
            ]
            text = seg["text"].strip()
            if text:
                out.append(Utterance(text=text, start=seg["start"], end=seg["end"], words=words))
        if progress is not None:
            progress(duration)
        settings = {
            "engine": self.name,
            "model": options.model,
            **resolved,
            "beam_size": options.beam_size,
            "vad": False,  # openai-whisper has no VAD
            "batched": False,
            "cpu_threads": options.cpu_threads,
            "versions": {"openai_whisper": whisper.__version__, "torch": torch.__version__},
        }
        return EngineResult(segments=out, language=result.get("language"), settings=settings)
