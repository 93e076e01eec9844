"""How good are the suggestions? Measured against units a person coded.

A research team adopting qualcode needs a number before trusting the
suggestions: ``evaluate`` takes a gold CSV (text, codes), lets a fraction of
it play the coder (its codes become decisions the model learns from) and
predicts the rest, reporting per code precision, recall, F1 and Cohen's
kappa (agreement beyond chance, the measure qualitative researchers report
between coders). It runs in a throwaway store so it never touches the
project's own decisions.

The same CSV shape (plus ``coder``) brings earlier hand coding into a project
(``import_coded``): that is how a team's past work teaches the model.
"""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import FormatError, QualcodeError
from qualcode.gold import GoldUnit, code_names, read_gold
from qualcode.models import Decision, Segment, Session, Transcript, Utterance
from qualcode.transcript import utterance_spans

if TYPE_CHECKING:
    from qualcode.codebook import Codebook
    from qualcode.project import Project
    from qualcode.store import Store


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


def _store_units(store: Store, units: Sequence[GoldUnit], default_session: str) -> list[int]:
    """Each gold row becomes one utterance and one coding unit (not re-split:
    the unit is what was coded). Returns segment ids in row order."""
    by_session: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        by_session.setdefault(u.session or default_session, []).append(i)
    ids = [0] * len(units)
    for name, rows in by_session.items():
        utterances = [Utterance(units[i].text, units[i].speaker) for i in rows]
        langs = {units[i].lang for i in rows if units[i].lang}
        session = Session(
            name=store.unique_session_name(name),
            language=langs.pop() if len(langs) == 1 else None,
            source_format="csv",
        )
        sid = store.add_session(session, Transcript(utterances))
        for i, seg_id in zip(rows, _segment_rows(store, sid), strict=True):
            ids[i] = seg_id
    return ids


def _segment_rows(store: Store, sid: int) -> list[int]:
    """One coding unit per utterance of a session made from coded rows."""
    stored = store.utterances(sid)
    segments = [
        Segment(
            session_id=sid,
            seq=k,
            text=u.text,
            char_start=s,
            char_end=e,
            speaker=u.speaker,
            participant_id=store.participant_id(u.speaker) if u.speaker else None,
            utterance_id=u.id,
        )
        for k, (u, (s, e)) in enumerate(zip(stored, utterance_spans(stored), strict=True))
    ]
    return store.replace_segments(sid, segments)


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
            ids = _store_units(store, rows, Path(path).stem)
            decisions = [
                Decision(ids[i], code, "gold", "added" if code in rows[i].codes else "rejected")
                for i in (train_rows if learn else [])
                for code in leaves
            ]
            store.record_decisions(decisions)
            if train_rows and learn:
                train(store, project, codebook=codebook, cross_validate=False)
            suggester, _ = load_suggester(store, project, codebook)
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
    )


@dataclass
class ImportReport:
    sessions: list[str]  # sessions created
    n_units: int  # rows imported
    n_decisions: int
    attached: list[str] = field(default_factory=list)  # existing sessions coded again
    recoded: int = 0  # units the same coder had coded before: the file's coding replaced theirs
    # a session name taken by a session with other texts -> the name given instead
    renamed: dict[str, str] = field(default_factory=dict)
    # per created session, its speakers who also speak in another group's sessions
    shared_speakers: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _row_keys(rows: Sequence[GoldUnit], coder: str | None) -> list[tuple[str, int]]:
    """(text, occurrence) per row: the k-th row with a text from one coder
    is the k-th unit with that text, so a second coder's rows (in the same
    file or a later one) land on the same units as the first coder's."""
    seen: dict[tuple[str | None, str], int] = {}
    keys = []
    for u in rows:
        k = (u.coder or coder, u.text)
        keys.append((u.text, seen.get(k, 0)))
        seen[k] = seen.get(k, 0) + 1
    return keys


