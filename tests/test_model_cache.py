"""model_cache: a codebook's model is fitted once per machine, and a cache
that cannot be read or written never changes a result."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qualcode.codebook import load_codebook
from qualcode.store import open_store
from qualcode.suggest import load_suggester, model_cache, workflow
from qualcode.suggest.engine import Suggester, SuggestOptions

BOOK = """
name: small
version: 1
languages: [fi, en]
coded_units: small-coded.csv
codes:
  - id: volunteers
    label: {fi: Vapaaehtoiset, en: Volunteers}
    keywords: {fi: [vapaaehtoinen, talkoo*], en: [volunteer]}
    examples:
      fi: [Vapaaehtoisten sitouttaminen on vaikeaa.]
      en: [Keeping volunteers involved is hard.]
  - id: funding
    label: {fi: Rahoitus, en: Funding}
    keywords: {fi: [avustus, raha*], en: [grant]}
    examples:
      fi: [Avustus loppuu ensi vuonna.]
      en: [Our grant ends next year.]
"""
CODED = [
    ("Talkoisiin tuli taas vain kolme ihmistä.", "volunteers"),
    ("Vapaaehtoiset väsyvät, kun samat tekevät kaiken.", "volunteers"),
    ("Uusia vapaaehtoisia on vaikea saada mukaan.", "volunteers"),
    ("Hankerahoitus päättyy ja jatko on auki.", "funding"),
    ("Avustushakemus pitää jättää ensi kuussa.", "funding"),
    ("Rahat eivät riitä palkkaan.", "funding"),
    ("Kahvinkeitto jäi taas minulle.", ""),
    ("Kokous alkaa kymmeneltä.", ""),
    ("The volunteers did the whole event alone.", "volunteers"),
    ("Nobody new signs up to help any more.", "volunteers"),
    ("The foundation grant runs out in May.", "funding"),
    ("We cannot pay the coordinator next year.", "funding"),
    ("The meeting room was cold.", ""),
    ("I had coffee before the session.", ""),
]
TEXTS = ["Vapaaehtoisia ei ole tarpeeksi.", "Rahoitus loppuu.", "The grant ends."]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("QUALCODE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(workflow, "_CODEBOOK_MODELS", {})
    (tmp_path / "small.yaml").write_text(BOOK, encoding="utf-8")
    rows = "".join(f'"{text}",{code}\n' for text, code in CODED)
    (tmp_path / "small-coded.csv").write_text("text,codes\n" + rows, encoding="utf-8")
    return load_codebook(tmp_path / "small.yaml")


def _load(book, db: Path):
    store = open_store(db)
    try:
        return load_suggester(store, None, book)[0]
    finally:
        store.close()


def _cached(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("codebook-model-*.pickle"))


def test_a_second_project_on_the_same_codebook_does_not_fit_again(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _load(book, tmp_path / "one.db")
    assert first.n_coded_units_ == len(CODED) and len(_cached(tmp_path)) == 1
    # another command (no model in this process) in another project
    workflow._CODEBOOK_MODELS.clear()
    monkeypatch.setattr(Suggester, "fit", lambda *a, **k: pytest.fail("fitted again"))
    second = _load(book, tmp_path / "two.db")
    assert second is not first and second.codebook is book
    # the same numbers (a pickled model's arrays may sum in another order)
    assert np.allclose(first.score(TEXTS, None).score, second.score(TEXTS, None).score, atol=1e-6)


def test_a_damaged_cache_file_is_fitted_again_and_replaced(book, tmp_path: Path) -> None:
    first = _load(book, tmp_path / "one.db")
    [path] = _cached(tmp_path)
    path.write_bytes(path.read_bytes()[:1000])  # cut short, as by a full disk
    workflow._CODEBOOK_MODELS.clear()
    again = _load(book, tmp_path / "two.db")
    assert np.allclose(first.score(TEXTS, None).score, again.score(TEXTS, None).score, atol=1e-6)
    assert path.stat().st_size > 1000 and model_cache.load(first.fingerprint_, repr(first.options))


def test_what_the_model_depends_on_names_the_file(book, tmp_path: Path) -> None:
    model = _load(book, tmp_path / "one.db")
    fingerprint, options = model.fingerprint_, repr(SuggestOptions())
    assert model_cache.load(fingerprint, options) is not None
    other = repr(SuggestOptions(coded_units=False))
    assert model_cache.model_path(fingerprint, other) != model_cache.model_path(
        fingerprint, options
    )
    # a coded unit more: another fingerprint, so the old file is not used
    with (tmp_path / "small-coded.csv").open("a", encoding="utf-8") as f:
        f.write("Talkoolaiset saivat kiitokset.,volunteers\n")
    changed = load_codebook(tmp_path / "small.yaml")
    workflow._CODEBOOK_MODELS.clear()
    refit = _load(changed, tmp_path / "two.db")
    assert refit.fingerprint_ != fingerprint and refit.n_coded_units_ == len(CODED) + 1
    assert len(_cached(tmp_path)) == 2


def test_only_the_most_recently_used_models_are_kept(book, tmp_path: Path) -> None:
    for k in range(model_cache.KEEP + 2):
        model_cache.save(SimpleNamespace(fingerprint_=f"fp{k}"), "o")  # type: ignore[arg-type]
    kept = _cached(tmp_path)
    assert len(kept) == model_cache.KEEP
    assert model_cache.model_path("fp0", "o") not in kept
    assert model_cache.model_path(f"fp{model_cache.KEEP + 1}", "o") in kept


def test_a_cache_that_cannot_be_written_costs_only_time(
    book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be", encoding="utf-8")
    monkeypatch.setenv("QUALCODE_CACHE", str(blocked))
    model = _load(book, tmp_path / "one.db")
    assert model.n_coded_units_ == len(CODED)
    assert model_cache.load(model.fingerprint_, repr(model.options)) is None
