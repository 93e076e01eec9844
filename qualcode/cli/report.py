"""`qualcode report [cooccurrence]`, `qualcode agree` and `qualcode export units`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from qualcode.cli.apps import (
    JsonOpt,
    ProjectOpt,
    app,
    console,
    export_app,
    output_file,
    output_format,
    report_app,
)
from qualcode.errors import QualcodeError
from qualcode.project import normal_language, open_project

CoderOpt = Annotated[
    str | None,
    typer.Option(
        "--coder",
        help="Count one coder's decisions (default: the reconciled view, see docs/reports.md).",
    ),
]
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        "-f",
        help="table (terminal), csv, json, md or xlsx [default: from --out's name, else table].",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write to FILE (needed for xlsx).", dir_okay=False),
]


def _print_rows(title: str, header: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(header):
        values = [r[i] for r in rows if r[i] not in (None, "")]
        numeric = bool(values) and all(
            isinstance(v, int | float) or str(v).replace(".", "", 1).lstrip("-").isdigit()
            for v in values
        )
        # the first column names the row (a code id): never cut it
        table.add_column(col, justify="right" if numeric else "left", no_wrap=i == 0)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console().print(table)


def _emit(obj: Any, fmt: str, out: Path | None, title: str, table: tuple) -> None:
    from qualcode import report as rep

    if fmt == "table":
        _print_rows(title, *table)
        return
    out = output_file(out)
    text = rep.write(obj, fmt, out)
    if out is not None:
        typer.echo(f"Wrote {out}", err=True)
    elif text is not None:
        typer.echo(text, nl=False)


@report_app.callback()
def report(
    ctx: typer.Context,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Cross-table: session, group, speaker or a speaker attribute."),
    ] = None,
    coder: CoderOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also draw FILE.png|.svg: bars, or a heatmap with --by."),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            "-l",
            help="Language of the code labels (default: the project's language, when the "
            "codebook has labels in it; else English).",
        ),
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """Theme counts per code: units, share of codable units, sessions, speakers
    and coded minutes; with --by a cross-table with row and column percents.

    Example: qualcode report --by sector --format xlsx --out counts.xlsx --chart counts.png
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"project": project, "coder": coder, "format": fmt, "out": out}
        return
    from qualcode import report as rep

    fmt = output_format(fmt, out, rep.FORMATS, "table")
    if chart is not None:
        from qualcode.charts import check_path

        check_path(chart)  # before the table is printed, not after
    with open_project(project) as p:
        view = rep.decision_view(p.store, p.config.lead_coder, coder)
        lang = _label_language(p, lang)
        obj: Any
        if by is None:
            obj = rep.build_report(p.store, view, lang=lang)
            title = f"Theme counts: {obj.view}, {obj.codable_units} codable units" + (
                f" ({obj.coded_units} coded so far: share_pct is of all codable units)"
                if obj.coded_units < obj.codable_units
                else ""
            )
            header, rows = rep.report_table(obj)
            # the terminal shows the hierarchy by indentation instead of a parent column
            table = (
                [h for h in header if h != "parent"],
                [
                    [
                        "  " * r.depth + row[0] + ("" if r.active else " (inactive)"),
                        *row[1:2],
                        *row[3:],
                    ]
                    for r, row in zip(obj.rows, rows, strict=True)
                ],
            )
        else:
            obj = rep.build_crosstab(p.store, view, by, lang)
            title = f"Codes by {obj.by}: units (% of the {obj.by}'s units), {obj.view}"
            table = rep.crosstab_wide(obj)
    _emit(obj, fmt, out, title, table)
    rows = obj.rows if by is None else obj.codes
    if not any(r.units for r in rows):
        # all zeros reads like a finding; it is only that nothing is coded yet
        typer.echo(
            "No coded units in this view yet: code with `qualcode review`, or bring earlier "
            "coding in with `qualcode import-coded`",
            err=True,
        )
    if chart is not None:
        from qualcode import charts

        if by is None:
            charts.bar_chart(obj, chart)
        else:
            charts.heatmap(obj, chart)
        typer.echo(f"Wrote {chart}", err=True)


def _label_language(p: Any, lang: str | None) -> str | None:
    """The language of the labels in a report: the one asked for (which the
    codebook must have), else the project's when the codebook has it."""
    have = sorted({k for c in p.store.codes(include_inactive=True) for k in c.labels})
    if lang is not None:
        given = lang
        lang = normal_language(lang)
        if lang not in have:
            lang = lang.partition("-")[0]  # fi-FI: the codebook's fi
        if lang not in have:
            lang = given
            raise QualcodeError(
                f"--lang {lang}: the codebook has labels in {', '.join(have) or 'no language'}"
            )
        return lang
    return p.config.language if p.config.language in have else None


