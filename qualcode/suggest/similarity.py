"""Signal 2: how much a unit reads like a code's examples and accepted units.

Keywords miss paraphrases; examples written by the researchers and units the
coders accepted catch them. Similarity is cosine on TF-IDF character n-grams
within words (``char_wb``), which tolerates Finnish inflection and typos in
transcripts without any language resources, plus lemma unigrams.

Speed: a project has few distinct words and very many units, and ``char_wb``
n-grams never cross a word boundary, so a unit's n-gram counts are the sum of
its words' counts. The n-grams of each distinct word in a batch are computed
once (hashed, so there is no vocabulary to keep in sync) and units become one
sparse product: (units x words) @ (words x n-grams).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qualcode.suggest.hashing import hash_features
from qualcode.suggest.parallel import default_threads, run_all
from qualcode.suggest.text import lemma


def index_words(docs: Sequence[Sequence[str]]) -> tuple[Any, list[str]]:
    """Sparse (docs x distinct words) count matrix and the words."""
    from itertools import chain

    from scipy import sparse

    lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
    flat = list(chain.from_iterable(docs))
    # dict.fromkeys and map(dict.__getitem__) run in C: this is the hot loop
    # of scoring a large batch (one step per word of every unit)
    vocab = {w: i for i, w in enumerate(dict.fromkeys(flat))}
    indices = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int32, count=len(flat))
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.ones(len(flat), dtype=np.float32)
    m = sparse.csr_matrix((data, indices, indptr), shape=(len(docs), max(len(vocab), 1)))
    m.sum_duplicates()
    return m, list(vocab)


class TextFeaturizer:
    """TF-IDF of hashed character n-grams and lemmas (scikit-learn style).

    ngram_range: character n-gram sizes within words.
    n_features: hashing space per part (character, lemma).
    lemma_weight: weight of the lemma part against the character part.
    """

    def __init__(
        self,
        ngram_range: tuple[int, int] = (3, 5),
        n_features: int = 2**18,
        lemma_weight: float = 0.5,
    ) -> None:
        self.ngram_range = ngram_range
        self.n_features = n_features
        self.lemma_weight = lemma_weight

    def _counts(
        self,
        docs: Sequence[list[str]],
        langs: Sequence[str],
        index: tuple[Any, list[str]] | None = None,
    ) -> tuple[Any, Any]:
        from scipy import sparse

        units, words = index if index is not None else index_words(docs)
        if not words:
            words = [""]
        grams = hash_features(words, self.n_features, self.ngram_range)
        # the character product releases the GIL: it runs beside the lemma part
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(1)
        chars_future = pool.submit(lambda: units @ grams)
        # a word's lemma depends on the unit's language: one word->lemma map per language
        lang_arr = np.asarray(langs)
        parts, order = [], []
        for lang in sorted(set(langs)):
            rows = np.flatnonzero(lang_arr == lang)
            to_lemma = hash_features([lemma(w, lang) for w in words], self.n_features)
            parts.append(units[rows] @ to_lemma if len(rows) < len(langs) else units @ to_lemma)
            order.append(rows)
        if len(parts) == 1:
            lems = parts[0]
        elif not parts:
            lems = sparse.csr_matrix((len(docs), self.n_features), dtype=np.float32)
        else:
            stacked = sparse.vstack(parts, format="csr")
            inverse = np.empty(len(docs), dtype=np.int64)
            inverse[np.concatenate(order)] = np.arange(len(docs))
            lems = stacked[inverse]
        chars = chars_future.result()
        pool.shutdown()
        return chars, lems

    def fit(self, docs: Sequence[list[str]], langs: Sequence[str]) -> TextFeaturizer:
        self._fit_counts(*self._counts(docs, langs))
        return self

    def fit_transform(self, docs: Sequence[list[str]], langs: Sequence[str]) -> tuple[Any, Any]:
        """``fit`` then ``transform`` of the same docs, counting their
        n-grams once (training counts every coded unit's words: the second
        pass was a tenth of the training time)."""
        counts = self._counts(docs, langs)
        self._fit_counts(*counts)
        return self._weigh(*counts)

    def _fit_counts(self, chars: Any, lems: Any) -> None:
        n = max(chars.shape[0], 1)
        self.idf_char_ = self._idf(chars, n)
        self.idf_lemma_ = self._idf(lems, n)

    @staticmethod
    def _idf(m: Any, n: int) -> np.ndarray:
        df = np.bincount(m.indices, minlength=m.shape[1]).astype(np.float32)
        return (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)

    def transform(
        self,
        docs: Sequence[list[str]],
        langs: Sequence[str],
        index: tuple[Any, list[str]] | None = None,
    ) -> tuple[Any, Any]:
        """(character part, lemma part), each row L2-normalized. ``index``:
        the docs' (units x words) matrix and words, when already computed."""
        from scipy import sparse

        if not len(docs):
            empty = sparse.csr_matrix((0, self.n_features), dtype=np.float32)
            return empty, empty.copy()
        return self._weigh(*self._counts(docs, langs, index))

    def _weigh(self, chars: Any, lems: Any) -> tuple[Any, Any]:
        """Counts to sublinear tf x idf, each row L2-normalized."""
        from sklearn.preprocessing import normalize

        out = []
        for m, idf in ((chars, self.idf_char_), (lems, self.idf_lemma_)):
            m = m.tocsr()
            m.data = np.log1p(m.data) * idf[m.indices]
            out.append(normalize(m, copy=False))
        return out[0], out[1]

    def combined(self, parts: tuple[Any, Any]) -> Any:
        """One matrix for the classifier and for similarity, rows L2-normalized
        (``parts`` as ``transform`` returns them)."""
        from scipy import sparse

        if not parts[0].shape[0]:
            return sparse.hstack(parts, format="csr")
        return SplitRows(parts, self.lemma_weight).stacked()


