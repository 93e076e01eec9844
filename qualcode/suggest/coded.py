"""A codebook's coded units, as the suggester learns from them.

A codebook can ship the units it was developed on (``coded_units:``, a CSV
in ``qualcode evaluate``'s shape). They are read once per version of the
file and taught to the suggester as if a coder had decided them: their
labels train the decision models, and their order within each session
teaches how long talk stays on a theme (``context``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class CodedUnits:
    """A codebook's coded units, read once per file version."""

    texts: list[str]
    langs: list[str | None]
    y: np.ndarray  # units x leaf codes, 1 where the unit has the code
    digest: str
    # (run of a session, index in it) per unit where the file has a session
    # column: how talk moves between themes is learned from neighbouring units
    positions: list[tuple[Hashable, int] | None] = field(default_factory=list)

    @cached_property
    def prepared(self) -> tuple[list[list[str]], list[str]]:
        """Tokens and language per unit, computed on first use (shared:
        callers must not change them)."""
        from qualcode.suggest.text import prepare

        return prepare(self.texts, self.langs)


@lru_cache(maxsize=4)
def load_coded_units(
    path: Path, mtime_ns: int, leaves: tuple[str, ...], parents: tuple[str, ...]
) -> CodedUnits:
    """The rows as the suggester learns from them (``mtime_ns``: a new
    version of the file is read again)."""
    from qualcode.gold import read_coded_units

    rows = read_coded_units(path, leaves, parents)
    y = np.array([[c in r.codes for c in leaves] for r in rows], dtype=np.float32)
    y = y.reshape(len(rows), len(leaves))
    # what the model depends on: a change to another column needs no refit
    learned = [[r.text, r.codes, r.lang, r.session] for r in rows]
    digest = hashlib.sha256(json.dumps(learned).encode()).hexdigest()[:16]
    return CodedUnits([r.text for r in rows], [r.lang for r in rows], y, digest, positions(rows))


def within(source: str, position: tuple[Hashable, int] | None) -> tuple[Hashable, int] | None:
    """A position made distinct from other sources' (their sessions never meet)."""
    return None if position is None else ((source, position[0]), position[1])


def positions(rows: Sequence[Any]) -> list[tuple[Hashable, int] | None]:
    """(run, index within it) of rows in conversation order: a run is a
    session's rows next to each other in the file (rows of one session
    elsewhere in the file are not their neighbours); None for rows without
    a session."""
    out: list[tuple[Hashable, int] | None] = []
    run, index, prev = 0, 0, None
    for r in rows:
        if not r.session:
            out.append(None)
            prev = None
            continue
        if r.session == prev:
            index += 1
        else:
            run, index, prev = run + 1, 0, r.session
        out.append(((run, r.session), index))
    return out
