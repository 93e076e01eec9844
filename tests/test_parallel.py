"""Suggesting a large batch in worker processes gives what one process gives."""

from __future__ import annotations

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
    split = parallel.suggest_in_processes(suggester, TEXTS, langs, processes=2)
    assert split == alone and len(split) == len(TEXTS)
    assert any(codes for codes in split)  # something was suggested at all
    # a small batch stays in this process
    monkeypatch.setattr(parallel, "MIN_UNITS_PER_PROCESS", 5_000)
    assert parallel.suggest_in_processes(suggester, TEXTS[:3], langs[:3]) == alone[:3]
