"""Conversation context: a turn is read with the turns around it.

A group session stays on a theme for several turns: the facilitator asks
about volunteers, and the next few answers are about volunteers even when
they never say so ("Same here, it's always the same three people."). Human
coders read a turn in its place in the conversation; scored one by one, such
turns are missed. That was most of what the suggestions missed on talk that
avoids topic words (recall, not precision, was the weakness).

So each code is read as a theme the talk is on or off, turn by turn (a
two-state hidden Markov chain per code and session): a theme the talk is on
stays on for the next turn with probability ``stay``, and any turn takes it
up at a base rate ``base``. A unit's own score is the evidence for the theme
at that turn; the forward-backward pass then gives each unit the
probability that the talk is on the theme there, from the whole session both
ways. Evidence carries through a run of vague turns ("Did it work?" "Until
they changed staff." "And then?") and fades within a few turns. A unit's
own low score counts against a theme by at most ``floor`` log-odds, so a
short reply with no words of its own is carried by the talk around it. A
neighbour a coder has decided counts with the coder's answer instead of its
score. The log-odds the context adds are kept so the rationale can say how
much the neighbouring turns contributed.

How much talk stays on a theme differs between codebooks: a turn about one
of six broad themes is followed by another on the same theme six times in
ten (the emessi sets), a highlight of one of 22 fine usability codes two
times in ten (a real Taguette study). So ``base`` and ``stay`` are learned
from the labelled units in their sessions (the codebook's coded units and
the coders' decisions): the share of labels that are positive and how often
a code on one unit is on the next, pooled over codes, each drawn towards a
prior (one code per unit; a stay of 0.6) when there are few labels, then
scaled down (``RATE_SCALE``, ``STAY_SCALE``: the evidence is noisy, and a
chain as persistent as the labels carried mistakes too far).

This replaced a fixed window (the two turns either side, each adding its
evidence with a weight) and ``ThemeChain``'s scales were chosen on
leave-one-set-out scores of the development sets together with the
Taguette study's learning curve (docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from qualcode.suggest.classifier import logit

if TYPE_CHECKING:
    from qualcode.suggest.options import SuggestOptions

# a decided neighbour: as sure as a very confident suggestion, either way
DECIDED_YES = float(logit(np.array([0.95]))[0])
DECIDED_NO = float(logit(np.array([0.02]))[0])

# a turn this many turns away changes a unit's odds by less than this factor:
# the pass runs over overlapping windows of a session instead of the whole
# session, so a long session costs no more per unit than a short one
_NEGLIGIBLE = 1e-7
_MIN_BLOCK = 64


def group_ids(groups: Sequence[Hashable]) -> np.ndarray:
    """Consecutive units with the same key form one run (a session in order)."""
    out = np.zeros(len(groups), dtype=np.int64)
    run = 0
    for i in range(1, len(groups)):
        if groups[i] != groups[i - 1]:
            run += 1
        out[i] = run
    return out


# learned rates are scaled by these (see the module docstring)
RATE_SCALE = 0.7
STAY_SCALE = 0.85
# the priors a few labels are drawn towards, and their weight: units' worth
# of labels for the rate, pairs of neighbouring units for the stay. A
# codebook's keywords and examples alone (no labelled sessions) did best on
# the development sets with a stay of 0.6-0.7 (0.35: 2.4 points less), and
# the Taguette study's few decided neighbours at F=0.1 no worse
PRIOR_STAY = 0.6
PRIOR_UNITS = 20
PRIOR_PAIRS = 20


@dataclass(frozen=True)
class ThemeChain:
    """How talk moves between themes in a session, per code.

    base: the chance that a turn takes a theme up, with nothing else known.
    stay: the chance that the next turn stays on a theme the talk is on.
    floor: the most a unit's own low score counts against a theme (log-odds).
    """

    base: float
    stay: float
    floor: float = -3.0

    @property
    def take_up(self) -> float:
        """P(on | off before): so that the base rate is the chain's own."""
        return (1.0 - self.stay) * self.base / (1.0 - self.base)

    def reach(self) -> int:
        """How many turns either side of a unit can change its odds by more
        than a factor of 1e-7: units rescored on their own must be read
        with this many neighbours."""
        fade = self.stay - self.take_up
        if fade <= 0:
            return 1
        return min(max(1, math.ceil(math.log(_NEGLIGIBLE) / math.log(fade))), 2_000)


def fit_chain(
    y: np.ndarray,
    known: np.ndarray,
    positions: Sequence[tuple[Hashable, int] | None],
) -> tuple[float, float, int, int]:
    """(rate, stay, labels, pairs) learned from labelled units: ``y`` and
    ``known`` (units x codes) as the classifier's, ``positions`` a (session,
    index among its codable units) per unit or None where not known. Only
    units next to each other in a session count as pairs."""
    n_codes = y.shape[1] if y.ndim == 2 else 1
    yes = (y > 0) & known
    labels, positive = int(known.sum()), int(yes.sum())
    rate = (positive + PRIOR_UNITS) / (labels + PRIOR_UNITS * n_codes)
    where = {pos: k for k, pos in enumerate(positions) if pos is not None}
    pairs = [(k, where.get((pos[0], pos[1] + 1), -1)) for pos, k in where.items()]
    first = np.array([k for k, j in pairs if j >= 0], dtype=np.int64)
    then = np.array([j for k, j in pairs if j >= 0], dtype=np.int64)
    both = known[first] & known[then] & yes[first]
    on, stayed = int(both.sum()), int((both & yes[then]).sum())
    stay = (stayed + PRIOR_STAY * PRIOR_PAIRS) / (on + PRIOR_PAIRS)
    return rate, stay, labels, on


