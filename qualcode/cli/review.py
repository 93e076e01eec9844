"""`qualcode review`: the coder's review loop (Textual UI or --plain prompts)."""

from __future__ import annotations

from typing import Annotated

import typer

from qualcode.cli.apps import ProjectOpt, app
from qualcode.errors import QualcodeError
from qualcode.project import open_project


@app.command()
def review(
    coder: Annotated[
        str | None,
        typer.Option(
            "--coder", help="Whose decisions (default: `coder` in qualcode.yaml, else the OS user)."
        ),
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", "-s", help="Only this session.")
    ] = None,
    code: Annotated[
        str | None, typer.Option("--code", help="Only units suggested or coded with this code id.")
    ] = None,
    order: Annotated[
        str, typer.Option("--order", help="uncertain (most informative first) or chronological.")
    ] = "uncertain",
    unreviewed: Annotated[
        bool,
        typer.Option(
            "--unreviewed/--all", help="Only units you have not reviewed, or all of them."
        ),
    ] = True,
    disagreements: Annotated[
        bool,
        typer.Option(
            "--disagreements",
            help="Only units you reviewed where your codes differ from the model's.",
        ),
    ] = False,
    plain: Annotated[
        bool,
        typer.Option(
            "--plain", help="Line prompts instead of the full-screen UI (screen readers)."
        ),
    ] = False,
    project: ProjectOpt = None,
) -> None:
    """Review suggested codes unit by unit: accept, reject, add codes, fix text,
    write memos. Every decision is saved at once; reopening resumes at the
    first unit you have not reviewed.

    Example: qualcode review --coder anna --session emessi-fi-session1
    """
    from qualcode.review import ReviewOptions, ReviewSession

    if order not in ("uncertain", "chronological"):
        raise QualcodeError(f"--order {order!r}: use uncertain or chronological")
    if not plain and not _terminal():
        # the full-screen UI on a pipe spins drawing escape codes nobody sees
        raise QualcodeError(
            "the review screen needs a terminal; use `qualcode review --plain` to review "
            "through standard input (scripts, screen readers)"
        )
    with open_project(project) as p:
        if not p.store.segments(codable_only=True):
            todo = (
                "cut its sessions into units with `qualcode segment`"
                if p.store.sessions()
                else "add sessions with `qualcode import FILE` or `qualcode transcribe RECORDING`"
            )
            raise QualcodeError(f"{p.root}: no coding units to review; {todo}")
        if p.codebook_path is not None:
            from qualcode.codebook import project_codebook
            from qualcode.codebook_change import check_in_use

            # the screen would offer codes the store does not know
            check_in_use(p, project_codebook(p))
        from qualcode.suggest import suggest_unscored

        # units imported but never suggested: score them first, so no unit is
        # shown without the model's proposal
        scored = suggest_unscored(p.store, p, session)
        if scored:
            typer.echo(f"scored {scored} units that had no suggestions yet", err=True)
        options = ReviewOptions(
            coder=p.coder(coder),
            session=session,
            code=code,
            order=order,
            only_unreviewed=unreviewed,
            disagreements=disagreements,
        )
        rs = ReviewSession(p.store, p, options)
        if plain:
            from qualcode.plain_review import run_plain

            run_plain(rs)
        else:
            from qualcode.tui.app import ReviewApp

            ReviewApp(rs).run()
        rs.wait_for_retraining(timeout=60)
        progress = rs.progress()
        default_coder = p.default_coder()
    typer.echo(
        f"{options.coder}: {progress.reviewed}/{progress.total} units reviewed; "
        f"everything is saved. Resume with `{_resume(options, default_coder, plain)}`."
    )


def _terminal() -> bool:
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def _resume(options, default_coder: str, plain: bool) -> str:
    """The command that reopens this review: the same coder (a resume as the
    OS user would start someone else's review) and the same selection."""
    import shlex

    words = ["qualcode", "review"]
    for flag, value in (
        ("--coder", options.coder if options.coder != default_coder else None),
        ("--session", options.session),
        ("--code", options.code),
        ("--order", options.order if options.order != "uncertain" else None),
    ):
        if value:
            words += [flag, shlex.quote(value)]
    if not options.only_unreviewed:
        words.append("--all")
    if options.disagreements:
        words.append("--disagreements")
    if plain:
        words.append("--plain")
    return " ".join(words)
