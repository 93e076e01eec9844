"""Suggestions in a project: scoring stored units, learning from decisions,
and ordering the review queue.

The learned model lives in the store (``model_states``), not in a process:
the review UI, a background retrainer and the command line all see the same
model, and a teammate's machine sees it too once the store is shared.
"""

from __future__ import annotations

import pickle
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qualcode.codebook import project_codebook
from qualcode.errors import QualcodeError
from qualcode.models import Segment, Suggestion
from qualcode.suggest.parallel import suggest_in_processes

if TYPE_CHECKING:
    import numpy as np

    from qualcode.codebook import Codebook
    from qualcode.project import Project
    from qualcode.store import Store
    from qualcode.suggest.engine import Suggester, SuggestOptions

MODEL_NAME = "suggester"
# codebook models fitted in this process (fingerprint, options) -> Suggester:
# every project on the same codebook starts from the same one
_CODEBOOK_MODELS: dict[tuple[str, str], Suggester] = {}
POSITIVE = ("accepted", "added")


@dataclass
class CodeQuality:
    """A code's cross-validated quality on the decisions. Below 3 "yes"
    or 3 "no" decisions the classifier does not learn the code, and the
    figures measure nothing (``measured`` is False)."""

    precision: float
    recall: float
    f1: float
    support: int
    n_positive: int = 0
    n_negative: int = 0
    n_predicted: int = 0

    @property
    def measured(self) -> bool:
        return self.n_positive >= 3 and self.n_negative >= 3


@dataclass
class TrainReport:
    """What ``train`` learned from and how well it does (cross-validated)."""

    n_units: int
    n_decisions: int
    version: int
    seconds: float
    codes: dict[str, CodeQuality] = field(default_factory=dict)
    micro_f1: float | None = None
    n_coded_units: int = 0  # the codebook's coded units learned from as well


def project_options(project: Project | None) -> SuggestOptions:
    from qualcode.suggest.engine import SuggestOptions

    return SuggestOptions.from_config(project.config.suggest if project else None)


def _codebook_in_use(project: Project) -> Codebook:
    """The project's codebook, once its codes are the store's (see
    ``codebook_change.check_in_use``)."""
    from qualcode.codebook_change import check_in_use

    book = project_codebook(project)
    check_in_use(project, book)
    return book


def unit_languages(store: Store, segments: list[Segment]) -> list[str | None]:
    langs = store.session_languages()
    return [langs.get(s.session_id) for s in segments]


def unit_positions(store: Store, segments: list[Segment]) -> list[tuple[int, int] | None]:
    """(session, index among its codable units) per unit: which decided
    units are next to each other (how talk moves between themes is learned
    from them)."""
    index: dict[int, int] = {}
    for sid in sorted({s.session_id for s in segments}):
        for k, unit in enumerate(store.segments(sid, codable_only=True)):
            index[unit.id or 0] = k
    return [(s.session_id, index[s.id or 0]) if (s.id or 0) in index else None for s in segments]


def training_data(
    store: Store, code_ids: list[str]
) -> tuple[list[Segment], np.ndarray, np.ndarray]:
    """Decided units with labels (n x codes) and which labels are known.

    accepted/added: positive; rejected: negative; a unit a coder finished
    reviewing without giving a code: negative for that code. Coders who
    disagree are counted as votes, a tie counts as positive (a code someone
    saw is worth suggesting)."""
    import numpy as np

    index = {c: i for i, c in enumerate(code_ids)}
    votes: dict[int, dict[str, dict[str, bool]]] = {}  # unit -> coder -> code -> positive
    for d in store.decisions():
        votes.setdefault(d.segment_id, {}).setdefault(d.coder, {})[d.code_id] = (
            d.verdict in POSITIVE
        )
    reviewed: dict[int, set[str]] = {}
    for sid, coder in store.reviewed_pairs():
        reviewed.setdefault(sid, set()).add(coder)
        votes.setdefault(sid, {}).setdefault(coder, {})
    ids = sorted(votes)
    segments = [s for s in store.segments_by_ids(ids) if s.codable]
    y = np.zeros((len(segments), len(code_ids)), dtype=np.float32)
    known = np.zeros_like(y, dtype=bool)
    for row, seg in enumerate(segments):
        pos = np.zeros(len(code_ids))
        neg = np.zeros(len(code_ids))
        for coder, given in votes[seg.id or 0].items():
            done = coder in reviewed.get(seg.id or 0, set())
            for code, positive in given.items():
                if code in index:
                    (pos if positive else neg)[index[code]] += 1
            if done:
                for code, c in index.items():
                    if code not in given:
                        neg[c] += 1
        known[row] = (pos + neg) > 0
        y[row] = (pos >= neg) & known[row]
    return segments, y, known