def chain_for(
    options: SuggestOptions, learned: tuple[float, float] | None, n_codes: int
) -> ThemeChain | None:
    """The chain the suggestions use: the project's settings where set, else
    what was learned (scaled), else the priors; None where context is off."""
    if not options.context:
        return None
    rate, stay = learned if learned is not None else (1.0 / max(n_codes, 1), PRIOR_STAY)
    base = options.context_base if options.context_base is not None else RATE_SCALE * rate
    stay = options.context_stay if options.context_stay is not None else STAY_SCALE * stay
    if not 0.0 < base < stay < 1.0:  # no more likely to stay on a theme than to start one
        return None
    return ThemeChain(base, stay, options.context_floor)


def _windows(runs: np.ndarray, block: int, margin: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The forward-backward pass's windows, as (positions, core) pairs of
    equal-width rows: each row is one block of at most ``block`` units of a
    run with up to ``margin`` units of the same run either side (positions,
    -1 past the window's end), and ``core`` marks the block's own units.
    Rows are grouped by width (powers of two), so many one-turn sessions do
    not each pay for the width of a long one."""
    n = len(runs)
    starts = np.flatnonzero(np.r_[True, runs[1:] != runs[:-1]])
    ends = np.r_[starts[1:], n]
    firsts = np.concatenate([np.arange(s, e, block) for s, e in zip(starts, ends, strict=True)])
    run_of = np.searchsorted(starts, firsts, side="right") - 1
    lasts = np.minimum(firsts + block, ends[run_of])
    lo = np.maximum(firsts - margin, starts[run_of])
    hi = np.minimum(lasts + margin, ends[run_of])
    widths = 1 << np.ceil(np.log2(hi - lo)).astype(np.int64)
    out = []
    for width in np.unique(widths):
        rows = np.flatnonzero(widths == width)
        pos = lo[rows, None] + np.arange(width)[None, :]
        core = (pos >= firsts[rows, None]) & (pos < lasts[rows, None])
        out.append((np.where(pos < hi[rows, None], pos, -1), core))
    return out


def _forward_backward(
    lr: np.ndarray, stay: float, take_up: float, base: float
) -> tuple[np.ndarray, np.ndarray]:
    """For windows of evidence ``lr`` (rows x turns x codes): P(on at t |
    the turns before t) and P(turns after t | on) / P(turns after t | off)."""
    length = lr.shape[1]
    before = np.empty(lr.shape)
    p = np.full(lr.shape[::2], base)
    for t in range(length):
        before[:, t] = p
        odds_on = p * lr[:, t]
        filtered = odds_on / (odds_on + (1.0 - p))
        p = filtered * stay + (1.0 - filtered) * take_up
    after = np.empty(lr.shape)
    r = np.ones(lr.shape[::2])
    for t in range(length - 1, -1, -1):
        after[:, t] = r
        u = lr[:, t] * r
        r = (stay * u + (1.0 - stay)) / (take_up * u + (1.0 - take_up))
    return before, after


def context_logits(
    score: np.ndarray,
    groups: Sequence[Hashable],
    chain: ThemeChain | None,
    decided: np.ndarray | None = None,
) -> np.ndarray:
    """Log-odds each (unit, code) gains or loses from being read in its
    session (n x codes): the theme's probability at that turn given the whole
    session, minus the unit's own score, both as log-odds.

    score: the units' own scores (n x codes), rows in conversation order.
    groups: a session key per row; rows of different sessions are never
        neighbours.
    chain: how the talk moves between themes (None: no context).
    decided: 1 where a coder gave the code, 0 where one decided against it,
        NaN where nobody decided (n x codes); None: no decisions.
    """
    n = score.shape[0]
    added = np.zeros(score.shape, dtype=np.float64)
    if n == 0 or chain is None:
        return added
    stay, base, floor, take_up = chain.stay, chain.base, chain.floor, chain.take_up
    base_logit = np.log(base / (1.0 - base))
    own = logit(score.astype(np.float64))
    z = own
    if decided is not None:
        z = np.where(np.isnan(decided), own, np.where(decided > 0, DECIDED_YES, DECIDED_NO))
    ratio = np.exp(np.maximum(z - base_logit, floor))  # evidence: likelihood ratio on/off
    margin = chain.reach()
    # a window (block and margins) as wide as a power of two: no padding
    block = (1 << math.ceil(math.log2(2 * margin + _MIN_BLOCK))) - 2 * margin
    for pos, core in _windows(group_ids(groups), block, margin):
        # outside a run: no evidence either way, which leaves the chain at
        # its base rate exactly as at the start (and end) of a session
        lr = np.where(pos[..., None] >= 0, ratio[np.maximum(pos, 0)], 1.0)
        before, after = _forward_backward(lr, stay, take_up, base)
        idx = pos[core]
        prior = before[core]
        # the unit's own evidence is its score even where a coder decided it
        own_evidence = np.maximum(own[idx] - base_logit, floor)
        posterior = np.log(prior / (1.0 - prior)) + np.log(after[core]) + own_evidence
        added[idx] = posterior - own[idx]
    return added


def with_context(score: np.ndarray, added: np.ndarray) -> np.ndarray:
    """Scores after adding the log-odds of the context."""
    z = logit(score.astype(np.float64)) + added
    return (1.0 / (1.0 + np.exp(-z))).astype(score.dtype)
