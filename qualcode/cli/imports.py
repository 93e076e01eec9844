"""`qualcode import`: existing transcript files become sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli.apps import JsonOpt, ProjectOpt, app
from qualcode.errors import QualcodeError
from qualcode.formats import IMPORT_FORMATS
from qualcode.project import check_language, open_project

FORMAT_CHOICES = ("auto", *IMPORT_FORMATS)
_FORMATS_HELP = "|".join(IMPORT_FORMATS)


def result_json(r) -> dict:
    """One file's result; the stable shape of `qualcode import --json`."""
    return {
        "path": str(r.path),
        "status": r.status,
        "session": r.session,
        "format": r.format,
        "utterances": r.n_utterances,
        "speakers": r.n_speakers,
        "message": r.message,
        "shared_speakers": r.shared_speakers,
        "warnings": r.warnings,
    }


@app.command("import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(help="Transcript files (.txt .srt .vtt .docx .json .qdpx) or folders."),
    ],
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Session name (one file only).")
    ] = None,
    group: Annotated[
        str | None, typer.Option("--group", "-g", help="Group the sessions belong to.")
    ] = None,
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="auto (by extension) or " + _FORMATS_HELP),
    ] = "auto",
    language: Annotated[
        str | None,
        typer.Option(
            "--language", "-l", help="Language of the sessions (fi, en, ...), if the files lack it."
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Import again files whose content is already imported; with --session of an "
            "existing session, give it this (corrected) transcript, keeping decisions on "
            "unchanged units.",
        ),
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import transcripts as sessions (speakers, times, text), then cut them into
    coding units. Files already imported (same content) are skipped; a bad file
    is reported and the others still import; exit code 1 if any failed.

    Example: qualcode import examples/emessi-fi-session1.txt --group pilot1 --language fi
    Example: qualcode import talk-corrected.txt --session talk --force
    """
    if format not in FORMAT_CHOICES:
        raise QualcodeError(f"--format {format!r}: use one of {', '.join(FORMAT_CHOICES)}")
    from qualcode.importer import import_files, speakers_note

    if language:
        language = check_language(language)
    counts = {"imported": 0, "skipped": 0, "failed": 0}
    results = []
    with open_project(project) as p:
        for r in import_files(
            p, files, session=session, group=group, format=format, force=force, language=language
        ):
            counts[r.status] += 1
            if as_json:
                results.append(result_json(r))
            elif r.status == "imported":
                typer.echo(
                    f"imported {r.session}: {r.n_utterances} utterances, "
                    f"{r.n_speakers} speakers ({r.path})"
                    if r.session is not None
                    else f"imported {r.path}: no sessions in it"
                )
                if r.message:
                    typer.echo(f"  {r.message}")
                for warning in r.warnings:
                    typer.secho(f"  warning: {warning}", err=True, fg="yellow")
                for line in speakers_note(r.session or "", r.shared_speakers):
                    typer.echo(line)
            elif r.status == "skipped":
                typer.echo(f"skipped {r.path}: {r.message}")
            else:
                typer.secho(f"failed: {r.message}", err=True, fg="red")
    summary = ", ".join(f"{n} {status}" for status, n in counts.items())
    if as_json:
        typer.echo(json.dumps({"files": results, "summary": counts}, ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{sum(counts.values())} file(s): {summary}")
    if counts["failed"]:
        raise typer.Exit(1)