def _existing_units(
    store: Store,
    name: str,
    keys: Sequence[tuple[str, int]],
    speakers: Sequence[str | None] = (),
) -> list[int] | None:
    """Unit ids of ``keys`` in an existing session called ``name``, when it
    has every one of them; a session made from a coded CSV whose units the
    rows hold in the same order (a coder's later, longer file) first gets
    the other rows as new units where the file has them. Else None: the
    rows become a new session."""
    session = store.find_session(name)
    if session is None:
        return None
    have = _units_by_key(store, session.id or 0)
    if all(k in have for k in keys):
        return [have[k].id or 0 for k in keys]
    # every unit of the session must be among the rows, in the same order:
    # a file that merely shares a "Joo." with it is another session
    given = list(dict.fromkeys(keys))
    if session.source_format != "csv" or [k for k in given if k in have] != list(have):
        return None
    who = dict(zip(keys, speakers, strict=False))
    _merge_units(store, session, given, have, who)
    have = _units_by_key(store, session.id or 0)
    return [have[k].id or 0 for k in keys] if all(k in have for k in keys) else None


def _units_by_key(store: Store, session_id: int) -> dict[tuple[str, int], Segment]:
    """A session's units by (text, occurrence), in order: the k-th unit with
    a text is the k-th row with it."""
    seen: dict[str, int] = {}
    out: dict[tuple[str, int], Segment] = {}
    for seg in store.segments(session_id):
        out[(seg.text, seen.get(seg.text, 0))] = seg
        seen[seg.text] = seen.get(seg.text, 0) + 1
    return out


def _merge_units(
    store: Store,
    session: Session,
    order: Sequence[tuple[str, int]],
    have: Mapping[tuple[str, int], Segment],
    who: Mapping[tuple[str, int], str | None],
) -> None:
    """The session made from a coded CSV gets the rows it lacks as new units
    where the file has them (a coder's longer file: another coder's part of
    a session, or its rest); its own units stay what they are (same rows,
    ids and decisions: found again by their text)."""
    utterances = [
        Utterance(have[key].text, have[key].speaker)
        if key in have
        else Utterance(key[0], who.get(key))
        for key in order
    ]
    sid = store.add_session(session, Transcript(utterances), replace=True)
    _segment_rows(store, sid)


def import_coded(
    store: Store, codebook: Codebook, path: str | Path, *, coder: str | None = None
) -> ImportReport:
    """Bring already-coded units (gold CSV shape plus ``coder``) into a project.

    Each row is a unit its coder coded completely: its codes become "added"
    decisions and the unit counts as done by that coder, so it teaches the
    model a "no" for every other code and takes part in ``qualcode agree``
    even with no code. Rows of a session that already exists with the same
    unit texts (another coder's file of the same units) are attached to its
    units; otherwise each session is created."""
    path = Path(path)
    if coder is not None and not coder.strip():
        raise QualcodeError("--coder is blank; give the coder's name")
    coder = coder.strip() if coder is not None else None
    leaves = [c.id for c in codebook.iter_codes() if c.is_leaf]
    parents = [c.id for c in codebook.iter_codes() if not c.is_leaf]
    rows = read_gold(path, leaves, parents=parents, names=code_names(codebook))
    for u in rows:
        if not (u.coder or coder):
            raise FormatError(path, "no coder: add a coder column or pass --coder NAME", u.line)
    keys = _row_keys(rows, coder)
    earlier = {c.casefold(): c for c in store.coders()}
    for c in sorted({u.coder or coder or "" for u in rows}):
        if c.casefold() in earlier and earlier[c.casefold()] != c:
            # two coders who are one person would halve agreement and counts
            raise QualcodeError(
                f"{path}: coder {c!r} is spelt {earlier[c.casefold()]!r} in this project; "
                "use that spelling (coder names are case-sensitive)"
            )
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(rows):
        groups.setdefault(u.session or path.stem, []).append(i)
    ids = [0] * len(rows)
    created: list[str] = []
    attached: list[str] = []
    renamed: dict[str, str] = {}
    with store.transaction():
        for name, members in groups.items():
            found = _existing_units(
                store, name, [keys[i] for i in members], [rows[i].speaker for i in members]
            )
            if found is None:
                # one unit per distinct (text, occurrence), in first-seen order
                first: dict[tuple[str, int], int] = {}
                for i in members:
                    first.setdefault(keys[i], i)
                units = [replace(rows[i], session=name) for i in first.values()]
                before = {s.name for s in store.sessions()}
                new_ids = dict(zip(first, _store_units(store, units, name), strict=True))
                made = sorted({s.name for s in store.sessions()} - before)
                if name in before and made:
                    renamed[name] = made[0]
                created += made
                found = [new_ids[keys[i]] for i in members]
            else:
                attached.append(name)
            for i, seg_id in zip(members, found, strict=True):
                ids[i] = seg_id
        decisions = [
            Decision(seg_id, code, u.coder or coder or "", "added")
            for u, seg_id in zip(rows, ids, strict=True)
            for code in u.codes
        ]
        recoded, n_changed = (
            _replace_earlier(store, path, rows, ids, coder, decisions) if attached else (0, 0)
        )
        store.record_decisions(decisions)
        store.mark_coded_elsewhere(
            {(seg_id, u.coder or coder or "") for u, seg_id in zip(rows, ids, strict=True)}
        )
    return ImportReport(
        sessions=created,
        n_units=len(rows),
        n_decisions=len(decisions) + n_changed,
        attached=attached,
        recoded=recoded,
        renamed=renamed,
        shared_speakers={
            name: shared for name in created if (shared := store.speakers_in_other_groups(name))
        },
    )


