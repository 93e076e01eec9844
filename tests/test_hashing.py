"""Hashed word features: exactly scikit-learn's HashingVectorizer, faster."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from qualcode.suggest.hashing import hash_features, murmur3_32

WORDS = [
    "a",
    "ab",
    "abc",
    "talo",
    "talossa",
    "vapaaehtoisten",
    "äiti",
    "x" * 40,
    "日本語",
    "😀ok",
    "",
]


def _sklearn(analyzer: object, **kw: object) -> HashingVectorizer:
    return HashingVectorizer(
        n_features=2**18, alternate_sign=False, norm=None, dtype=np.float32, analyzer=analyzer, **kw
    )


def test_character_ngrams_are_scikit_learns_char_wb_features() -> None:
    want = _sklearn("char_wb", ngram_range=(3, 5)).transform(WORDS)
    got = hash_features(WORDS, 2**18, (3, 5))
    assert got.shape == want.shape and got.dtype == np.float32
    assert (got != want).nnz == 0 and got.nnz == want.nnz
    # other n-gram sizes too (a model may be fitted with another range)
    want = _sklearn("char_wb", ngram_range=(2, 3)).transform(WORDS)
    assert (hash_features(WORDS, 2**18, (2, 3)) != want).nnz == 0


def test_whole_words_are_one_feature_each_as_scikit_learn_hashes_them() -> None:
    lemmas = ["raha", "rahoitus", "raha", "vapaaehtoinen", "työ"]
    want = _sklearn(lambda s: [s]).transform(lemmas)
    got = hash_features(lemmas, 2**18)
    assert (got != want).nnz == 0 and (np.diff(got.indptr) == 1).all()


def test_murmur3_matches_the_reference_values() -> None:
    from sklearn.utils import murmurhash3_32

    for text in ["", "a", "ab", "abc", "abcd", "abcde", "vapaaehtoisten", "äiti"]:
        raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8).reshape(1, -1)
        assert murmur3_32(raw)[0] == murmurhash3_32(text.encode("utf-8"), seed=0)