def row_scale(parts: tuple[Any, Any], lemma_weight: float) -> np.ndarray:
    """Per row, what normalizes [chars, lemma_weight * lems] to unit length.
    Both parts come L2-normalized (or empty), so the row norm is known
    without another pass over the data."""
    chars, lems = parts
    has_c = (np.diff(chars.indptr) > 0).astype(np.float32)
    has_l = (np.diff(lems.indptr) > 0).astype(np.float32)
    norm = np.sqrt(has_c + has_l * lemma_weight**2)
    return np.divide(1.0, norm, out=np.zeros_like(norm), where=norm > 0)


class SplitRows:
    """The rows ``TextFeaturizer.combined`` would build, kept as their two
    parts: multiplying each part by the examples and adding the small dense
    results is cheaper than stacking the large matrix (millions of n-grams
    for a big batch). Similarity needs nothing else.

    parts: (character part, lemma part) as ``transform`` returns them.
    lemma_weight: the featurizer's weight of the lemma part.
    """

    def __init__(self, parts: tuple[Any, Any], lemma_weight: float, scale: Any = None) -> None:
        self.chars, self.lems = parts
        self.lemma_weight = lemma_weight
        self.scale = row_scale(parts, lemma_weight) if scale is None else scale
        self.shape = (self.chars.shape[0], self.chars.shape[1] + self.lems.shape[1])

    def take(self, index: np.ndarray) -> SplitRows:
        part = (self.chars[index], self.lems[index])
        return SplitRows(part, self.lemma_weight, self.scale[index])

    def rows(self, lo: int, hi: int) -> SplitRows:
        part = (self.chars[lo:hi], self.lems[lo:hi])
        return SplitRows(part, self.lemma_weight, self.scale[lo:hi])

    def dot_dense(self, transposed: Any) -> np.ndarray:
        """Dense ``rows @ transposed`` (transposed: combined features x k,
        sparse or dense, or a ``DenseExamples``)."""
        if isinstance(transposed, DenseExamples):
            out = transposed.chars.times(self.chars)
            out += self.lemma_weight * transposed.lems.times(self.lems)
        else:
            n_char = self.chars.shape[1]
            out = _dense(self.chars @ transposed[:n_char])
            out += self.lemma_weight * _dense(self.lems @ transposed[n_char:])
        out *= self.scale[:, None]
        return out

    def stacked(self) -> Any:
        """The combined matrix itself, for a consumer that needs it."""
        from scipy import sparse

        both = sparse.hstack([self.chars, self.lems * self.lemma_weight], format="csr")
        both.data *= np.repeat(self.scale, np.diff(both.indptr))
        return both