def _replace_earlier(
    store: Store,
    path: Path,
    rows: Sequence[GoldUnit],
    ids: Sequence[int],
    coder: str | None,
    decisions: list[Decision],
) -> tuple[int, int]:
    """A coder's file of units they coded before (a corrected export, the
    same file again) replaces their earlier coding of those units: a code
    they had given that the row leaves out becomes a "rejected" decision,
    and each verdict that changes on those units is written one by one,
    logged as one undoable group per coder (``qualcode review``'s undo
    restores the earlier coding). Leaves in ``decisions`` only what is new;
    returns (units the coder had coded before, verdicts changed)."""
    earlier: dict[tuple[int, str], dict[str, str]] = {}
    for who in {u.coder or coder or "" for u in rows}:
        # a unit coded with no code has no decisions, only its "done"
        for seg_id, status in store.review_statuses(who).items():
            if status == "done":
                earlier[(seg_id, who)] = {}
        for d in store.decisions(coder=who):
            earlier.setdefault((d.segment_id, who), {})[d.code_id] = d.verdict
    changed: list[Decision] = []
    settled: set[tuple[int, str, str]] = set()
    recoded = 0
    for u, seg_id in zip(rows, ids, strict=True):
        who = u.coder or coder or ""
        before = earlier.get((seg_id, who))
        if before is None:
            continue
        recoded += 1
        for code in {*before, *u.codes}:
            given = before.get(code) in ("accepted", "added")
            if given != (code in u.codes):
                changed.append(Decision(seg_id, code, who, "added" if not given else "rejected"))
            settled.add((seg_id, code, who))
    for who in sorted({d.coder for d in changed}):
        # one undoable group per coder: undo in review restores the earlier coding
        store.log_action(who, f"import-coded {path.name}", None)
        for d in changed:
            if d.coder == who:
                store.record_decision(d)
    decisions[:] = [d for d in decisions if (d.segment_id, d.code_id, d.coder) not in settled]
    return recoded, len(changed)


def iter_report_lines(report: EvalReport) -> Iterator[str]:
    """Plain-text table of an evaluation, for terminals and logs."""
    yield f"{'code':<20} {'prec':>6} {'recall':>6} {'F1':>6} {'kappa':>6} {'support':>7}"
    for code, m in report.codes.items():
        if m.support == 0 and m.kappa == 1.0:
            # neither in the test units nor suggested: nothing was measured
            # (the JSON keeps the numbers: F1 0, kappa 1 by convention)
            yield f"{code:<20} {'–':>6} {'–':>6} {'–':>6} {'–':>6} {0:7d}  not in the test units"
            continue
        yield (
            f"{code:<20} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} {m.kappa:6.3f} "
            f"{m.support:7d}"
        )
    yield f"micro-F1 {report.micro_f1:.3f}  macro-F1 {report.macro_f1:.3f}  " + (
        f"(trained on {report.n_train}, tested on {report.n_test} units)"
    )
