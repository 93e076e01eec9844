"""`qualcode init`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli.apps import app


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new project.", file_okay=False)],
    codebook: Annotated[
        str,
        typer.Option(help="A shipped codebook (emessi, wellbeing) or a path to a codebook YAML."),
    ] = "emessi",
    language: Annotated[
        str, typer.Option(help="Default language of the sessions: fi, en, ... or auto.")
    ] = "auto",
    name: Annotated[str | None, typer.Option(help="Project name (default: folder name).")] = None,
) -> None:
    """Create a project: DIR/qualcode.yaml and DIR/qualcode.db.

    Example: qualcode init ~/research/emessi --codebook emessi --language fi
    """
    from qualcode.project import init_project

    with init_project(directory, codebook=codebook, language=language, name=name) as project:
        n = len(project.store.codes())
        typer.echo(
            f"Created project {project.config.name!r} in {project.root} "
            f"(codebook {project.config.codebook}, {n} codes, language {language})"
        )
