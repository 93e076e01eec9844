"""How good are the suggestions? Measured against units a person coded.

A research team adopting qualcode needs a number before trusting the
suggestions: ``evaluate`` takes a gold CSV (text, codes), lets a fraction of
it play the coder (its codes become decisions the model learns from) and
predicts the rest, reporting per code precision, recall, F1 and Cohen's
kappa (agreement beyond chance, the measure qualitative researchers report
between coders). It runs in a throwaway store so it never touches the
project's own decisions.

The same CSV shape (plus ``coder``) brings earlier hand coding into a project
(``qualcode.coded_import``): that is how a team's past work teaches the model.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.coded_import import store_rows_as_units
from qualcode.errors import FormatError
from qualcode.gold import GoldUnit, code_names, read_gold
from qualcode.models import Decision

if TYPE_CHECKING:
    from qualcode.codebook import Codebook
    from qualcode.project import Project


@dataclass
class CodeMetrics:
    """One code on the test rows. An undefined ratio is 0 here (kappa 1 when
    gold and suggestions are both all-no or all-yes, scikit-learn's
    convention), and null in the JSON."""

    precision: float
    recall: float
    f1: float
    kappa: float
    support: int
    predicted: int = 0  # test rows the suggestions gave the code


@dataclass
class EvalReport:
    """Quality of the suggestions on the held-out rows of a gold file."""

    micro_f1: float
    macro_f1: float
    codes: dict[str, CodeMetrics]
    n_train: int = 0
    n_test: int = 0
    train_fraction: float = 0.0
    seed: int = 0
    predictions: list[tuple[str, list[str], list[str]]] = field(default_factory=list)
    # test rows whose text is among the codebook's coded units: the model
    # learned their codes, so the figures overstate talk it has not seen
    n_seen: int = 0
    coded_units: str | None = None

    def to_json(self) -> dict:
        """The documented ``--json`` shape (docs/json.md)."""
        return {
            "micro_f1": round(self.micro_f1, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "train_fraction": self.train_fraction,
            "seed": self.seed,
            "codes": {k: _metrics_json(m, self.n_test) for k, m in self.codes.items()},
            "seen_in_coded_units": self.n_seen,
        }


def _metrics_json(m: CodeMetrics, n: int) -> dict:
    """A code's metrics with null where a ratio is undefined (no gold yes:
    recall; no suggestion: precision; neither: F1; gold and suggestions
    agreeing on a code that is always or never there: kappa), as `agree
    --json` gives them, so a script averaging F1 is not pulled down by 0s
    that mean nothing."""
    out: dict = {key: round(v, 4) if isinstance(v, float) else v for key, v in asdict(m).items()}
    if m.predicted == 0:
        out["precision"] = None
    if m.support == 0:
        out["recall"] = None
    if m.predicted == 0 and m.support == 0:
        out["f1"] = None
    if m.predicted == m.support and m.support in (0, n):
        out["kappa"] = None
    return out


def _binary_scores(t: Sequence[bool], p: Sequence[bool]) -> CodeMetrics:
    tp = sum(a and b for a, b in zip(t, p, strict=True))
    fp = sum(b and not a for a, b in zip(t, p, strict=True))
    fn = sum(a and not b for a, b in zip(t, p, strict=True))
    n = len(t)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # Cohen's kappa of two raters (gold, suggestions) on a yes/no code
    observed = (n - fp - fn) / n if n else 0.0
    t_yes, p_yes = sum(t) / n if n else 0.0, sum(p) / n if n else 0.0
    expected = t_yes * p_yes + (1 - t_yes) * (1 - p_yes)
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 1.0
    return CodeMetrics(precision, recall, f1, kappa, sum(t), sum(p))


def score_sets(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], code_ids: Sequence[str]
) -> tuple[dict[str, CodeMetrics], float, float]:
    """Per-code metrics, micro-F1 and macro-F1 (over codes with support or
    predictions) of multi-label code sets."""
    codes: dict[str, CodeMetrics] = {}
    tp = fp = fn = 0
    for code in code_ids:
        t = [code in x for x in truth]
        p = [code in x for x in predicted]
        m = _binary_scores(t, p)
        codes[code] = m
        tp += sum(a and b for a, b in zip(t, p, strict=True))
        fp += sum(b and not a for a, b in zip(t, p, strict=True))
        fn += sum(a and not b for a, b in zip(t, p, strict=True))
    micro = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    used = [m.f1 for c, m in codes.items() if m.support or any(c in x for x in predicted)]
    macro = sum(used) / len(used) if used else 0.0
    return codes, micro, macro


def evaluate(
    path: str | Path,
    codebook: Codebook,
    *,
    train_fraction: float = 0.0,
    seed: int = 0,
    project: Project | None = None,
    units: Sequence[GoldUnit] | None = None,
    learn: bool = True,
) -> EvalReport:
    """Train on ``train_fraction`` of the gold rows (as coder "gold") and
    measure the suggestions on the rest, in a temporary store. ``learn=False``
    holds the same rows out but predicts from the codebook alone (the
    baseline on the same test units)."""
    import numpy as np

    from qualcode.store import open_store
    from qualcode.suggest.engine import suggestable_codes
    from qualcode.suggest.workflow import load_suggester, project_options, train

    if not 0.0 <= train_fraction < 1.0:
        raise FormatError(path, f"train fraction {train_fraction} must be at least 0 and below 1")
    leaves = [c.id for c in suggestable_codes(codebook)]
    parents = [c.id for c in codebook.iter_codes() if not c.is_leaf]
    rows = (
        list(units)
        if units is not None
        else read_gold(path, leaves, parents=parents, names=code_names(codebook))
    )
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_train = round(train_fraction * len(rows))
    if train_fraction > 0 and n_train >= len(rows):
        n_train = len(rows) - 1
    if train_fraction > 0 and n_train == 0:
        raise FormatError(
            path,
            f"{len(rows)} row(s) are too few for train fraction {train_fraction}: none would "
            "become decisions; add rows or measure the codebook alone (train fraction 0)",
        )
    train_rows, test_rows = sorted(order[:n_train]), sorted(order[n_train:])
    with tempfile.TemporaryDirectory(prefix="qualcode-eval-") as tmp:
        store = open_store(Path(tmp) / "eval.db")
        try:
            store.sync_codes(codebook.flat_codes())
            ids = store_rows_as_units(store, rows, Path(path).stem)
            decisions = [
                Decision(ids[i], code, "gold", "added" if code in rows[i].codes else "rejected")
                for i in (train_rows if learn else [])
                for code in leaves
            ]
            store.record_decisions(decisions)
            if train_rows and learn:
                train(store, project, codebook=codebook, cross_validate=False)
            suggester, _ = load_suggester(store, project, codebook)
            coded = suggester.coded_units()  # what it learned from, read once (cached)
            seen = {_folded(t) for t in coded.texts if _telling(t)} if coded else set()
            threshold = project_options(project).threshold
            # every row is scored, in file order, so a test unit is read with
            # its neighbours; a training row's neighbours see its gold codes
            # (as a decided unit's do in a project). Rows without a session
            # column are scored one by one.
            decided = np.full((len(rows), len(leaves)), np.nan, dtype=np.float32)
            for i in train_rows if learn else []:
                decided[i] = [float(c in rows[i].codes) for c in leaves]
            in_sessions = any(r.session for r in rows)
            scores = suggester.score(
                [r.text for r in rows],
                [r.lang for r in rows],
                [r.session for r in rows] if in_sessions else None,
                decided,
            )
        finally:
            store.close()
    predicted = [
        [c for c, s in zip(scores.codes, scores.score[i], strict=True) if s >= threshold]
        for i in test_rows
    ]
    truth = [rows[i].codes for i in test_rows]
    codes, micro, macro = score_sets(truth, predicted, leaves)
    return EvalReport(
        micro_f1=micro,
        macro_f1=macro,
        codes=codes,
        n_train=len(train_rows),
        n_test=len(test_rows),
        train_fraction=train_fraction,
        seed=seed,
        predictions=[(rows[i].text, truth[k], predicted[k]) for k, i in enumerate(test_rows)],
        n_seen=sum(_folded(rows[i].text) in seen for i in test_rows if _telling(rows[i].text)),
        coded_units=str(codebook.coded_units) if codebook.coded_units else None,
    )


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())


def _telling(text: str) -> bool:
    # a turn of a few words ("Joo.", "What did you do?") is talk any two
    # groups share: only a longer one in the coded units was learned from
    return len(text.split()) > 4


def iter_report_lines(report: EvalReport) -> Iterator[str]:
    """Plain-text table of an evaluation, for terminals and logs."""
    yield f"{'code':<20} {'prec':>6} {'recall':>6} {'F1':>6} {'kappa':>6} {'support':>7}"
    for code, m in report.codes.items():
        # the JSON's nulls as –: a ratio that is undefined measured nothing
        shown = _metrics_json(m, report.n_test)
        cells = " ".join(
            f"{'–':>6}" if shown[k] is None else f"{shown[k]:6.3f}"
            for k in ("precision", "recall", "f1", "kappa")
        )
        note = "  not in the test units" if m.support == 0 and m.predicted == 0 else ""
        yield f"{code:<20} {cells} {m.support:7d}{note}"
    yield f"micro-F1 {report.micro_f1:.3f}  macro-F1 {report.macro_f1:.3f}  " + (
        f"(trained on {report.n_train}, tested on {report.n_test} "
        f"unit{'' if report.n_test == 1 else 's'})"
    )
    if report.n_seen:
        yield (
            f"warning: {report.n_seen} of the {report.n_test} test units are among the codebook's "
            f"coded units ({report.coded_units}), whose codes the suggestions learned: these "
            "figures overstate talk they have not seen; add --without-coded-units, or measure "
            "on units the codebook was not built on"
        )
