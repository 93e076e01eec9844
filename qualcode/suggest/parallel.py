"""Running the costly steps of suggesting on more than one core.

scipy's sparse products and numpy release the GIL, so plain threads use a
multi-core machine without pickling matrices to processes. (liblinear does
too, but its random generator is shared between threads: the decision
models are fitted in forked processes instead, see ``classifier``.)
Two threads are enough: the measured machines have two cores, and more
threads only add memory for the per-chunk results.

Tokenizing, keyword lookup and writing rationales are Python and hold the
GIL: a large batch of units is split between this process and forked
workers instead (they inherit the fitted suggester without pickling it, and
send back only the suggestions; this process scores the first part itself
rather than wait, which made 100,000 units about a second faster).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

    from qualcode.suggest.engine import Suggester

_Item = TypeVar("_Item")


def default_threads() -> int:
    """Up to 2, by the machine's core count."""
    return min(2, os.cpu_count() or 1)


def run_all(work: Callable[[_Item], object], items: Iterable[_Item], threads: int) -> None:
    """``work(item)`` for every item, on up to ``threads`` threads; each call
    must write only its own part of any shared result."""
    items = list(items)
    threads = min(threads, len(items))
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, items))
    else:
        for item in items:
            work(item)


@contextmanager
def forking() -> Iterator[None]:
    """Around forking workers: the objects alive now are left out of garbage
    collection until the block ends, so a worker's collections do not touch
    (and copy) every page it inherited (100,000 units: about 0.6-1 s less)."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# batches smaller than this are suggested in this process: starting workers
# costs more than it saves
MIN_UNITS_PER_PROCESS = 5_000
_worker: Any = None


def _set_threads(suggester: Suggester, threads: int | dict[str, int]) -> dict[str, int]:
    """Set the threads of the suggester's similarity parts (one number for
    all, or per part as this returned before); returns what they were."""
    before = {}
    for part in ("similarity_", "vocabulary_"):
        if hasattr(suggester, part):
            scorer = getattr(suggester, part)
            before[part] = scorer.threads
            scorer.threads = threads if isinstance(threads, int) else threads[part]
    return before


def _start_worker(suggester: Suggester) -> None:
    global _worker
    _worker = suggester
    _set_threads(suggester, 1)  # one core per worker already


def _suggest_part(part: tuple) -> list:
    from qualcode.suggest.text import save_lemmas

    out = _worker.suggest(*part)
    save_lemmas()  # a forked worker ends without atexit: keep the words it looked up
    return out


def _split_points(n: int, procs: int, groups: Sequence[Hashable] | None) -> list[int]:
    """Where to cut a batch into ``procs`` parts: never inside a session,
    so each unit is still read with its neighbours."""
    step = -(-n // procs)
    cuts = [0]
    for lo in range(step, n, step):
        if groups is not None:
            while lo < n and groups[lo] == groups[lo - 1]:
                lo += 1
        if cuts[-1] < lo < n:
            cuts.append(lo)
    return cuts + [n]


def suggest_in_processes(
    suggester: Suggester,
    texts: Sequence[str],
    langs: Sequence[str | None],
    processes: int | None = None,
    groups: Sequence[Hashable] | None = None,
    decided: np.ndarray | None = None,
) -> list[list[tuple[str, float, str]]]:
    """``suggester.suggest(texts, langs, groups, decided)``, split between
    forked processes when the batch is large enough and the platform forks
    (Linux)."""
    import multiprocessing

    procs = min(
        default_threads() if processes is None else processes, len(texts) // MIN_UNITS_PER_PROCESS
    )
    if procs < 2 or not sys.platform.startswith("linux"):
        return suggester.suggest(texts, langs, groups, decided)
    cuts = _split_points(len(texts), procs, groups)
    parts = [
        (
            list(texts[lo:hi]),
            list(langs[lo:hi]),
            None if groups is None else list(groups[lo:hi]),
            None if decided is None else decided[lo:hi],
        )
        for lo, hi in zip(cuts, cuts[1:], strict=False)
    ]
    ctx = multiprocessing.get_context("fork")
    # this process takes the first part itself rather than wait idle: one
    # fork and one batch of results fewer to send back
    with (
        forking(),
        ctx.Pool(len(parts) - 1, initializer=_start_worker, initargs=(suggester,)) as pool,
    ):
        others = pool.map_async(_suggest_part, parts[1:], chunksize=1)
        before = _set_threads(suggester, 1)
        try:
            first = suggester.suggest(*parts[0])
        finally:
            _set_threads(suggester, before)
        done = [first, *others.get()]
    return [row for part in done for row in part]
