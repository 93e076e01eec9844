"""Suggesting a large batch in worker processes gives what one process gives."""

from __future__ import annotations

import gc
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from qualcode.codebook import load_codebook
from qualcode.suggest import parallel
from qualcode.suggest.engine import Suggester

EMESSI = Path(__file__).parent.parent / "codebooks" / "emessi.yaml"
TEXTS = [
    "Vapaaehtoisia on vaikea saada mukaan talkoisiin.",
    "The grant ends in May and my contract with it.",
    "Mulla on liikaa tehtäviä eikä mikään valmistu.",
    "Nobody to talk to when a session goes badly.",
    "Kuuluuko ääni?",
] * 4


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_workers_suggest_what_one_process_does(monkeypatch) -> None:
    suggester = Suggester(replace(load_codebook(EMESSI), coded_units=None)).fit()
    langs = [None] * len(TEXTS)
    alone = suggester.suggest(TEXTS, langs)
    monkeypatch.setattr(parallel, "MIN_UNITS_PER_PROCESS", 4)
    threads = suggester.similarity_.threads
    split = parallel.suggest_in_processes(suggester, TEXTS, langs, processes=2)
    assert split == alone and len(split) == len(TEXTS)
    # this process scored the first part on one core, then got its threads
    # back, and its objects went back under garbage collection
    assert suggester.similarity_.threads == threads
    assert gc.get_freeze_count() == 0
    assert any(codes for codes in split)  # something was suggested at all
    # a small batch stays in this process
    monkeypatch.setattr(parallel, "MIN_UNITS_PER_PROCESS", 5_000)
    assert parallel.suggest_in_processes(suggester, TEXTS[:3], langs[:3]) == alone[:3]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_decision_models_fitted_in_workers_are_the_ones_one_process_fits(monkeypatch) -> None:
    import csv
    import multiprocessing
    import threading

    import numpy as np

    from qualcode.suggest import classifier

    book = replace(load_codebook(EMESSI), coded_units=None)
    path = Path(__file__).parent / "data" / "emessi-eval.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    ids = [c.id for c in book.iter_codes() if c.is_leaf]
    texts, langs = [r["text"] for r in rows], [r["lang"] for r in rows]
    y = np.array([[c in r["codes"].split(";") for c in ids] for r in rows], dtype=np.float32)
    known = np.ones_like(y, dtype=bool)
    monkeypatch.setattr(classifier, "MIN_UNITS_TO_FORK", 10**9)
    alone = Suggester(book).fit(texts, langs, y, known)
    seen = []
    real = multiprocessing.get_context

    def watched(method=None):
        seen.append(method)
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", watched)
    monkeypatch.setattr(classifier, "MIN_UNITS_TO_FORK", 50)
    split = Suggester(book).fit(texts, langs, y, known)
    assert "fork" in seen
    # at least one calibrated model (three logistic fits) came back from a worker
    assert any(hasattr(m, "calibrated_classifiers_") for m in split.classifier_.models_ if m)
    a, b = alone.score(TEXTS, None).score, split.score(TEXTS, None).score
    codebook_only = Suggester(book).fit().score(TEXTS, None).score
    assert np.array_equal(a, b) and not np.allclose(a, codebook_only)
    # a review screen retrains in a background thread: that never forks
    seen.clear()
    fitted = []
    t = threading.Thread(target=lambda: fitted.append(Suggester(book).fit(texts, langs, y, known)))
    t.start()
    t.join()
    assert "fork" not in seen and np.array_equal(fitted[0].score(TEXTS, None).score, a)
