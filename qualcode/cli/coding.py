"""`qualcode segment`, `suggest`, `train`, `evaluate` and `import-coded`."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from qualcode.cli.apps import JsonOpt, ProjectOpt, app, console, plural
from qualcode.errors import QualcodeError
from qualcode.project import open_project
from qualcode.transcript import format_time

NO_SESSIONS = (
    "the project has no sessions; add some with `qualcode import FILE` "
    "or `qualcode transcribe RECORDING`"
)

SessionOpt = Annotated[
    str | None, typer.Option("--session", "-s", help="Only this session (default: all).")
]


def suggestion_json(store, seg, suggestions, session_names: dict[int, str]) -> dict:
    """One unit with its suggestions: the stable shape of `qualcode suggest --json`."""
    return {
        "segment_id": seg.id,
        "session": session_names.get(seg.session_id),
        "seq": seg.seq,
        "speaker": seg.speaker,
        "start": seg.start,
        "end": seg.end,
        "text": seg.text,
        "suggestions": [
            {"code": s.code_id, "score": round(s.score, 4), "rationale": s.rationale}
            for s in suggestions
        ],
    }


def _status(message: str) -> Any:
    """A spinner on a terminal's stderr while long work runs; nothing otherwise."""
    import contextlib
    import sys

    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    return console(stderr=True).status(message)


