"""Coder agreement: can the coding be trusted, and where do coders differ?

Two (or more) coders code the same sessions independently; before the theme
counts are reported, their agreement is measured and the disagreements go to
a reconciliation meeting. The same figures for the model's suggestions
against a coder say how far the suggestions can be trusted.

Data: the units *every* compared coder has coded (any decision on the unit,
or a finished review). On those, each coder either applied a code (accepted
or added) or did not: one yes/no rating per (unit, code, coder).

Per code: percent agreement (units where all coders gave the same rating),
Cohen's kappa (two coders only) and Krippendorff's alpha (nominal, any
number of coders; computed here from the coincidence matrix). Codes no
coder applied on the shared units are left out (every statistic would be
trivially perfect or undefined). Overall: the same statistics on all
(unit, code) ratings of the listed codes pooled. A statistic is None where
it is undefined (no variation: expected disagreement is zero).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualcode.errors import QualcodeError

MODEL = "model"


@dataclass
class CodeAgreement:
    code_id: str
    label: str
    units: int  # shared units rated
    applied: dict[str, int]  # coder -> units they applied the code to
    percent: float  # 0..100
    kappa: float | None
    alpha: float | None


@dataclass
class Disagreement:
    segment_id: int
    session: str
    seq: int
    speaker: str | None
    text: str
    code_id: str
    applied_by: list[str]
    not_applied_by: list[str]


@dataclass
class Agreement:
    coders: list[str]
    units: int  # units every coder coded
    codes: list[CodeAgreement]
    percent: float | None
    kappa: float | None
    alpha: float | None
    disagreements: list[Disagreement] = field(default_factory=list)


# -- statistics -------------------------------------------------------------


def percent_agreement(ratings: Sequence[Sequence[Hashable]]) -> float | None:
    """Share (0..100) of units on which every coder gave the same value.
    ``ratings[unit][coder]``."""
    if not ratings:
        return None
    same = sum(1 for unit in ratings if len(set(unit)) == 1)
    return 100.0 * same / len(ratings)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two coders' values on the same units."""
    n = len(a)
    if n == 0 or n != len(b):
        return None
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb.get(k, 0) for k in ca) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def krippendorff_alpha_nominal(ratings: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha for nominal data. ``ratings[unit][coder]``; None
    is a missing value. Units with fewer than two values are not pairable
    and are skipped.

    Coincidence matrix: each unit with m values adds, for every ordered pair
    of values (c, k) from different coders, 1/(m-1) to o[c][k].
    alpha = 1 - (n-1) * sum(o[c][k], c != k) / sum(n_c * n_k, c != k),
    n_c the margins of o and n their total."""
    o: dict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for unit in ratings:
        values = [v for v in unit if v is not None]
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nk - 1) if c == k else nc * nk
                o[(c, k)] += pairs / (m - 1)
    margins: dict[Hashable, float] = defaultdict(float)
    for (c, _), v in o.items():
        margins[c] += v
    n = sum(margins.values())
    if n <= 1:
        return None
    observed = sum(v for (c, k), v in o.items() if c != k)
    expected = sum(margins[c] * margins[k] for c in margins for k in margins if c != k)
    if expected == 0:
        return None
    return 1.0 - (n - 1) * observed / expected


# -- from the store -----------------------------------------------------------


def _ratings(
    store: Any, coders: list[str], model_threshold: float | None
) -> tuple[list[int], dict[str, set[tuple[int, str]]]]:
    """(shared unit ids, {coder: applied (unit, code) pairs})."""
    units: set[int] | None = None
    applied: dict[str, set[tuple[int, str]]] = {}
    for coder in coders:
        if coder == MODEL and model_threshold is not None:
            seen, pairs = store.suggested_pairs(model_threshold)
        else:
            seen, pairs = store.coder_unit_ids(coder), store.applied_pairs(coder)
        if not seen and coder == MODEL and model_threshold is not None:
            raise QualcodeError("no suggestions stored yet; run `qualcode suggest` first")
        if not seen:
            raise QualcodeError(
                f"{coder!r} has coded no units; coders with decisions: "
                + (", ".join(store.coders()) or "none yet")
            )
        units = seen if units is None else units & seen
        applied[coder] = pairs
    return sorted(units or ()), applied


def compute_agreement(
    store: Any,
    coders: list[str],
    *,
    against_model: bool = False,
    threshold: float = 0.5,
    with_disagreements: bool = False,
) -> Agreement:
    """Agreement among ``coders`` (two or more), or, with ``against_model``,
    between the model's suggestions (score >= ``threshold``) and one coder
    on the units that coder coded and the model scored."""
    given = list(coders)
    coders = list(dict.fromkeys(coders))
    if len(coders) < len(given) and not against_model:
        twice = sorted({c for c in given if given.count(c) > 1})
        raise QualcodeError(f"coder(s) {', '.join(twice)} named twice; give different coders")
    if against_model:
        if len(coders) != 1:
            raise QualcodeError(
                "--against-model compares the model with one coder: give --coders A"
            )
        coders = [MODEL, coders[0]]
    elif len(coders) < 2:
        raise QualcodeError("give at least two coders: --coders A B [C ...]")
    if against_model and not 0.0 < threshold <= 1.0:
        raise QualcodeError(f"--threshold {threshold}: give a score above 0 and at most 1")
    units, applied = _ratings(store, coders, threshold if against_model else None)
    if not units and against_model:
        raise QualcodeError(
            f"the model has not scored any unit {coders[1]!r} coded; run `qualcode suggest` "
            "and try again"
        )
    if not units:
        raise QualcodeError(
            f"no unit has been coded by all of {', '.join(coders)}; agreement needs the same "
            "units coded by each (see `qualcode review --coder NAME`, or import-coded their files)"
        )
    unit_set = set(units)
    labels = {c.id: c.label for c in store.codes(include_inactive=True)}
    order = {c.id: i for i, c in enumerate(store.codes(include_inactive=True))}
    used = sorted(
        {code for pairs in applied.values() for (u, code) in pairs if u in unit_set},
        key=lambda c: (order.get(c, len(order)), c),
    )
    per_code = []
    pooled: list[list[bool]] = []
    for code in used:
        rows = [[(u, code) in applied[c] for c in coders] for u in units]
        pooled += rows
        per_code.append(
            CodeAgreement(
                code_id=code,
                label=labels.get(code, code),
                units=len(rows),
                applied={c: sum(1 for u in units if (u, code) in applied[c]) for c in coders},
                percent=percent_agreement(rows) or 0.0,
                kappa=cohen_kappa([r[0] for r in rows], [r[1] for r in rows])
                if len(coders) == 2
                else None,
                alpha=krippendorff_alpha_nominal(rows),
            )
        )
    result = Agreement(
        coders=coders,
        units=len(units),
        codes=per_code,
        percent=percent_agreement(pooled),
        kappa=cohen_kappa([r[0] for r in pooled], [r[1] for r in pooled])
        if len(coders) == 2
        else None,
        alpha=krippendorff_alpha_nominal(pooled),
    )
    if with_disagreements:
        result.disagreements = list(_disagreements(store, coders, units, used, applied))
    return result


def _disagreements(
    store: Any,
    coders: list[str],
    units: list[int],
    codes: list[str],
    applied: dict[str, set[tuple[int, str]]],
) -> Iterator[Disagreement]:
    found = []
    for u in units:
        for code in codes:
            yes = [c for c in coders if (u, code) in applied[c]]
            if yes and len(yes) < len(coders):
                found.append((u, code, yes))
    if not found:
        return
    segments = {s.id: s for s in store.segments_by_ids(sorted({u for u, _, _ in found}))}
    names = {s.id: s.name for s in store.sessions()}
    for u, code, yes in sorted(
        found, key=lambda f: (names[segments[f[0]].session_id], segments[f[0]].seq, f[1])
    ):
        seg = segments[u]
        yield Disagreement(
            segment_id=u,
            session=names[seg.session_id],
            seq=seg.seq,
            speaker=seg.speaker,
            text=seg.text,
            code_id=code,
            applied_by=yes,
            not_applied_by=[c for c in coders if c not in yes],
        )
