"""text: tokens, lemmas and stems, and the disk cache of lemmas that spares a
command decoding simplemma's dictionaries when its words were seen before."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from qualcode.suggest import text


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch):
    """An empty disk cache in tmp_path and no lookups remembered in memory."""
    monkeypatch.setenv("QUALCODE_CACHE", str(tmp_path))

    def reset() -> None:
        text.lemma.cache_clear()
        text.stem.cache_clear()
        text.is_word.cache_clear()
        monkeypatch.setattr(text, "_disk", None)
        monkeypatch.setattr(text, "_new", {})

    reset()
    yield reset
    reset()


def test_tokens_and_inflected_finnish_lemmas() -> None:
    assert text.tokens("Vapaaehtoisten määrä, 12 kpl – “talkoot”!") == [
        "vapaaehtoisten",
        "määrä",
        "kpl",
        "talkoot",
    ]
    assert text.lemma("vapaaehtoisten", "fi") == "vapaaehtoinen"
    assert text.lemma("volunteers", "en") == "volunteer"
    assert text.lemma("sana", "xx") == "sana"  # a language simplemma does not know


def test_a_second_process_reads_lemmas_from_disk(fresh_cache, monkeypatch, tmp_path) -> None:
    first = [text.lemma("vapaaehtoisten", "fi"), text.stem("vapaaehtoisten", "fi")]
    known = text.is_word("raha", "fi")
    text.save_lemmas()
    cached = marshal.loads(text.lemma_cache_path().read_bytes())
    assert cached["fi\tvapaaehtoisten"] == "vapaaehtoinen" and "?fi\traha" in cached
    assert text.lemma_cache_path().parent == tmp_path
    # as a new process: nothing in memory, and the dictionaries would fail
    fresh_cache()

    def no_dictionary(*args, **kwargs):
        raise AssertionError("the dictionary was loaded although the word was cached")

    monkeypatch.setattr("simplemma.lemmatize", no_dictionary)
    monkeypatch.setattr("simplemma.is_known", no_dictionary)
    assert [text.lemma("vapaaehtoisten", "fi"), text.stem("vapaaehtoisten", "fi")] == first
    assert text.is_word("raha", "fi") == known


def test_a_broken_or_unwritable_cache_costs_time_not_results(
    fresh_cache, tmp_path, monkeypatch
) -> None:
    path = text.lemma_cache_path()
    path.write_bytes(b"not marshal data")
    assert text.lemma("vapaaehtoisille", "fi") == "vapaaehtoinen"
    text.save_lemmas()  # replaces the broken file
    assert marshal.loads(path.read_bytes())["fi\tvapaaehtoisille"] == "vapaaehtoinen"
    fresh_cache()
    path.unlink()
    path.mkdir()  # a folder where the file should be: writing fails quietly
    assert text.lemma("talkoisiin", "fi") == "talkoot"
    text.save_lemmas()
    assert path.is_dir() and not list(tmp_path.glob("*.tmp"))
    # a file where the cache folder should be: the temporary file cannot even
    # be created, and saving still fails quietly
    fresh_cache()
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("QUALCODE_CACHE", str(blocked))
    assert text.lemma("rahoitusta", "fi") == "rahoitus"
    text.save_lemmas()
    assert blocked.read_text(encoding="utf-8") == "not a folder"
