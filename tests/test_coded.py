"""The codebook's coded units as the suggester reads them."""

from __future__ import annotations

from pathlib import Path

from qualcode.codebook import load_codebook
from qualcode.suggest.engine import Suggester
from qualcode.suggest.text import prepare

EMESSI = Path(__file__).parent.parent / "codebooks" / "emessi.yaml"


def test_the_coded_units_tokens_are_read_once_and_are_the_same_as_fresh() -> None:
    suggester = Suggester(load_codebook(EMESSI))
    units = suggester.coded_units()
    assert units is not None
    first = units.prepared
    # the second suggester of the process reuses them instead of reading again
    again = suggester.coded_units()
    assert again is units and again.prepared is first
    assert first == prepare(units.texts, units.langs)
    assert len(first[0]) == len(units.texts) and set(first[1]) == {"fi", "en"}