class _UsedFeatures:
    """One part (features x k) of the examples, dense over the features at
    least one example has; a unit's other features add nothing to the product."""

    def __init__(self, part: Any) -> None:
        part = part.tocsr()
        used = np.flatnonzero(np.diff(part.indptr) > 0)
        self.remap = np.full(part.shape[0], -1, dtype=np.int64)
        self.remap[used] = np.arange(len(used))
        self.block = np.ascontiguousarray(part[used].toarray(), dtype=np.float32)

    def times(self, rows: Any) -> np.ndarray:
        """Dense ``rows @ part`` for CSR ``rows`` over all features."""
        from scipy import sparse

        rows = rows.tocsr()
        new = self.remap[rows.indices]
        keep = new >= 0
        kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
        np.cumsum(keep, out=kept_before[1:])
        narrow = sparse.csr_matrix(
            (rows.data[keep], new[keep], kept_before[rows.indptr]),
            shape=(rows.shape[0], self.block.shape[0]),
        )
        return np.asarray(narrow @ self.block)


class DenseExamples:
    """The examples' side of a similarity product as dense blocks.

    The product of units and examples is nearly dense (every text shares
    common n-grams with every example), so multiplying the units' sparse rows
    by a dense block gives the same sums with 19 % less CPU than a sparse
    product that builds a sparse result.

    transposed: combined features x examples, as ``ExampleSimilarity`` keeps it.
    n_char: features in the character part (the rest are lemmas).
    """

    # above this the sparse product is used (many codes and examples)
    MAX_BYTES = 128 * 2**20

    def __init__(self, transposed: Any, n_char: int) -> None:
        self.chars = _UsedFeatures(transposed[:n_char])
        self.lems = _UsedFeatures(transposed[n_char:])

    @staticmethod
    def fits(transposed: Any) -> bool:
        """Whether the dense blocks stay under ``MAX_BYTES``."""
        rows = np.diff(transposed.indptr) > 0
        return int(rows.sum()) * transposed.shape[1] * 4 <= DenseExamples.MAX_BYTES


def _dense(m: Any) -> np.ndarray:
    return m.toarray() if hasattr(m, "toarray") else np.asarray(m)