@app.command()
def segment(
    session: SessionOpt = None,
    suggest: Annotated[
        bool, typer.Option("--suggest/--no-suggest", help="Compute suggestions for the new units.")
    ] = True,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Cut sessions into coding units (again), keeping decisions on units whose
    text is unchanged; lists retired units that keep decisions without a successor.

    Example: qualcode segment --session emessi-fi-session1
    """
    from qualcode.segment import UNITS_GIVEN, segment_session
    from qualcode.suggest import suggest_segments
    from qualcode.suggest.workflow import project_options

    with open_project(project) as p:
        store = p.store
        targets = [store.get_session(session)] if session else store.sessions()
        if not targets:
            raise QualcodeError(NO_SESSIONS)
        threshold = project_options(p).threshold
        out: list[dict[str, Any]] = []
        for s in targets:
            # units that are a coder's passages (REFI-QDA selections, coded CSV
            # rows): cut by sentences, their coding would be retired (a source
            # nobody coded has none: it is cut like any other)
            given = store.segments(s.id) if s.source_format in UNITS_GIVEN else []
            if given:
                out.append(
                    {
                        "session": s.name,
                        "units": len(given),
                        "codable": sum(u.codable for u in given),
                        "kept": len(given),
                        "recut": False,
                    }
                )
                continue
            report = segment_session(store, s.id or 0, p)
            # --no-suggest scores nothing: no count to give (null, not 0)
            n_stored = suggest_segments(store, p, session=s.id) if suggest else None
            units, codes = store.suggested_counts(s.id, threshold) if suggest else (None, None)
            out.append(
                {
                    "session": s.name,
                    "units": report.n_units,
                    "codable": report.n_codable,
                    "kept": report.n_kept,
                    "recut": True,
                    "suggestions": n_stored,
                    "suggested_units": units,
                    "suggested_codes": codes,
                    "sentences": report.sentences,
                    "orphaned": [
                        {"segment_id": o.id, "text": o.text, "char_start": o.char_start}
                        for o in report.orphaned
                    ],
                }
            )
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for item in out:
        if not item["recut"]:
            typer.echo(
                f"{item['session']}: {item['units']} units kept as imported (a coder's passages "
                "from a .qdpx or a coded CSV are not cut again)"
            )
            continue
        typer.echo(
            f"{item['session']}: {item['units']} units ({item['codable']} codable), "
            f"decisions kept on {item['kept']}"
            + (
                f", {item['suggested_units']} with a suggested code "
                f"({item['suggested_codes']} codes scoring {threshold:g} or more)"
                if suggest
                else ""
            )
            + f" (sentences: {item['sentences']})"
        )
        for o in item["orphaned"]:
            typer.secho(
                f"  retired with decisions (text changed): #{o['segment_id']} {o['text'][:70]}",
                fg="yellow",
            )
        if item["orphaned"]:
            typer.secho(
                f"  their coding no longer counts; code the new units with `qualcode review "
                f"--session {shlex.quote(item['session'])}`",
                fg="yellow",
            )


@app.command()
def suggest(
    session: SessionOpt = None,
    top: Annotated[int, typer.Option("--top", "-n", help="Suggestions shown per unit.", min=1)] = 3,
    show: Annotated[
        bool, typer.Option("--show/--no-show", help="Print the units with their suggestions.")
    ] = True,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score codable units against the codebook and the trained model, store the
    suggestions and print each unit's best ones with their rationale.

    Example: qualcode suggest --session emessi-fi-session1 --top 2
    """
    from qualcode.suggest import suggest_segments, suggestions_for
    from qualcode.suggest.workflow import project_options

    with open_project(project) as p:
        store = p.store
        if not session and not store.sessions():
            raise QualcodeError(NO_SESSIONS)
        with _status("Scoring units (a new project first learns from the codebook's coded units)"):
            suggest_segments(store, p, session=session)
        sid = store.get_session(session).id if session else None
        threshold = project_options(p).threshold
        n_units, n_codes = store.suggested_counts(sid, threshold)
        units = store.segments(sid, codable_only=True)
        names = {s.id or 0: s.name for s in store.sessions()}
        rows = [(u, suggestions_for(store, u.id or 0)[:top]) for u in units] if show else []
    if as_json and not show:  # stored only: what was stored, not every unit
        summary = {
            "scored": len(units),
            "suggested_units": n_units,
            "suggested_codes": n_codes,
            "threshold": threshold,
        }
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    if as_json:
        payload = [suggestion_json(store, u, sugs, names) for u, sugs in rows]
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if show:
        for u, sugs in rows:
            when = f"[{format_time(u.start)}] " if u.start is not None else ""
            who = f"{u.speaker}: " if u.speaker else ""
            typer.echo(f"#{u.id} {when}{who}{u.text}")
            for s in sugs:
                typer.echo(f"    {s.score:.2f} {s.code_id:<18} {s.rationale}")
    typer.echo(
        f"{len(units)} units scored: {n_units} with a suggested code "
        f"({n_codes} codes scoring {threshold:g} or more, pre-selected in review)"
    )


@app.command()
def train(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """Learn from every coder decision so far and print cross-validated
    precision, recall and F1 per code (suggestions use the new model at once).

    Example: qualcode train
    """
    import time

    from qualcode.suggest import suggest_segments
    from qualcode.suggest import train as train_model

    began = time.perf_counter()
    with open_project(project) as p:
        with _status("Training and cross-validating"):
            report = train_model(p.store, p)
        with _status("Scoring the project's units with the new model"):
            suggest_segments(p.store, p)
    total = time.perf_counter() - began
    if as_json:
        payload = {
            "version": report.version,
            "units": report.n_units,
            "decisions": report.n_decisions,
            "coded_units": report.n_coded_units,
            "seconds": round(report.seconds, 3),
            "micro_f1": None if report.micro_f1 is None else round(report.micro_f1, 4),
            "codes": {code: _quality_json(q) for code, q in report.codes.items()},
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"model {report.version}: learned from {report.n_decisions} decisions on "
        f"{report.n_units} units"
        + (
            f" and the codebook's {report.n_coded_units} coded units"
            if report.n_coded_units
            else ""
        )
        + f" in {report.seconds:.1f} s"
        + f" ({total:.1f} s with cross-validation and scoring every unit again)"
    )
    if not report.codes:
        typer.echo("too few decided units for cross-validation yet")
        return
    typer.echo(f"{'code':<20} {'prec':>6} {'recall':>6} {'F1':>6} {'support':>7}  (3-fold CV)")
    for code, q in report.codes.items():
        # below the classifier's own minimum the numbers measure nothing
        if not q.measured:
            few = "yes" if q.n_positive < 3 else "no"
            typer.echo(
                f"{code:<20} {'–':>6} {'–':>6} {'–':>6} {q.support:7d}  "
                f"(too few '{few}' decisions to measure)"
            )
            continue
        shown = _quality_json(q)  # the JSON's nulls as -
        cells = " ".join(
            f"{'–':>6}" if shown[k] is None else f"{shown[k]:6.3f}"
            for k in ("precision", "recall", "f1")
        )
        typer.echo(f"{code:<20} {cells} {q.support:7d}")
    if report.micro_f1 is not None:
        typer.echo(f"micro-F1 {report.micro_f1:.3f} (over the codes measured)")


def _quality_json(q: Any) -> dict:
    """A code's cross-validated figures; null where they measure nothing
    (too few decisions) or a ratio is undefined (a code never suggested
    has no precision), as in `evaluate --json`."""
    if not q.measured:
        values = {"precision": None, "recall": None, "f1": None}
    else:
        values = {
            "precision": round(q.precision, 4) if q.n_predicted else None,
            "recall": round(q.recall, 4) if q.n_positive else None,
            "f1": round(q.f1, 4) if q.n_predicted or q.n_positive else None,
        }
    return {**values, "support": q.support, "measured": q.measured}


@app.command()
def evaluate(
    gold: Annotated[
        Path, typer.Argument(help="CSV with columns text,codes (+ id,lang,session,speaker).")
    ],
    train_fraction: Annotated[
        float,
        typer.Option(
            "--train-fraction", "-f", help="Share of rows used as decisions (0: codebook only)."
        ),
    ] = 0.0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the train/test split.")] = 0,
    without_coded_units: Annotated[
        bool,
        typer.Option(
            "--without-coded-units",
            help="Leave out the codebook's coded units: keywords and examples alone.",
        ),
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Measure suggestions against hand-coded units: per code precision, recall,
    F1, Cohen's kappa; micro and macro F1. Runs in a temporary store.

    Example: qualcode evaluate tests/data/emessi-holdout.csv --train-fraction 0.5 --seed 1
    """
    from dataclasses import replace

    from qualcode.codebook import project_codebook
    from qualcode.evaluate import evaluate as run_evaluate
    from qualcode.evaluate import iter_report_lines

    if not 0.0 <= train_fraction < 1.0:
        raise QualcodeError(f"--train-fraction {train_fraction}: use a number from 0 to below 1")
    with open_project(project) as p:
        book = project_codebook(p)
        if without_coded_units:
            book = replace(book, coded_units=None)
        report = run_evaluate(gold, book, train_fraction=train_fraction, seed=seed, project=p)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    for line in iter_report_lines(report):
        typer.echo(line)


@app.command("import-coded")
def import_coded(
    file: Annotated[
        Path, typer.Argument(help="CSV with columns text,codes (+ coder,session,speaker,lang).")
    ],
    coder: Annotated[
        str | None, typer.Option("--coder", help="Coder of rows without a coder column.")
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """Import units someone already coded (e.g. earlier hand coding) as
    sessions, units and decisions that the suggestions learn from. Each row
    counts as fully coded by its coder (a unit without a code is a "no" for
    every code). A second coder's file of the same sessions and texts lands
    on the same units, ready for `qualcode agree`.

    Example: qualcode import-coded coded-2023.csv --coder anna
    """
    from qualcode.codebook import project_codebook
    from qualcode.codebook_change import check_in_use
    from qualcode.coded_import import import_coded as run_import
    from qualcode.importer import speakers_note

    with open_project(project) as p:
        book = project_codebook(p)
        check_in_use(p, book)
        report = run_import(p.store, book, file, coder=coder)
    new = "new session" + ("s" if len(report.sessions) > 1 else "")
    into = [f"{new} {', '.join(report.sessions)}"] if report.sessions else []
    if report.attached:
        into.append(f"the units of {', '.join(report.attached)}")
    others = report.attached and report.recoded < report.n_units
    typer.echo(
        f"imported {plural(report.n_units, 'coded unit')} with "
        f"{plural(report.n_decisions, 'decision')} into "
        f"{' and '.join(into)}; run `qualcode train` to learn from them"
        + (", `qualcode agree` to compare the coders" if others else "")
    )
    for name, given in report.renamed.items():
        typer.echo(
            f"session {name} already exists with other unit texts: these rows became "
            f"session {given} (to code the same units, the texts must match)"
        )
    for name, shared in report.shared_speakers.items():
        for line in speakers_note(name, shared):
            typer.echo(line)
    if report.recoded:
        typer.echo(
            f"{report.recoded} of these units were coded before by the same coder: "
            "the file's coding replaced the earlier one (each change is logged)"
        )
