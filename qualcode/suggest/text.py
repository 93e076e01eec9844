"""Words, lemmas and stems of coding units, computed once per distinct word.

Finnish inflects heavily (vapaaehtoinen, vapaaehtoisten, vapaaehtoisille):
matching surface words misses most mentions, so every signal works on lemmas
(simplemma, offline) and stems (snowball). Both are slow per call and a
project repeats the same few thousand words endlessly, so results are cached
per (language, word) and a batch only looks up the words it has not seen.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path

TOKEN = re.compile(r"[^\W\d_](?:[\w'’-]*\w)?", re.UNICODE)

# frequent function words: enough to tell Finnish from English per unit when
# a session mixes them (a full language detector is slow and overkill here)
_FI = frozenset(
    "ja on ei se että mä me ne kun niin mutta tai ole olen oli siitä mitä tää sitä meillä "
    "mulla vaan myös kanssa pitää voi kuin jos nyt sen ollut olla tämä siinä kaikki "
    "sitten vielä aina jo joka mikä meidän minä sinä hän he sä mun tosi ihan".split()
)
_EN = frozenset(
    "the and is to of a i we it that you in for with have but not they be are this my "
    "our was what so just there do when at on if all can would about how get one".split()
)
_STEMMERS = {"fi": "finnish", "en": "english", "sv": "swedish", "de": "german", "fr": "french"}


# punctuation a token may carry at its ends; none of it can start or end a TOKEN
_EDGES = ".,!?;:\"()[]{}…“”«»—–-'’/*"


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters first; numbers dropped): the words of
    ``TOKEN``. Most words are plain letters once their punctuation is
    stripped; only the rest go through the regex (half the time on a large
    batch, same tokens)."""
    out: list[str] = []
    for w in text.lower().split():
        if w.isalpha():
            out.append(w)
            continue
        w = w.strip(_EDGES)
        if w.isalpha():
            out.append(w)
        elif w:
            out.extend(TOKEN.findall(w))
    return out


def detect_language(words: Iterable[str], default: str = "fi") -> str:
    """``fi`` or ``en`` from function words and Finnish letters."""
    fi = en = 0
    for w in words:
        if w in _FI:
            fi += 1
        elif w in _EN:
            en += 1
        elif "ä" in w or "ö" in w:
            fi += 1
    if fi == en:
        return default
    return "fi" if fi > en else "en"


def prepare(
    texts: Sequence[str], langs: Sequence[str | None] | None = None
) -> tuple[list[list[str]], list[str]]:
    """Tokens and a language per unit (detected where not given)."""
    docs = [tokens(t) for t in texts]
    given = list(langs) if langs is not None else [None] * len(docs)
    out = [
        lang if lang and lang not in ("auto", "xx") else detect_language(words)
        for words, lang in zip(docs, given, strict=True)
    ]
    return docs, out


# simplemma decodes a language's whole dictionary on its first lemma (Finnish:
# 3.5 million forms, about 4 s), so every command that read Finnish paid that
# before its first suggestion, and snowball stems 15,000 words a second. The
# answers this machine has looked up are kept on disk instead ("lang\tword"
# -> lemma, "#lang\tword" -> stem, "?lang\tword" -> "1" or "" for
# is_known), and a command whose words were all seen before never loads a
# dictionary. It is only a cache: unreadable or unwritable costs time, not
# results.
_disk: dict[str, str] | None = None
_new: dict[str, str] = {}


# bump when lemma(), stem() or is_word() change what they return for a word
_CACHE_FORMAT = 1


@lru_cache(maxsize=1)
def _versions() -> str:
    """What the cached answers depend on: this code's and both libraries' versions."""
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"v{_CACHE_FORMAT}"]
    for dist in ("simplemma", "snowballstemmer"):
        try:
            parts.append(f"{dist}-{version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist}-0")
    return "-".join(parts)


def lemma_cache_path() -> Path:
    """Where the lemmas, stems and known words looked up on this machine are
    kept (``$QUALCODE_CACHE`` or ``~/.cache/qualcode``)."""
    base = os.environ.get("QUALCODE_CACHE")
    folder = Path(base) if base else Path.home() / ".cache" / "qualcode"
    return folder / f"words-{_versions()}.marshal"


def _read_cache(path: Path) -> dict[str, str]:
    import marshal

    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _known() -> dict[str, str]:
    global _disk
    if _disk is None:
        _disk = _read_cache(lemma_cache_path())
        atexit.register(save_lemmas)
    return _disk


def save_lemmas() -> None:
    """Add this process's new lookups to the disk cache (merged with what
    other processes wrote meanwhile; written whole, then renamed)."""
    import marshal

    if not _new:
        return
    path = lemma_cache_path()
    merged = _read_cache(path)
    merged.update(_new)
    if write_cache_file(path, marshal.dumps(merged)):
        _new.clear()


def write_cache_file(path: Path, data: bytes) -> bool:
    """Write a cache file whole, then rename it into place, so a process
    reading it never sees half a file; False (and nothing left behind) when
    it cannot be written: a cache costs time, never a result."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):  # also when the folder itself is missing
            tmp.unlink(missing_ok=True)
        return False
    return True


def _cached(key: str, look_up: Callable[[], str]) -> str:
    known = _known()
    found = known.get(key)
    if found is None:
        found = known[key] = _new[key] = look_up()
    return found


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    def look_up() -> str:
        import simplemma

        try:
            return str(simplemma.lemmatize(word, lang=lang)).lower()
        except ValueError:  # a language simplemma does not know
            return word

    return _cached(f"{lang}\t{word}", look_up)


@lru_cache(maxsize=200_000)
def is_word(word: str, lang: str) -> bool:
    """Whether the lemmatizer knows the word (or can reduce it to a lemma):
    tells a real compound part (raha|lla) from letters that only happen to
    spell a keyword inside a longer word (suo|rahankinta)."""

    def look_up() -> str:
        import simplemma

        try:
            return "1" if simplemma.is_known(word, lang=lang) else ""
        except ValueError:
            return ""

    return bool(_cached(f"?{lang}\t{word}", look_up)) or lemma(word, lang) != word


@lru_cache(maxsize=16)
def _stemmer(lang: str):
    import snowballstemmer

    return snowballstemmer.stemmer(_STEMMERS.get(lang, "porter"))


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    return _cached(f"#{lang}\t{word}", lambda: str(_stemmer(lang).stemWord(word)))


def keys(word: str, lang: str) -> tuple[str, str, str]:
    """(surface, lemma, stem) of a lower-cased word, the forms keywords match on."""
    return word, lemma(word, lang), stem(word, lang)


def shorten(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:–-") + "…"