@report_app.command("cooccurrence")
def cooccurrence(
    ctx: typer.Context,
    coder: CoderOpt = None,
    fmt: FormatOpt = None,
    out: OutOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Pairs of codes applied to the same units: count and Jaccard coefficient
    (= ATLAS.ti's c-coefficient: both / (a + b - both)).

    Example: qualcode report cooccurrence --format csv --out cooc.csv
    """
    from qualcode import report as rep

    parent = ctx.obj or {}
    project = project or parent.get("project")
    coder = coder or parent.get("coder")
    fmt = fmt or parent.get("format")
    out = out or parent.get("out")
    fmt = output_format(fmt, out, rep.FORMATS, "table")
    with open_project(project) as p:
        view = rep.decision_view(p.store, p.config.lead_coder, coder)
        pairs = rep.build_cooccurrence(p.store, view)
    _emit(pairs, fmt, out, f"Co-occurrence ({rep.view_name(view)})", rep.cooccurrence_table(pairs))


def _fmt(x: float | None, digits: int = 3) -> str:
    return "" if x is None else f"{x:.{digits}f}"


@app.command()
def agree(
    coders: Annotated[
        list[str] | None,
        typer.Option("--coders", help="Coders to compare: --coders A B [C ...]."),
    ] = None,
    more: Annotated[
        list[str] | None, typer.Argument(help="More coders.", show_default=False)
    ] = None,
    against_model: Annotated[
        bool,
        typer.Option("--against-model", help="Compare the model's suggestions with one coder."),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            help="With --against-model: suggestion score that counts as applied "
            "[default: the project's suggest.threshold, 0.5].",
            show_default=False,
        ),
    ] = None,
    show_disagreements: Annotated[
        bool, typer.Option("--show-disagreements", help="List the units the coders disagree on.")
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Agreement on the units every coder coded: per code and overall percent
    agreement, Cohen's kappa (two coders) and Krippendorff's alpha (nominal).

    Example: qualcode agree --coders anna ben --show-disagreements
    """
    from qualcode.agree import compute_agreement
    from qualcode.project import normal_name

    names = [normal_name(n) for c in [*(coders or []), *(more or [])] for n in c.split(",") if n]
    if not names:
        raise QualcodeError(
            "name the coder to compare the model with: --coders A --against-model"
            if against_model
            else "name the coders to compare: --coders A B [C ...]"
        )
    if threshold is not None and not against_model:
        raise QualcodeError(
            "--threshold applies to the model's suggestions; use it with --against-model"
        )
    with open_project(project) as p:
        if threshold is None:
            from qualcode.suggest.workflow import project_options

            threshold = project_options(p).threshold
        result = compute_agreement(
            p.store,
            names,
            against_model=against_model,
            threshold=threshold,
            with_disagreements=show_disagreements or as_json,
        )
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False, indent=2))
        return
    header = [
        "code",
        "units",
        *[f"applied:{c}" for c in result.coders],
        "agree %",
        "kappa",
        "alpha",
    ]
    rows: list[list[Any]] = [
        [
            c.code_id,
            c.units,
            *[c.applied[x] for x in result.coders],
            _fmt(c.percent, 1),
            _fmt(c.kappa),
            _fmt(c.alpha),
        ]
        for c in result.codes
    ]
    rows.append(
        [
            "OVERALL",
            result.units,
            *[""] * len(result.coders),
            _fmt(result.percent, 1),
            _fmt(result.kappa),
            _fmt(result.alpha),
        ]
    )
    if len(result.coders) > 2:  # Cohen's kappa is for two coders; alpha covers more
        k = header.index("kappa")
        header = header[:k] + header[k + 1 :]
        rows = [r[:k] + r[k + 1 :] for r in rows]
    _print_rows(f"Agreement: {' vs '.join(result.coders)} on {result.units} units", header, rows)
    if show_disagreements:
        _print_rows(
            f"{len(result.disagreements)} disagreement(s)",
            ["session", "unit", "speaker", "code", "applied by", "not by", "text"],
            [
                [
                    d.session,
                    f"#{d.segment_id}",  # the number review and suggest show
                    d.speaker,
                    d.code_id,
                    ",".join(d.applied_by),
                    ",".join(d.not_applied_by),
                    d.text[:80],
                ]
                for d in result.disagreements
            ],
        )


@export_app.command("units")
def export_units(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="File to write (- prints csv).", dir_okay=False)
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv or xlsx [default: from --out's name, else csv]."),
    ] = None,
    coder: CoderOpt = None,
    pseudonymize: Annotated[
        bool,
        typer.Option("--pseudonymize", help="Speakers as P1..Pn; names, e-mails, phones masked."),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", "-l", help="Language of the labels (default: the project's)."),
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """One row per coded (unit, code): session, group, speaker, attributes,
    start, end, text, code, label and coders; tidy data for R, SPSS, Excel.

    Example: qualcode export units --format xlsx --out units.xlsx --pseudonymize
    """
    from qualcode import report as rep
    from qualcode.unit_export import export_units

    fmt = output_format(fmt, out, ("csv", "xlsx"), "csv")
    to = output_file(out)
    with open_project(project) as p:
        view = rep.decision_view(p.store, p.config.lead_coder, coder)
        n = export_units(
            p.store, view, to, fmt, pseudonymize=pseudonymize, lang=_label_language(p, lang)
        )
    typer.echo(f"Wrote {n} coded unit row(s) to {out}", err=to is None)