def fit_suggester(
    store: Store, project: Project | None, codebook: Codebook
) -> tuple[Suggester, int]:
    from qualcode.suggest.engine import Suggester

    suggester = Suggester(codebook, project_options(project))
    segments, y, known = training_data(store, suggester.code_ids)
    if len(segments) == 0:
        return suggester.fit(), 0
    texts = [s.text for s in segments]
    langs, where = unit_languages(store, segments), unit_positions(store, segments)
    return suggester.fit(texts, langs, y, known, where), len(segments)


def _cross_validate(
    store: Store, project: Project | None, codebook: Codebook, folds: int = 3
) -> tuple[dict[str, CodeQuality], float | None]:
    import numpy as np

    from qualcode.suggest.engine import Suggester

    probe = Suggester(codebook, project_options(project))
    segments, y, known = training_data(store, probe.code_ids)
    if len(segments) < folds * 2:
        return {}, None
    texts = [s.text for s in segments]
    langs = unit_languages(store, segments)
    where = unit_positions(store, segments)
    order = np.random.default_rng(0).permutation(len(segments))
    pred = np.zeros_like(y)
    for f in range(folds):
        test = order[f::folds]
        train = np.setdiff1d(order, test)
        model = Suggester(codebook, probe.options).fit(
            [texts[i] for i in train],
            [langs[i] for i in train],
            y[train],
            known[train],
            [where[i] for i in train],
        )
        scores = model.score([texts[i] for i in test], [langs[i] for i in test])
        pred[test] = scores.score >= probe.options.threshold
    out: dict[str, CodeQuality] = {}
    tp_all = fp_all = fn_all = 0
    for c, code in enumerate(probe.code_ids):
        rows = known[:, c]
        t, p = y[rows, c] > 0, pred[rows, c] > 0
        tp, fp, fn = int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum())
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        q = CodeQuality(prec, rec, f1, int(t.sum()), int(t.sum()), int((~t).sum()), tp + fp)
        out[code] = q
        if q.measured:  # micro-F1 over the codes whose figures are shown
            tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
    denom = 2 * tp_all + fp_all + fn_all
    return out, (2 * tp_all / denom if denom else None)


def train(
    store: Store,
    project: Project | None,
    *,
    cross_validate: bool = True,
    codebook: Codebook | None = None,
) -> TrainReport:
    """Fit the suggester on every decision in the store, save it for every
    process, and (by default) report cross-validated quality per code."""
    start = time.perf_counter()
    if codebook is None and project is None:
        raise QualcodeError("train needs a project with a codebook")
    book = codebook or _codebook_in_use(project)  # type: ignore[arg-type]
    n_decisions = store.count_decisions()
    suggester, n_units = fit_suggester(store, project, book)
    version = store.save_model_state(MODEL_NAME, pickle.dumps(suggester), n_decisions)
    seconds = time.perf_counter() - start
    report = TrainReport(
        n_units=n_units,
        n_decisions=n_decisions,
        version=version,
        seconds=seconds,
        n_coded_units=suggester.n_coded_units_,
    )
    if cross_validate:
        report.codes, report.micro_f1 = _cross_validate(store, project, book)
    return report


def maybe_retrain(
    store: Store, project: Project | None, every: int | None = None
) -> TrainReport | None:
    """Retrain when ``every`` (default ``suggest.retrain_every``) decisions were
    made since the last training. Give it its own store connection when
    calling from a background thread."""
    every = every or project_options(project).retrain_every
    state = store.load_model_state(MODEL_NAME)
    last = state[1] if state else 0
    if store.count_decisions() - last < every:
        return None
    return train(store, project, cross_validate=False)


