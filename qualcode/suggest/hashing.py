"""Hashed features of words: character n-grams and whole words, in numpy.

The suggester's text features are counts of hashed character n-grams within
words (``char_wb``: each word padded with a space either side) and of hashed
lemmas, computed once per distinct word of a batch. scikit-learn's
``HashingVectorizer`` builds each n-gram as a Python string before hashing
it: about 25 microseconds a word, most of the featurizing time of a training
run (15,000 distinct words in the emessi codebook's coded units). Here all
the words' UTF-8 bytes sit in one array, every n-gram is a slice of it, and
the slices of one length are hashed together with MurmurHash3 in integer
arithmetic: the same hash, seed and column scikit-learn computes
(``HashingVectorizer(alternate_sign=False)``), so the features, and every
model fitted on them, are exactly those scikit-learn would give (a test
compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

_C1 = np.uint32(0xCC9E2D51)
_C2 = np.uint32(0x1B873593)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _fmix(h: np.ndarray) -> np.ndarray:
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def murmur3_32(data: np.ndarray) -> np.ndarray:
    """MurmurHash3 (x86, 32-bit, seed 0) of each row of ``data`` (rows x
    length, uint8: byte strings of one length), as signed 32-bit integers."""
    n, length = data.shape
    h = np.zeros(n, dtype=np.uint32)
    words = data[:, : length - length % 4].astype(np.uint32)
    for b in range(0, words.shape[1], 4):
        k = (
            words[:, b]
            | (words[:, b + 1] << np.uint32(8))
            | (words[:, b + 2] << np.uint32(16))
            | (words[:, b + 3] << np.uint32(24))
        )
        k = _rotl(k * _C1, 15) * _C2
        h = _rotl(h ^ k, 13) * np.uint32(5) + np.uint32(0xE6546B64)
    tail = data[:, length - length % 4 :].astype(np.uint32)
    if tail.shape[1]:
        k = np.zeros(n, dtype=np.uint32)
        for j in range(tail.shape[1] - 1, -1, -1):
            k ^= tail[:, j] << np.uint32(8 * j)
        h ^= _rotl(k * _C1, 15) * _C2
    h ^= np.uint32(length)
    return _fmix(h).view(np.int32)


def _columns(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """scikit-learn's column of a signed 32-bit hash: abs(h) mod n_features."""
    return np.abs(hashes.astype(np.int64)) % n_features


def hash_features(
    strings: Sequence[str], n_features: int, ngram_range: tuple[int, int] | None = None
) -> Any:
    """Sparse (strings x n_features) float32 counts, as scikit-learn's
    ``HashingVectorizer(alternate_sign=False, norm=None)`` gives them: of
    each string's character n-grams within the string padded with a space
    either side (``analyzer="char_wb"``; a string no longer than n counts
    once as a whole), or of the whole string when ``ngram_range`` is None."""
    from scipy import sparse

    if ngram_range is None:
        texts, sizes = list(strings), None
    else:
        # an empty string has no n-grams (scikit-learn splits on spaces)
        texts = [f" {s} " if s else "" for s in strings]
        sizes = range(ngram_range[0], ngram_range[1] + 1)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    data = np.frombuffer(joined.encode("utf-8"), dtype=np.uint8)
    # where each character's UTF-8 bytes start (one past the end last)
    width = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    byte_at = np.zeros(len(points) + 1, dtype=np.int64)
    np.cumsum(width, out=byte_at[1:])
    first = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    starts, ends, rows = [], [], []
    if sizes is None:
        keep = np.flatnonzero(lengths > 0)
        starts.append(first[keep])
        ends.append(first[keep] + lengths[keep])
        rows.append(keep)
    else:
        done = lengths == 0
        for n in sizes:
            # a string no longer than n: once, whole, and no larger n-grams
            whole = ~done & (lengths <= n)
            grams = ~done & ~whole
            count = np.where(grams, lengths - n + 1, 0)
            own = np.repeat(np.arange(len(texts)), count)
            offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
            at = first[own] + offset
            starts += [at, first[whole]]
            ends += [at + n, first[whole] + lengths[whole]]
            rows += [own, np.flatnonzero(whole)]
            done |= whole
    begin = byte_at[np.concatenate(starts)]
    size = byte_at[np.concatenate(ends)] - begin
    row = np.concatenate(rows)
    cols = np.empty(len(begin), dtype=np.int64)
    for length in np.unique(size).tolist():
        which = np.flatnonzero(size == length)
        chunk = data[begin[which, None] + np.arange(length)[None, :]]
        cols[which] = _columns(murmur3_32(chunk), n_features)
    m = sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float32), (row, cols)), shape=(len(texts), n_features)
    )
    m.sum_duplicates()
    return m
