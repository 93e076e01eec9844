"""The Suggester: one score per (unit, code) from three signals, explained.

The codebook alone (keywords + similarity to its examples) must be useful
from the first minute; decisions make it better. The codebook score is a
logistic combination of the number of distinct keywords matched and the
similarity to the code's nearest example (absolute, and relative to the other
codes so the best-fitting code stands out). Its weights are a logistic
regression fitted on our six development sets of eMessi-style units (1,427
units; never on the holdout sets we report), rounded so they carry over to
other codebooks.

Learned part: units the coders accepted join the examples (the similarity
signal then finds near-duplicates of coded talk), and the decision
classifier adds what the decisions teach (see ``classifier``).

Only leaf codes are suggested: a coder codes "volunteers", not the umbrella
"third sector" above it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qualcode.errors import QualcodeError
from qualcode.suggest.classifier import DecisionClassifier
from qualcode.suggest.coded import CodedUnits, load_coded_units, within
from qualcode.suggest.context import ThemeChain, chain_for, fit_chain
from qualcode.suggest.options import SuggestOptions
from qualcode.suggest.rules import KeywordRules, distinct_hits
from qualcode.suggest.similarity import (
    ExampleSimilarity,
    SplitRows,
    TextFeaturizer,
    index_words,
)
from qualcode.suggest.text import prepare, shorten, tokens

if TYPE_CHECKING:
    from qualcode.codebook import Codebook, CodebookCode


def suggestable_codes(codebook: Codebook) -> list[CodebookCode]:
    """Leaf codes, in codebook order (parents only when they have no children)."""
    return [c for c in codebook.iter_codes() if c.is_leaf]


def codebook_fingerprint(codes: Sequence[CodebookCode], extra: str = "") -> str:
    payload = [[c.id, c.keywords, c.examples, c.label, c.description] for c in codes]
    if extra:  # without coded units: the same fingerprint as models trained before them
        payload.append([extra])
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


@lru_cache(maxsize=4096)
def _example_tokens(text: str) -> list[str]:
    """An example's tokens; a few hundred examples explain every unit."""
    return tokens(text)


def _lead(values: np.ndarray) -> np.ndarray:
    """Each code's value minus the best value among the other codes."""
    if values.shape[1] < 2:
        return np.zeros_like(values)
    top2 = np.sort(values, axis=1)[:, -2:]
    other = np.where(values >= top2[:, 1:2], top2[:, 0:1], top2[:, 1:2])
    return values - other


@dataclass
class Scores:
    """Scores of a batch of units with what explains them."""

    codes: list[str]
    score: np.ndarray  # n x codes, final
    prior: np.ndarray  # n x codes, codebook + accepted units only
    counts: np.ndarray  # n x codes, distinct keywords matched
    hit_matrix: Any  # n x keyword ids (see KeywordRules.explain_unit)
    docs: list[list[str]]
    langs: list[str]
    similarity: np.ndarray
    nearest: np.ndarray
    learned: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per code: bool
    phrase_hits: dict[int, list] = field(default_factory=dict)  # unit -> phrase Hits
    alone: np.ndarray | None = None  # n x codes, the score before context (None: no context)