def load_suggester(
    store: Store, project: Project | None, codebook: Codebook | None = None
) -> tuple[Suggester, str]:
    """The trained suggester from the store when it fits the current codebook,
    else one fitted on the codebook alone (with its coded units, if any: that
    one is saved to the store too); with its model version label."""
    from qualcode.suggest.engine import Suggester

    book = codebook or _codebook_in_use(project)  # type: ignore[arg-type]
    options = project_options(project)
    fresh = Suggester(book, options)
    expected = fresh.expected_fingerprint()
    state = store.load_model_state(MODEL_NAME)
    if state is not None:
        version, _, data = state
        try:
            model = pickle.loads(data)
        except Exception:  # an older qualcode's model: ignore it, train again
            model = None
        if model is not None and getattr(model, "fingerprint_", None) == expected:
            model.options = options
            return model, f"model-{version}"
    fresh = _codebook_model(fresh, expected, repr(options))
    if fresh.n_coded_units_:
        # learning from the codebook's coded units takes seconds: keep the
        # result for every process (0 decisions, so retraining still starts
        # after the first retrain_every decisions)
        version = store.save_model_state(MODEL_NAME, pickle.dumps(fresh), 0)
        return fresh, f"model-{version}"
    return fresh, "codebook"


def _codebook_model(fresh: Suggester, fingerprint: str, options: str) -> Suggester:
    """``fresh`` fitted on its codebook alone, from this process's models, the
    machine's cache (``model_cache``) or a new fit, in that order."""
    from qualcode.suggest import model_cache

    key = (fingerprint, options)
    model = _CODEBOOK_MODELS.get(key)
    if model is None:
        model = model_cache.load(fingerprint, options)
        if model is None:
            model = fresh.fit()
            if model.n_coded_units_:  # without coded units a fit is quick
                model_cache.save(model, options)
        model.codebook, model.options = fresh.codebook, fresh.options
        _CODEBOOK_MODELS[key] = model
        while len(_CODEBOOK_MODELS) > 2:  # a model is tens of MB: keep the last two
            _CODEBOOK_MODELS.pop(next(iter(_CODEBOOK_MODELS)))
    return model


def suggest_unscored(
    store: Store, project: Project | None, session: str | int | None = None
) -> int:
    """Score the units of sessions that have no suggestions at all (imported,
    never suggested); returns how many units were scored. Review shows the
    model's stream: a unit shown without suggestions invites a quick "no
    code" that teaches the model a wrong "no" for every code."""
    sid = store.get_session(session).id if session is not None else None
    ids = store.unscored_units(sid)
    if ids:
        suggest_segments(store, project, ids)
    return len(ids)


def decided_labels(store: Store, code_ids: list[str]) -> dict[int, np.ndarray]:
    """Unit id -> per code 1 (coders gave it), 0 (decided against), NaN
    (undecided), for units with decisions: a decided unit's neighbours read
    it with the coders' answers."""
    import numpy as np

    segments, y, known = training_data(store, code_ids)
    labels = np.where(known, y, np.nan).astype(np.float32)
    return {seg.id or 0: labels[k] for k, seg in enumerate(segments)}


def suggest_segments(
    store: Store,
    project: Project | None,
    segment_ids: list[int] | None = None,
    *,
    session: str | int | None = None,
    suggester: Suggester | None = None,
    batch: int = 50_000,
) -> int:
    """Score codable units (given ids, one session's, or all) and store their
    suggestions; returns the number stored."""
    if suggester is None:
        suggester, version = load_suggester(store, project)
    else:
        version = "given"
    import numpy as np

    if segment_ids is not None:
        chain = suggester.chain()
        reach = chain.reach() if chain is not None else 0
        segments, groups, wanted = _with_neighbours(store, segment_ids, reach)
    else:
        sid = store.get_session(session).id if session is not None else None
        segments = store.segments(sid, codable_only=True)
        groups = [(s.session_id, 0) for s in segments]
        wanted = None
    decided = decided_labels(store, suggester.code_ids)
    total = 0
    lo = 0
    while lo < len(segments):
        hi = min(lo + batch, len(segments))
        # a batch ends with a run of neighbouring units, so each is read in context
        while hi < len(segments) and groups[hi] == groups[hi - 1]:
            hi += 1
        part, part_groups, lo = segments[lo:hi], groups[lo:hi], hi
        known = np.full((len(part), len(suggester.code_ids)), np.nan, dtype=np.float32)
        for k, seg in enumerate(part):
            if seg.id in decided:
                known[k] = decided[seg.id]
        found = suggest_in_processes(
            suggester,
            [s.text for s in part],
            unit_languages(store, part),
            groups=part_groups,
            decided=known,
        )
        keep = [
            (seg, kept)
            for seg, kept in zip(part, found, strict=True)
            if wanted is None or seg.id in wanted
        ]
        items = [
            Suggestion(seg.id or 0, code, score, why, version)
            for seg, kept in keep
            for code, score, why in kept
        ]
        total += store.replace_suggestions(items, [seg.id or 0 for seg, _ in keep])
    return total