class ExampleSimilarity:
    """Nearest example per code by cosine similarity (scikit-learn style).

    chunk: rows scored at once (bounds memory on large batches).
    threads: chunks scored in parallel (default: up to 2 per available core
        count, as the product releases the GIL).
    """

    def __init__(self, chunk: int = 4096, threads: int | None = None) -> None:
        self.chunk = chunk
        self.threads = threads if threads is not None else default_threads()

    def fit(
        self,
        matrix: Any,
        codes: Sequence[int],
        texts: Sequence[str],
        n_codes: int,
        langs: Sequence[str] | None = None,
    ) -> ExampleSimilarity:
        """matrix: featurized examples (one row each); codes: the code index
        of each row; texts: shown in the rationale; langs: each example's
        language, when units are to be compared with their own language's
        examples only."""
        order = np.argsort(np.asarray(codes, dtype=np.int64), kind="stable")
        self.order_ = order  # exclude[] refers to rows in the order given
        self.matrix_ = matrix.tocsr()[order]
        self.codes_ = np.asarray(codes, dtype=np.int64)[order]
        self.texts_ = [texts[i] for i in order]
        self.n_codes_ = n_codes
        # examples x features, transposed once (csr @ csr is the fast product)
        self.transposed_ = self.matrix_.T.tocsr()
        self.bounds_ = np.searchsorted(self.codes_, np.arange(n_codes + 1))
        # A Finnish unit's nearest example is a Finnish one (character n-grams
        # of another language only add noise), so a bilingual codebook keeps
        # one index per language and a unit is multiplied by half the
        # examples: the costliest step of scoring halves.
        self.by_lang_: dict[str, tuple[ExampleSimilarity, np.ndarray]] = {}
        if langs is not None:
            sorted_langs = np.asarray([str(x) for x in langs], dtype=object)[order]
            if len(set(sorted_langs)) > 1:
                for lang in sorted(set(sorted_langs)):
                    rows = np.flatnonzero(sorted_langs == lang)
                    self.by_lang_[lang] = (self._child(rows), rows)
        return self

    def score(
        self,
        x: Any,
        exclude: Sequence[Sequence[int]] | None = None,
        langs: Sequence[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(best similarity, index of the nearest example) per (unit, code);
        index -1 where a code has no example. ``exclude[i]``: example rows unit
        i must not be compared with (itself, when it is an accepted unit).
        ``langs``: the units' languages (a unit in a language the examples
        lack is compared with all of them)."""
        by_lang = getattr(self, "by_lang_", {})  # older pickles: one index
        if langs is None or not by_lang:
            return self._score(x, exclude)
        n = x.shape[0]
        best = np.zeros((n, self.n_codes_), dtype=np.float32)
        nearest = np.full((n, self.n_codes_), -1, dtype=np.int64)
        lang_arr = np.asarray([str(x) for x in langs], dtype=object)
        position = np.empty(len(self.codes_), dtype=np.int64)
        position[self.order_] = np.arange(len(self.codes_))
        for lang in sorted(set(lang_arr)):
            units = np.flatnonzero(lang_arr == lang)
            unit_list = units.tolist()
            part = x.take(units) if isinstance(x, SplitRows) else x[units]
            found = by_lang.get(lang)
            if found is None:
                mine = None if exclude is None else [exclude[i] for i in unit_list]
                b, near = self._score(part, mine)
            else:
                child, rows = found
                child.threads = getattr(self, "threads", 1)  # a worker process sets 1
                own = None
                if exclude is not None:
                    # example rows (in the order given) -> the child's rows
                    inside = np.full(len(self.codes_), -1, dtype=np.int64)
                    inside[rows] = np.arange(len(rows))
                    own = [
                        [k for k in (int(inside[position[j]]) for j in exclude[i]) if k >= 0]
                        for i in unit_list
                    ]
                b, near = child._score(part, own)
                near = np.where(near >= 0, rows[np.maximum(near, 0)], -1)
            best[units], nearest[units] = b, near
        return best, nearest

    def _score(
        self, x: Any, exclude: Sequence[Sequence[int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[0]
        best = np.zeros((n, self.n_codes_), dtype=np.float32)
        nearest = np.full((n, self.n_codes_), -1, dtype=np.int64)
        if self.matrix_.shape[0] == 0:
            return best, nearest
        position = np.empty(len(self.codes_), dtype=np.int64)
        if exclude is not None:
            position[self.order_] = np.arange(len(self.codes_))
        examples = self.transposed_
        if isinstance(x, SplitRows):
            examples = self._dense_examples(x.chars.shape[1])

        def chunk(lo: int) -> None:
            # writes only its own rows of best/nearest: safe to run in threads
            if isinstance(x, SplitRows):
                sims = x.rows(lo, lo + self.chunk).dot_dense(examples)
            else:
                sims = (x[lo : lo + self.chunk] @ self.transposed_).toarray()
            if exclude is not None:
                for r in range(len(sims)):
                    for j in exclude[lo + r]:
                        sims[r, position[j]] = -1.0
            rows = np.arange(len(sims))
            for c in range(self.n_codes_):
                a, b = self.bounds_[c], self.bounds_[c + 1]
                if a == b:
                    continue
                arg = sims[:, a:b].argmax(axis=1)
                best[lo : lo + len(sims), c] = sims[rows, a + arg]
                nearest[lo : lo + len(sims), c] = a + arg

        # the costliest step of scoring: chunks run in parallel
        run_all(chunk, range(0, n, self.chunk), getattr(self, "threads", 1))  # older pickles: 1
        return best, nearest

    def _dense_examples(self, n_char: int) -> Any:
        """``DenseExamples`` of the examples, built on first use (not
        pickled: the store keeps the sparse matrix), or the sparse matrix
        itself when the dense blocks would be too large."""
        cached = self.__dict__.get("_dense")
        if cached is None:
            fits = DenseExamples.fits(self.transposed_)
            cached = DenseExamples(self.transposed_, n_char) if fits else self.transposed_
            self.__dict__["_dense"] = cached
        return cached

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_dense", None)
        # the per-language indexes are slices of the matrix: rebuilt on load
        state["by_lang_"] = {lang: rows for lang, (_, rows) in state.get("by_lang_", {}).items()}
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        rows_by_lang = state.get("by_lang_", {})
        self.by_lang_ = {}
        for lang, rows in rows_by_lang.items():
            self.by_lang_[lang] = (self._child(rows), rows)

    def _child(self, rows: np.ndarray) -> ExampleSimilarity:
        """An index of some of the examples (``rows``, in sorted order)."""
        texts = [self.texts_[i] for i in rows]
        child = ExampleSimilarity(self.chunk, getattr(self, "threads", 1))
        return child.fit(self.matrix_[rows], self.codes_[rows], texts, self.n_codes_)

    def text(self, index: int) -> str:
        return self.texts_[index]
