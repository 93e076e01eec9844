"""Code suggestions that learn: codebook keywords, similarity to examples and
accepted units, and a classifier trained on coder decisions, combined into one
explained score per (unit, code).

The functions here are what the rest of qualcode calls (segmenting, the
review UI, the command line); they import nothing heavy until used.
"""

from __future__ import annotations

from typing import Any

from qualcode.suggest.workflow import (
    MODEL_NAME,
    CodeQuality,
    TrainReport,
    load_suggester,
    maybe_retrain,
    review_queue,
    suggest_segments,
    suggest_unscored,
    suggestions_for,
    train,
    training_data,
)

__all__ = [
    "MODEL_NAME",
    "CodeQuality",
    "Suggester",
    "SuggestOptions",
    "TrainReport",
    "load_suggester",
    "maybe_retrain",
    "review_queue",
    "suggest_segments",
    "suggest_unscored",
    "suggestions_for",
    "train",
    "training_data",
]


def __getattr__(name: str) -> Any:
    # the engine pulls in numpy/scipy: load it only when asked for
    if name in ("Suggester", "SuggestOptions"):
        from qualcode.suggest import engine

        return getattr(engine, name)
    raise AttributeError(name)