def _with_neighbours(
    store: Store, segment_ids: list[int], reach: int
) -> tuple[list[Segment], list[tuple[int, int]], set[int]]:
    """The codable units asked for with up to ``reach`` neighbours each side
    (they are scored too, as context, but not stored), a run key per unit
    (units that follow each other in their session share it), and the ids
    asked for."""
    wanted = {s.id or 0 for s in store.segments_by_ids(segment_ids) if s.codable}
    out: list[Segment] = []
    groups: list[tuple[int, int]] = []
    sessions = {s.session_id for s in store.segments_by_ids(sorted(wanted))}
    for sid in sorted(sessions):
        units = store.segments(sid, codable_only=True)
        near = {
            j
            for i, u in enumerate(units)
            if u.id in wanted
            for j in range(max(i - reach, 0), min(i + reach + 1, len(units)))
        }
        run, last = 0, None
        for j in sorted(near):
            if last is not None and j != last + 1:
                run += 1
            out.append(units[j])
            groups.append((sid, run))
            last = j
    return out, groups, wanted


def suggestions_for(store: Store, segment_id: int) -> list[Suggestion]:
    """A unit's stored suggestions, best first, with their rationale."""
    return sorted(store.suggestions(segment_id), key=lambda s: -s.score)


def code_family(store: Store, code: str) -> set[str]:
    """``code`` and every code under it: a parent such as independent_work
    is never suggested itself, its sub-codes are."""
    children: dict[str | None, list[str]] = {}
    for known in store.codes(include_inactive=True):
        children.setdefault(known.parent_id, []).append(known.id)
    family: set[str] = set()
    todo = [code]
    while todo:
        cid = todo.pop()
        if cid not in family:
            family.add(cid)
            todo.extend(children.get(cid, []))
    return family


def review_queue(
    store: Store,
    coder: str,
    *,
    session: str | int | None = None,
    code: str | None = None,
    order: str = "uncertain",
    only_unreviewed: bool = True,
    disagreements: bool = False,
    threshold: float = 0.5,
) -> list[int]:
    """Unit ids in the order a coder should review them.

    ``uncertain``: units whose suggestions sit closest to the threshold first
    (what the coder decides there teaches the model most), then the rest in
    transcript order; ``chronological``: transcript order. ``code``: only
    units suggested or decided with that code or one under it. ``disagreements``: only units
    where coders' codes differ."""
    if order not in ("uncertain", "chronological"):
        raise QualcodeError(f"unknown order {order!r}; use uncertain or chronological")
    sid = store.get_session(session).id if session is not None else None
    segments = store.segments(sid, codable_only=True)
    if only_unreviewed:
        done = store.reviewed_segment_ids(coder)
        segments = [s for s in segments if s.id not in done]
    by_unit: dict[int, list[Suggestion]] = {}
    for sug in store.suggestions():
        by_unit.setdefault(sug.segment_id, []).append(sug)
    if code is not None or disagreements:
        decided: dict[int, dict[str, set[str]]] = {}
        for d in store.decisions():
            given = decided.setdefault(d.segment_id, {}).setdefault(d.coder, set())
            if d.verdict in POSITIVE:
                given.add(d.code_id)
        if code is not None:
            family = code_family(store, code)
            segments = [
                s
                for s in segments
                if any(x.code_id in family for x in by_unit.get(s.id or 0, ()))
                or any(family & g for g in decided.get(s.id or 0, {}).values())
            ]
        if disagreements:
            segments = [
                s
                for s in segments
                if len(decided.get(s.id or 0, {})) > 1
                and len({frozenset(g) for g in decided[s.id or 0].values()}) > 1
            ]
    if order == "chronological":
        return [s.id or 0 for s in segments]

    def uncertainty(seg: Segment) -> float:
        scores = [x.score for x in by_unit.get(seg.id or 0, ())]
        return max((1 - 2 * abs(s - threshold) for s in scores), default=0.0)

    ranked = sorted(enumerate(segments), key=lambda p: (-uncertainty(p[1]), p[0]))
    return [s.id or 0 for _, s in ranked]
