"""Words, lemmas and stems of coding units, computed once per distinct word.

Finnish inflects heavily (vapaaehtoinen, vapaaehtoisten, vapaaehtoisille):
matching surface words misses most mentions, so every signal works on lemmas
(simplemma, offline) and stems (snowball). Both are slow per call and a
project repeats the same few thousand words endlessly, so results are cached
per (language, word) and a batch only looks up the words it has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

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


@lru_cache(maxsize=200_000)
def lemma(word: str, lang: str) -> str:
    import simplemma

    try:
        return simplemma.lemmatize(word, lang=lang).lower()
    except ValueError:  # a language simplemma does not know
        return word


def is_word(word: str, lang: str) -> bool:
    """Whether the lemmatizer knows the word (or can reduce it to a lemma):
    tells a real compound part (raha|lla) from letters that only happen to
    spell a keyword inside a longer word (suo|rahankinta)."""
    import simplemma

    try:
        return bool(simplemma.is_known(word, lang=lang)) or lemma(word, lang) != word
    except ValueError:
        return False


@lru_cache(maxsize=16)
def _stemmer(lang: str):
    import snowballstemmer

    return snowballstemmer.stemmer(_STEMMERS.get(lang, "porter"))


@lru_cache(maxsize=200_000)
def stem(word: str, lang: str) -> str:
    return str(_stemmer(lang).stemWord(word))


def keys(word: str, lang: str) -> tuple[str, str, str]:
    """(surface, lemma, stem) of a lower-cased word, the forms keywords match on."""
    return word, lemma(word, lang), stem(word, lang)
