"""Conversation context: a turn is read with the turns around it.

A group session stays on a theme for several turns: the facilitator asks
about volunteers, and the next few answers are about volunteers even when
they never say so ("Same here, it's always the same three people."). Human
coders read a turn in its place in the conversation; scored one by one, such
turns are missed. That was most of what the suggestions missed on talk that
avoids topic words (recall, not precision, was the weakness).

So after each unit is scored on its own, a code that is likely on the turns
just before and after a unit (in the same session) raises that unit's score
for the code. Only a neighbour's evidence counts, never its absence: a code
that is unlikely next door does not lower a unit that clearly has it.
Optionally (``context_cross``), evidence next door for *another* code lowers
a code a little: with a few broad themes, a vague turn among turns about
funding is more likely about funding than about volunteers. That gained
about a point on the emessi sets but lost 1-3 points on a real study of
22 fine codes, whose neighbouring highlights often carry different codes,
so it is off unless a project turns it on. A neighbour a coder has decided
counts with the coder's answer instead of its score. The added log-odds are
kept so the rationale can say how much the neighbouring turns contributed.

The weights (``SuggestOptions.context_*``) were chosen on leave-one-set-out
scores of the development sets (docs/benchmarks.md); 0 turns context off.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from qualcode.suggest.classifier import logit

if TYPE_CHECKING:
    from qualcode.suggest.options import SuggestOptions

# a decided neighbour: as sure as a very confident suggestion, either way
DECIDED_YES = float(logit(np.array([0.95]))[0])
DECIDED_NO = float(logit(np.array([0.02]))[0])


def group_ids(groups: Sequence[Hashable]) -> np.ndarray:
    """Consecutive units with the same key form one run (a session in order)."""
    out = np.zeros(len(groups), dtype=np.int64)
    run = 0
    for i in range(1, len(groups)):
        if groups[i] != groups[i - 1]:
            run += 1
        out[i] = run
    return out


def context_logits(
    score: np.ndarray,
    groups: Sequence[Hashable],
    options: SuggestOptions,
    decided: np.ndarray | None = None,
) -> np.ndarray:
    """Log-odds each (unit, code) gains from its neighbours (n x codes).

    score: the units' own scores (n x codes), rows in conversation order.
    groups: a session key per row; rows of different sessions are never
        neighbours.
    decided: 1 where a coder gave the code, 0 where one decided against it,
        NaN where nobody decided (n x codes); None: no decisions.
    """
    n = score.shape[0]
    added = np.zeros(score.shape, dtype=np.float64)
    if n < 2:
        return added
    z = logit(score.astype(np.float64))
    if decided is not None:
        z = np.where(np.isnan(decided), z, np.where(decided > 0, DECIDED_YES, DECIDED_NO))
    evidence = np.maximum(z + options.context_shift, 0.0)
    runs = group_ids(groups)
    weights = {
        -1: options.context_previous,
        1: options.context_next,
        -2: options.context_previous * options.context_far,
        2: options.context_next * options.context_far,
    }
    net = evidence
    if options.context_cross:  # off by default: no pass over the scores then
        others = evidence.sum(axis=1, keepdims=True) - evidence
        net = evidence - options.context_cross * others
    for offset, weight in weights.items():
        k = abs(offset)
        if weight == 0 or k >= n:
            continue
        same = (runs[k:] == runs[:-k])[:, None]
        if offset < 0:  # the turn k before: row i gets row i - k
            added[k:] += weight * net[:-k] * same
        else:
            added[:-k] += weight * net[k:] * same
    return added


def with_context(score: np.ndarray, added: np.ndarray) -> np.ndarray:
    """Scores after adding the neighbours' log-odds."""
    z = logit(score.astype(np.float64)) + added
    return (1.0 / (1.0 + np.exp(-z))).astype(score.dtype)
