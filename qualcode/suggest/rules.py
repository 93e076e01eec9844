"""Signal 1: the codebook's keywords, matched on lemmas and stems.

Keywords are what researchers write down first and they carry most of the
codebook-only signal. Matching raw words fails on Finnish (the keyword
``vapaaehtoinen`` must find ``vapaaehtoisten``), so a word matches a plain
keyword when their surface forms, lemmas or stems agree; ``vapaaehtoi*``
matches any word (or lemma) starting with ``vapaaehtoi``; a phrase matches
its words in order, on the same keys, allowing one filler word between them
("sanoa ei" also finds "sanoa suoraan ei").

Every hit is kept for the rationale the coder reads
("matched: vapaaehtoisten → vapaaehtoinen").
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qualcode.suggest.text import is_word, keys

if TYPE_CHECKING:
    from qualcode.codebook import CodebookCode

_Lookup = tuple[list[tuple[int, str]], list[int]]
_WordIds = tuple[list[int], list[int], list[int]]


@lru_cache(maxsize=4)
def _word_caches(
    keywords: str,
) -> tuple[dict[tuple[str, str], _Lookup], dict[str, dict[str, _WordIds]]]:
    """The per-word caches of the matchers of one set of ``keywords``."""
    return {}, {}


# stems shorter than this match too many unrelated words
MIN_STEM = 4
MIN_PREFIX = 3
# the shortest first part of a compound word
MIN_COMPOUND = 3


@dataclass(frozen=True)
class Hit:
    code: int  # index into the matcher's codes
    keyword: str
    word: str  # the unit's word (or words) that matched

    def explain(self) -> str:
        return self.keyword if self.word == self.keyword else f"{self.word} → {self.keyword}"


def _word_keys(word: str, lang: str) -> set[str]:
    """Keys a unit's word matches on: surface, lemma and (for inflecting
    languages; English stems conflate too much: accountant ~ accounts) stem."""
    surface, lem, st = keys(word, lang)
    out = {surface, lem}
    if lang != "en" and len(st) >= MIN_STEM:
        out.add("~" + st)  # stems live in their own namespace
    return out


def _keyword_keys(word: str, lang: str) -> set[str]:
    """Keys of a plain keyword. A keyword written in an inflected form
    (``tekemättä``, ``backing``) means that form: its lemma (``tehdä``,
    ``back``) would match far more than the author meant, so the lemma only
    counts when it is close to the keyword."""
    out = _word_keys(word, lang)
    lem = keys(word, lang)[1]
    if lem != word and len(lem) < 0.7 * len(word):
        out.discard(lem)
        out = {k for k in out if not k.startswith("~") or len(k) - 1 >= 0.7 * len(word)}
    return out


class KeywordRules:
    """Matches codebook keywords in tokenized units.

    codes: the codebook codes to match, in score-column order.
    """

    def __init__(self, codes: Sequence[CodebookCode]) -> None:
        self.codes = list(codes)
        self.code_ids = [c.id for c in self.codes]
        # key -> [(code, keyword)] for plain words
        self._plain: dict[str, list[tuple[int, str]]] = {}
        self._prefixes: list[tuple[str, int, str]] = []
        # (code, keyword, [keys of each word], last word is a prefix)
        self._phrases: list[tuple[int, str, list[set[str]], bool]] = []
        self._phrase_start: dict[str, list[int]] = {}
        # the same for the last word: key -> phrases, and (prefix, phrase)
        self._phrase_end: dict[str, list[int]] = {}
        self._phrase_end_prefixes: list[tuple[str, int]] = []
        self._keys: dict[tuple[str, str], set[str]] = {}
        for ci, code in enumerate(self.codes):
            for lang, words in code.keywords.items():
                for kw in words:
                    self._add(ci, kw.strip().lower(), lang)
        self._prefix_index: dict[str, list[int]] = {}
        for k, (prefix, _, _) in enumerate(self._prefixes):
            self._prefix_index.setdefault(prefix[:MIN_PREFIX], []).append(k)
        # phrase-final wildcards by their first letters too ("" holds the
        # shorter ones): every distinct word of a batch is checked against them
        self._end_prefix_index: dict[str, list[tuple[str, int]]] = {}
        for prefix, index in self._phrase_end_prefixes:
            head = prefix[:MIN_PREFIX] if len(prefix) >= MIN_PREFIX else ""
            self._end_prefix_index.setdefault(head, []).append((prefix, index))
        # numbered (code, keyword) pairs for the vectorized path
        self._ids: dict[tuple[int, str], int] = {}
        for ci, kw in [h for v in self._plain.values() for h in v] + [
            (ci, kw) for _, ci, kw in self._prefixes
        ]:
            self._ids.setdefault((ci, kw), len(self._ids))
        self._id_code = np.array([ci for ci, _ in self._ids], dtype=np.int64)
        self._id_code_list = self._id_code.tolist()
        self._id_keyword = [kw for _, kw in self._ids]
        # language -> word -> (keyword ids, phrases it starts, phrases it ends);
        # keyed by word within a language so hot loops look words up directly
        # what each word matched: shared by every matcher of the same keywords
        # in this process, so a retrain (the review screen's, every N
        # decisions) looks up only the words it has not seen
        digest = json.dumps([[c.id, c.keywords] for c in self.codes], sort_keys=True)
        self._cache, self._vector_cache = _word_caches(digest)

    def _add(self, ci: int, kw: str, lang: str) -> None:
        if not kw:
            return
        parts = kw.split()
        if len(parts) == 1:
            if kw.endswith("*"):
                prefix = kw[:-1]
                if len(prefix) >= MIN_PREFIX:
                    self._prefixes.append((prefix, ci, kw))
                return
            for key in _keyword_keys(kw, lang):
                self._plain.setdefault(key, []).append((ci, kw))
            return
        last_prefix = parts[-1].endswith("*")
        word_keys = []
        for i, part in enumerate(parts):
            if i == len(parts) - 1 and last_prefix:
                word_keys.append({part[:-1]})
            else:
                word_keys.append(_keyword_keys(part, lang))
        index = len(self._phrases)
        self._phrases.append((ci, kw, word_keys, last_prefix))
        for key in word_keys[0]:
            self._phrase_start.setdefault(key, []).append(index)
        if last_prefix:
            self._phrase_end_prefixes.append((next(iter(word_keys[-1])), index))
        else:
            for key in word_keys[-1]:
                self._phrase_end.setdefault(key, []).append(index)

    def _word_keys(self, word: str, lang: str) -> set[str]:
        found = self._keys.get((word, lang))
        if found is None:
            found = self._keys[(word, lang)] = _word_keys(word, lang)
        return found

    def _lookup(self, word: str, lang: str) -> tuple[list[tuple[int, str]], list[int]]:
        """Plain/prefix keyword hits and phrases starting at this word (cached)."""
        cached = self._cache.get((word, lang))
        if cached is not None:
            return cached
        wkeys = self._word_keys(word, lang)
        hits: list[tuple[int, str]] = []
        phrases: set[int] = set()
        for key in wkeys:
            hits.extend(self._plain.get(key, ()))
            phrases.update(self._phrase_start.get(key, ()))
        surface, lem = word, keys(word, lang)[1]
        # wildcards are indexed by their first letters: only those that can
        # match here are tried (hundreds of them, thousands of words)
        found: set[int] = set()
        for text in {surface, lem}:
            for k in self._prefix_index.get(text[:MIN_PREFIX], ()):
                if text.startswith(self._prefixes[k][0]):
                    found.add(k)
        # Finnish compounds put the keyword last: projektirahoista ~ raha*
        for at in range(MIN_COMPOUND, len(surface) - MIN_PREFIX) if lang == "fi" else ():
            for k in self._prefix_index.get(surface[at : at + MIN_PREFIX], ()):
                prefix = self._prefixes[k][0]
                if (
                    k not in found
                    and len(prefix) > MIN_PREFIX
                    and surface.startswith(prefix, at)
                    # the rest of the word must be a word itself: rahoista
                    # counts in lomarahoista, raha does not in suorahankintana
                    and is_word(surface[at:], lang)
                ):
                    found.add(k)
        hits.extend(self._prefixes[k][1:] for k in sorted(found))
        # hyphenated compounds: STEA-raportti holds STEA, Leader-hanke a hanke
        if "-" in word:
            for part in word.split("-"):
                if len(part) > 1:
                    hits.extend(h for h in self._lookup(part, lang)[0] if h not in hits)
        result = (hits, sorted(phrases))
        self._cache[(word, lang)] = result
        return result

    def _phrase_at(self, words: list[str], lang: str, i: int, index: int) -> int:
        """End position (exclusive) of phrase ``index`` starting at word i, or 0."""
        _, _, word_keys, last_prefix = self._phrases[index]
        pos = i + 1
        for n, want in enumerate(word_keys[1:], start=1):
            is_last = n == len(word_keys) - 1
            for j in (pos, pos + 1):  # one filler word allowed
                if j >= len(words):
                    return 0
                if is_last and last_prefix:
                    prefix = next(iter(want))
                    w = words[j]
                    ok = w.startswith(prefix) or keys(w, lang)[1].startswith(prefix)
                else:
                    ok = bool(self._word_keys(words[j], lang) & want)
                if ok:
                    pos = j + 1
                    break
            else:
                return 0
        return pos

    def match(self, words: list[str], lang: str) -> list[Hit]:
        """Distinct keyword hits in one unit's lower-cased words."""
        found: dict[tuple[int, str], str] = {}
        for i, w in enumerate(words):
            hits, phrases = self._lookup(w, lang)
            for ci, kw in hits:
                found.setdefault((ci, kw), w)
            for index in phrases:
                end = self._phrase_at(words, lang, i, index)
                if end:
                    ci, kw, _, _ = self._phrases[index]
                    found.setdefault((ci, kw), " ".join(words[i:end]))
        return [Hit(ci, kw, w) for (ci, kw), w in found.items()]

    def match_many(self, docs: Sequence[list[str]], langs: Sequence[str]) -> list[list[Hit]]:
        return [self.match(words, lang) for words, lang in zip(docs, langs, strict=True)]

    # -- vectorized: many units at once ---------------------------------------

    def _word_ids(self, word: str, lang: str) -> tuple[list[int], list[int], list[int]]:
        """Keyword ids a word matches, phrases it can start, phrases it can end."""
        cache = self._vector_cache.setdefault(lang, {})
        cached = cache.get(word)
        if cached is not None:
            return cached
        hits, starts = self._lookup(word, lang)
        wkeys = self._word_keys(word, lang)
        lem = keys(word, lang)[1]
        ends = {index for key in wkeys for index in self._phrase_end.get(key, ())}
        index_by_head = self._end_prefix_index
        for candidates in {
            id(c): c
            for c in (
                index_by_head.get(word[:MIN_PREFIX], ()),
                index_by_head.get(lem[:MIN_PREFIX], ()),
                index_by_head.get("", ()),
            )
        }.values():
            ends.update(
                index
                for prefix, index in candidates
                if word.startswith(prefix) or lem.startswith(prefix)
            )
        result = (sorted({self._ids[h] for h in hits}), starts, sorted(ends))
        cache[word] = result
        return result

    def count_matrix(
        self,
        units: Any,
        words: list[str],
        docs: Sequence[list[str]],
        langs: Sequence[str],
        phrase_hits: dict[int, list[Hit]] | None = None,
    ) -> tuple[np.ndarray, Any]:
        """Distinct keywords matched per (unit, code), computed once per
        distinct word: ``units`` is the (units x words) count matrix of
        ``words``. Also returns the (units x keyword ids) hit matrix that
        ``explain_unit`` reads; ``phrase_hits`` (unit -> hits), when given,
        receives the phrases found so the rationale need not look again."""
        from scipy import sparse

        n, k = len(docs), len(self.codes)
        n_ids, n_phrases = max(len(self._ids), 1), max(len(self._phrases), 1)
        lang_arr = np.asarray(langs)
        hit = sparse.csr_matrix((n, n_ids), dtype=np.float32)
        counts = np.zeros((n, k), dtype=np.float32)
        for lang in sorted(set(langs)):
            rows = np.flatnonzero(lang_arr == lang)
            triples = [self._word_ids(w, lang) for w in words]
            # phrases each word can start: a dict lookup per word in the loop
            # below instead of a method call (millions on a big batch)
            starts = {w: t[1] for w, t in zip(words, triples, strict=True) if t[1]}
            mats = []
            for part, width in ((0, n_ids), (1, n_phrases), (2, n_phrases)):
                r = [i for i, t in enumerate(triples) for _ in t[part]]
                c = [j for t in triples for j in t[part]]
                mats.append(
                    sparse.csr_matrix(
                        (np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(words), width)
                    )
                )
            sub = units[rows] if len(rows) < n else units
            kw = (sub @ mats[0]).tocsr()
            kw.data[:] = 1.0
            part_hit = sparse.csr_matrix((kw.data, kw.indices, kw.indptr), shape=(len(rows), n_ids))
            if len(rows) < n:
                expand = sparse.csr_matrix(
                    (np.ones(len(rows), dtype=np.float32), (rows, np.arange(len(rows)))),
                    shape=(n, len(rows)),
                )
                part_hit = expand @ part_hit
            hit = hit + part_hit
            # phrases: only units holding a first and a last word are checked in order
            cand = ((sub @ mats[1]) > 0).multiply((sub @ mats[2]) > 0).tocsr()
            for r_local in np.flatnonzero(np.diff(cand.indptr)).tolist():
                # one pass over the unit's words for all its candidate phrases
                wanted = set(cand.indices[cand.indptr[r_local] : cand.indptr[r_local + 1]].tolist())
                i = int(rows[r_local])
                ws = docs[i]
                for j, w in enumerate(ws):
                    for index in starts.get(w, ()):
                        if index not in wanted:
                            continue
                        end = self._phrase_at(ws, lang, j, index)
                        if end:
                            wanted.discard(index)  # counted once per unit
                            ci, phrase = self._phrases[index][:2]
                            counts[i, ci] += 1
                            if phrase_hits is not None:
                                hit_ = Hit(ci, phrase, " ".join(ws[j:end]))
                                phrase_hits.setdefault(i, []).append(hit_)
                    if not wanted:
                        break
        hit = hit.tocsr()
        if hit.nnz:
            onehot = sparse.csr_matrix(
                (
                    np.ones(len(self._id_code), dtype=np.float32),
                    (np.arange(len(self._id_code)), self._id_code),
                ),
                shape=(n_ids, k),
            )
            counts += (hit @ onehot).toarray()
        return counts, hit

    def explain_unit(
        self,
        hit_ids: Any,
        words: list[str],
        lang: str,
        totals: dict[int, int],
        phrases: list[Hit] | None = None,
    ) -> dict[int, list[Hit]]:
        """The hits of one unit for the codes in ``totals`` (code -> distinct
        hits), from its row of the hit matrix and the phrases ``count_matrix``
        found (matched again when not given): each word is looked up once per
        unit, not once per suggested code."""
        want = [j for j in hit_ids.tolist() if self._id_code_list[j] in totals]
        found: dict[int, list[Hit]] = {c: [] for c in totals}
        if want:
            first: dict[int, str] = {}
            pending = set(want)
            cache = self._vector_cache.get(lang, {})
            for w in words:
                # count_matrix has looked up every word of the batch already
                known = cache.get(w)
                for j in (known or self._word_ids(w, lang))[0]:
                    if j in pending:
                        first[j] = w
                        pending.discard(j)
                if not pending:
                    break
            for j in want:
                code = self._id_code_list[j]
                found[code].append(Hit(code, self._id_keyword[j], first.get(j, "")))
        short = {c for c, total in totals.items() if total > len(found[c])}
        if short:
            for h in phrases if phrases is not None else self.match(words, lang):
                if h.code in short and " " in h.keyword:
                    found[h.code].append(h)
        return found

    def explain_hits(
        self, hit_ids: Any, words: list[str], lang: str, code: int, total: int
    ) -> list[Hit]:
        """The hits of one unit for one code (for the rationale), from the
        keyword ids in its row of the hit matrix; ``total`` hits in all, the rest are phrases, found
        again by ``match``."""
        ids = [j for j in hit_ids.tolist() if self._id_code_list[j] == code]
        found: list[Hit] = []
        for j in ids:
            word = next((w for w in words if j in self._word_ids(w, lang)[0]), "")
            found.append(Hit(code, self._id_keyword[j], word))
        if total > len(found):
            found.extend(h for h in self.match(words, lang) if h.code == code and " " in h.keyword)
        return found


def distinct_hits(hits: list[Hit]) -> list[str]:
    """One explanation per matched word of the unit: a word that found
    several keywords of the code (its lemma one, its stem another), or a
    phrase found twice, reads once."""
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.word.casefold() in seen:
            continue
        seen.add(h.word.casefold())
        out.append(h.explain())
    return out