class Suggester:
    """Scores units against a codebook; learns from decisions (scikit-learn style).

    codebook: the project's codebook.
    options: weights and thresholds (``SuggestOptions``).
    """

    def __init__(self, codebook: Codebook, options: SuggestOptions | None = None) -> None:
        self.codebook = codebook
        self.options = options or SuggestOptions()
        self._codes = suggestable_codes(codebook)
        self._rules: KeywordRules | None = None

    # -- preparation ----------------------------------------------------------

    @property
    def code_ids(self) -> list[str]:
        return [c.id for c in self._codes]

    @property
    def rules(self) -> KeywordRules:
        if self._rules is None:
            self._rules = KeywordRules(self._codes)
        return self._rules

    def coded_units(self) -> CodedUnits | None:
        """The codebook's coded units this suggester learns from, if any."""
        path = self.codebook.coded_units
        if path is None or not self.options.coded_units:
            return None
        parents = tuple(c.id for c in self.codebook.iter_codes() if not c.is_leaf)
        return load_coded_units(path, path.stat().st_mtime_ns, tuple(self.code_ids), parents)

    def expected_fingerprint(self) -> str:
        """What ``fingerprint_`` is when fitted on the current codebook files."""
        units = self.coded_units()
        return codebook_fingerprint(self._codes, units.digest if units else "")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_rules"] = None  # its word cache is rebuilt on demand
        return state

    def _examples(self) -> tuple[list[list[str]], list[str], list[int], list[str]]:
        docs, langs, codes, texts = [], [], [], []
        for ci, code in enumerate(self._codes):
            for lang, items in code.examples.items():
                for text in items:
                    docs.append(tokens(text))
                    langs.append(lang)
                    codes.append(ci)
                    texts.append(text)
            if not code.examples:
                # a codebook without examples: its labels and descriptions stand in
                for lang in set(code.label) | set(code.description):
                    text = f"{code.label.get(lang, '')}. {code.description.get(lang, '')}"
                    docs.append(tokens(text))
                    langs.append(lang)
                    codes.append(ci)
                    texts.append(text.strip(". "))
        return docs, langs, codes, texts

    # -- fitting ---------------------------------------------------------------

    def fit(
        self,
        texts: Sequence[str] = (),
        langs: Sequence[str | None] | None = None,
        y: np.ndarray | None = None,
        known: np.ndarray | None = None,
        positions: Sequence[tuple[Hashable, int] | None] | None = None,
    ) -> Suggester:
        """Learn from decided units: ``y`` (n x codes) 1 where a coder gave the
        code, 0 where one rejected it or reviewed the unit without it;
        ``known`` marks which of those labels exist; ``positions`` a
        (session, index among its codable units) per unit, to learn how
        talk moves between themes. With no units this prepares the
        codebook-only suggester."""
        units = self.coded_units()
        where: list = list(positions) if positions is not None else [None] * len(texts)
        if units is not None:
            # the codebook's coded units come first: where the cap on accepted
            # examples bites, the project's own (later) decisions are kept
            n_codes = units.y.shape[1]
            given_y = np.asarray(y if y is not None else [], dtype=np.float32)
            given_y = given_y.reshape(-1, n_codes)
            given_known = (
                np.asarray(known, dtype=bool).reshape(-1, n_codes)
                if known is not None
                else np.ones_like(given_y, dtype=bool)
            )
            given_langs = list(langs) if langs is not None else [None] * len(texts)
            own_docs, own_langs = prepare(texts[: len(given_y)], given_langs[: len(given_y)])
            # the coded units' tokens are read once per process (a review
            # screen retrains many times)
            docs, unit_langs = units.prepared
            docs, unit_langs = docs + own_docs, unit_langs + own_langs
            texts = units.texts + list(texts[: len(given_y)])
            y = np.vstack([units.y, given_y])
            known = np.vstack([np.ones_like(units.y, dtype=bool), given_known])
            # the codebook's sessions and the project's never meet
            where = [within("codebook", p) for p in units.positions] + [
                within("project", p) for p in where[: len(given_y)]
            ]
        else:
            docs, unit_langs = prepare(texts, langs) if len(texts) else ([], [])
        ex_docs, ex_langs, ex_codes, ex_texts = self._examples()
        self.featurizer_ = TextFeaturizer()
        chars, lems = self.featurizer_.fit_transform(ex_docs + docs, ex_langs + unit_langs)
        n_ex = len(ex_docs)
        ex_x = self.featurizer_.combined((chars[:n_ex], lems[:n_ex]))
        n_codes = len(self._codes)
        self.fingerprint_ = codebook_fingerprint(self._codes, units.digest if units else "")
        self.n_coded_units_ = len(units.texts) if units else 0
        self.n_examples_ = len(ex_docs)
        vocab_docs, vocab_langs, vocab_codes = [], [], []
        for ci, code in enumerate(self._codes):
            for lang, words in code.keywords.items():
                vocab_docs.append(tokens(" ".join(w.rstrip("*") for w in words)))
                vocab_langs.append(lang)
                vocab_codes.append(ci)
        vocab_x = self.featurizer_.combined(self.featurizer_.transform(vocab_docs, vocab_langs))
        self.vocabulary_ = ExampleSimilarity().fit(vocab_x, vocab_codes, vocab_langs, n_codes)
        self.classifier_: DecisionClassifier | None = None
        # (rate, stay) of the codes in the labelled units' sessions
        self.context_: tuple[float, float] | None = None
        if not len(texts) or y is None:
            self.similarity_ = ExampleSimilarity().fit(ex_x, ex_codes, ex_texts, n_codes, ex_langs)
            return self
        from scipy import sparse

        y = np.asarray(y, dtype=np.float32)
        known = np.asarray(known if known is not None else np.ones_like(y), dtype=bool)
        self.context_ = fit_chain(y, known, where)[:2]
        index = index_words(docs)
        x = self.featurizer_.combined((chars[n_ex:], lems[n_ex:]))
        pos_rows, pos_codes = np.nonzero((y > 0) & known)
        # nearest-neighbour cost grows with the examples: keep the latest per code
        cap = self.options.max_accepted_examples
        keep = np.zeros(len(pos_rows), dtype=bool)
        for c in range(n_codes):
            mine = np.flatnonzero(pos_codes == c)
            keep[mine[-cap:] if cap > 0 else mine[:0]] = True
        pos_rows, pos_codes = pos_rows[keep], pos_codes[keep]
        all_x = sparse.vstack([ex_x, x[pos_rows]], format="csr")
        all_codes = list(ex_codes) + pos_codes.tolist()
        all_texts = ex_texts + [texts[int(i)] for i in pos_rows]
        all_langs = list(ex_langs) + [unit_langs[int(i)] for i in pos_rows]
        self.similarity_ = ExampleSimilarity().fit(all_x, all_codes, all_texts, n_codes, all_langs)
        # a unit must not look like itself: leave its own rows out of its prior
        own: list[list[int]] = [[] for _ in range(len(texts))]
        for k, row in enumerate(pos_rows):
            own[row].append(len(ex_codes) + k)
        prior, _, _, signals = self._prior(x, docs, unit_langs, index, exclude=own)
        self.classifier_ = DecisionClassifier().fit(x, y, known, prior, signals)
        return self

    # -- scoring ---------------------------------------------------------------

    def _prior(
        self,
        x: Any,
        docs: list[list[str]],
        langs: list[str],
        index: tuple[Any, list[str]],
        exclude: list[list[int]] | None = None,
    ) -> tuple[np.ndarray, tuple[np.ndarray, Any, dict], tuple[np.ndarray, np.ndarray], np.ndarray]:
        """Codebook score, keyword hits, (similarity, nearest example) and the
        signals behind the score (n x codes x 6) for the classifier."""
        o = self.options
        phrase_hits: dict[int, list] = {}
        counts, hit_matrix = self.rules.count_matrix(index[0], index[1], docs, langs, phrase_hits)
        sim, nearest = self.similarity_.score(x, exclude=exclude, langs=langs)
        vocab, _ = self.vocabulary_.score(x)
        signals = np.stack(
            [
                np.minimum(counts, 1),
                np.clip(counts - 1, 0, 3),
                sim,
                _lead(sim),
                vocab,
                _lead(vocab),
            ],
            axis=-1,
        ).astype(np.float32)
        weights = np.array(
            [
                o.keyword_weight,
                o.extra_keyword_weight,
                o.similarity_weight,
                o.margin_weight,
                o.vocabulary_weight,
                o.vocabulary_margin_weight,
            ],
            dtype=np.float32,
        )
        z = o.bias + signals @ weights
        prior = 1.0 / (1.0 + np.exp(-z))
        return prior, (counts, hit_matrix, phrase_hits), (sim, nearest), signals

    def score(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        groups: Sequence[Hashable] | None = None,
        decided: np.ndarray | None = None,
    ) -> Scores:
        """Scores of units; with ``groups`` (a session key per unit, units in
        conversation order) each unit is also read in its context, where
        ``decided`` (n x codes: 1/0 a coder's answer, NaN none) stands in
        for decided neighbours' scores (see ``context``)."""
        if not hasattr(self, "featurizer_"):
            raise QualcodeError("the suggester is not prepared; call fit() first")
        docs, unit_langs = prepare(texts, langs)
        index = index_words(docs)
        parts = self.featurizer_.transform(docs, unit_langs, index)
        # similarity and the classifier work on the two parts: stacking the
        # large matrix costs more than multiplying each part
        x = SplitRows(parts, self.featurizer_.lemma_weight)
        prior, (counts, hit_matrix, phrase_hits), (sim, nearest), signals = self._prior(
            x, docs, unit_langs, index
        )
        final = prior
        learned = np.zeros(len(self._codes), dtype=bool)
        if self.classifier_ is not None:
            final = self.classifier_.predict_proba(x, prior, signals)
            learned = np.array([m is not None for m in self.classifier_.models_])
        alone = None
        chain = self.chain()
        if groups is not None and chain is not None:
            from qualcode.suggest.context import context_logits, with_context

            alone = final
            final = with_context(final, context_logits(final, groups, chain, decided))
        return Scores(
            self.code_ids,
            final,
            prior,
            counts,
            hit_matrix,
            docs,
            unit_langs,
            sim,
            nearest,
            learned,
            phrase_hits,
            alone,
        )

    def chain(self) -> ThemeChain | None:
        """How talk moves between themes, as the suggestions read a session
        (None: every unit on its own)."""
        return chain_for(self.options, getattr(self, "context_", None), len(self._codes))

    # -- explaining ------------------------------------------------------------

    def rationale(self, scores: Scores, i: int, c: int) -> str:
        return self._rationales(scores, i, [c])[0]

    def _rationales(self, scores: Scores, i: int, codes: list[int]) -> list[str]:
        """Rationales of one unit's suggested codes; the unit's keyword hits
        are explained once for all of them (only kept suggestions pay)."""
        counts = scores.counts[i]
        totals = {c: int(counts[c]) for c in codes if counts[c]}
        explained: dict[int, list] = {}
        if totals:
            m = scores.hit_matrix
            explained = self.rules.explain_unit(
                m.indices[m.indptr[i] : m.indptr[i + 1]],
                scores.docs[i],
                scores.langs[i],
                totals,
                scores.phrase_hits.get(i, []),
            )
        # plain floats: formatting numpy scalars one by one is slow on a big batch
        sims, nearest = scores.similarity[i].tolist(), scores.nearest[i].tolist()
        prior, final = scores.prior[i].tolist(), scores.score[i].tolist()
        sources = self._sources(scores)
        alone = scores.alone[i].tolist() if scores.alone is not None else final
        return [
            self._why(
                scores,
                i,
                explained.get(c, []),
                sims[c],
                nearest[c],
                sources[c],
                prior[c],
                final[c],
                alone[c],
            )
            for c in codes
        ]

    def _sources(self, scores: Scores) -> list[str]:
        """Per code, what its learned model learned from ("" without one),
        once per batch."""
        cache = scores.__dict__.get("_sources")
        if cache is not None:
            return cache
        out = [""] * len(self._codes)
        if self.classifier_ is not None:
            for c, learned in enumerate(scores.learned.tolist()):
                if not learned:
                    continue
                n = int(self.classifier_.n_positive_[c] + self.classifier_.n_negative_[c])
                bank = min(getattr(self, "n_coded_units_", 0), n)  # older pickles: none
                # n counts units (a unit's yes or no on this code), not decisions
                source = f"{n - bank:,} decided units"
                if bank:
                    source = f"{bank:,} coded units" + (f" + {source}" if n > bank else "")
                out[c] = source
        scores.__dict__["_sources"] = out
        return out

    def _why(
        self,
        scores: Scores,
        i: int,
        hits: list,
        sim: float,
        j: int,
        source: str,
        prior: float,
        final: float,
        alone: float | None = None,
    ) -> str:
        parts = []
        if hits:
            parts.append("matched: " + ", ".join(distinct_hits(hits)[:3]))
        if j >= 0 and sim >= 0.2:
            example = self.similarity_.text(j)
            if _example_tokens(example) == scores.docs[i]:
                # a unit a coder already gave this code (or its twin): quoting
                # it back as its own nearest example explains nothing
                parts.append(f"the same text was coded so before ({sim:.2f})")
            else:
                example = shorten(example, 70)
                parts.append(f"like: “{example}” ({sim:.2f})")
        if alone is None:
            alone = final
        if source:
            parts.append(f"learned from {source}: {prior:.2f} → {alone:.2f}")
        if abs(final - alone) >= 0.01:  # raised by the theme next door, or lowered by another
            parts.append(f"neighbouring turns: {alone:.2f} → {final:.2f}")
        return "; ".join(parts) or "weak similarity only"

    def suggest(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        groups: Sequence[Hashable] | None = None,
        decided: np.ndarray | None = None,
    ) -> list[list[tuple[str, float, str]]]:
        """(code id, score, rationale) of each unit's suggestions, best first
        (see ``score`` for ``groups`` and ``decided``, and
        ``parallel.suggest_in_processes`` for large batches)."""
        scores = self.score(texts, langs, groups, decided)
        return [self.top(scores, i) for i in range(len(texts))]

    def top(self, scores: Scores, i: int) -> list[tuple[str, float, str]]:
        """(code id, score, rationale) of one unit's suggestions, best first."""
        kept = self._kept(scores)[i]
        if not kept:
            return []
        row = scores.score[i]
        whys = self._rationales(scores, i, kept)
        return [(scores.codes[c], float(row[c]), why) for c, why in zip(kept, whys, strict=True)]

    def _kept(self, scores: Scores) -> list[list[int]]:
        """Per unit, the codes kept as suggestions, best first: selected for
        the whole batch at once (cached on ``scores``) rather than per unit."""
        cache = scores.__dict__.get("_kept")
        if cache is not None:
            return cache
        o = self.options
        order = np.argsort(-scores.score, axis=1, kind="stable")[:, : max(o.max_suggestions, 0)]
        ok = np.take_along_axis(scores.score, order, axis=1) >= o.min_score
        # scores are sorted, so the kept codes are a prefix of each row
        lengths = ok.sum(axis=1).tolist()
        cache = [row[:n] for row, n in zip(order.tolist(), lengths, strict=True)]
        scores.__dict__["_kept"] = cache
        return cache
