"""Running the costly numeric steps of suggesting on more than one core.

scipy's sparse products, numpy and liblinear release the GIL, so plain
threads use a multi-core machine without pickling matrices to processes.
Two threads are enough: the measured machines have two cores, and more
threads only add memory for the per-chunk results.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TypeVar

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
