"""`qualcode export qdpx`, `qualcode export codebook` and `qualcode codebook
import`: REFI-QDA exchange with NVivo, ATLAS.ti, MAXQDA and QualCoder.
(`qualcode import FILE.qdpx` lives with the other imports.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli.apps import JsonOpt, ProjectOpt, codebook_app, export_app
from qualcode.errors import QualcodeError
from qualcode.project import open_project


def _suffix(path: Path, *allowed: str) -> None:
    if path.suffix.lower() not in allowed:
        raise QualcodeError(f"{path}: expected a {' or '.join(allowed)} file name")


@export_app.command("qdpx")
def export_qdpx_cmd(
    out: Annotated[Path, typer.Argument(help="The .qdpx file to write.", dir_okay=False)],
    coder: Annotated[
        str | None, typer.Option("--coder", help="Only this coder's codings (default: all).")
    ] = None,
    pseudonymize: Annotated[
        bool,
        typer.Option(
            "--pseudonymize", help="Speakers become P1..Pn; names, e-mails, phones masked."
        ),
    ] = False,
    no_media: Annotated[
        bool, typer.Option("--no-media", help="Leave out audio/video sources.")
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the project as a REFI-QDA project (QDA-XML 1.0) for NVivo,
    ATLAS.ti, MAXQDA or QualCoder: codebook, coders, session transcripts,
    coded units, speakers as cases with attributes, memos as notes.

    --json prints {"path", "sessions", "codes", "selections", "codings",
    "users", "cases", "notes", "uncoded"}.

    Example: qualcode export qdpx study.qdpx --pseudonymize
    """
    from qualcode.exchange import ExportOptions, export_qdpx

    _suffix(out, ".qdpx")
    from qualcode.project import normal_name

    options = ExportOptions(
        coder=normal_name(coder) if coder else None, pseudonymize=pseudonymize, media=not no_media
    )
    with open_project(project) as p:
        counts = export_qdpx(p, out, options)
    if as_json:
        typer.echo(json.dumps({"path": str(out), **counts}, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"Wrote {out}: {counts['sessions']} session(s), {counts['codes']} code(s), "
        f"{counts['codings']} coding(s) on {counts['selections']} unit(s), "
        f"{counts['users']} coder(s), {counts['cases']} case(s), {counts['notes']} note(s)."
    )
    if counts["uncoded"]:
        typer.echo(
            f"Not in the file: {counts['uncoded']} unit(s) a coder coded with no code "
            "(REFI-QDA has no 'no code'), so agreement and reconciled counts computed "
            "from it will differ from this project's."
        )


@export_app.command("codebook")
def export_codebook_cmd(
    out: Annotated[Path, typer.Argument(help="The .qdc file to write.", dir_okay=False)],
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the project's codes as a REFI-QDA codebook (.qdc).

    --json prints {"path", "codes"}.

    Example: qualcode export codebook emessi.qdc
    """
    from qualcode.exchange import export_codebook_qdc

    _suffix(out, ".qdc")
    with open_project(project) as p:
        n = export_codebook_qdc(p, out)
    if as_json:
        typer.echo(json.dumps({"path": str(out), "codes": n}))
        return
    typer.echo(f"Wrote {out}: {n} code(s).")


@codebook_app.command("import")
def import_codebook_cmd(
    source: Annotated[
        Path, typer.Argument(help="A REFI-QDA codebook (.qdc) or project (.qdpx, .qde).")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where to write the YAML, a new file (default codebooks/NAME.yaml, or "
            "NAME-2.yaml... if taken).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Say what the import would change; write nothing."),
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Convert a codebook made in another QDA tool to a qualcode codebook YAML
    (ids from the names, labels, descriptions, colours, hierarchy) and switch
    the project to it like `qualcode codebook use`.

    --json prints {"yaml": PATH, "change": <as `codebook use --json`>}.

    Example: qualcode codebook import themes.qdc --out codebooks/themes.yaml
    """
    from qualcode.cli.codebook import change_json, describe_change
    from qualcode.exchange import import_codebook

    _suffix(source, ".qdc", ".qdpx", ".qde")
    with open_project(project) as p:
        target, change = import_codebook(p, source, out, dry_run=dry_run)
    if as_json:
        typer.echo(
            json.dumps({"yaml": str(target), "change": change_json(change)}, ensure_ascii=False)
        )
        return
    typer.echo(f"Would write {target}." if dry_run else f"Wrote {target}.")
    for line in describe_change(change):
        typer.echo(line)
