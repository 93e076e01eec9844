"""`qualcode sessions`, `qualcode speakers ...` and `qualcode show`."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from qualcode.cli.apps import JsonOpt, ProjectOpt, app, console, speakers_app
from qualcode.errors import QualcodeError
from qualcode.project import has_control_characters, open_project
from qualcode.transcript import format_time, rename_speaker


def session_json(s) -> dict:
    return {
        "name": s.name,
        "group": s.group,
        "recorded_at": s.recorded_at,
        "language": s.language,
        "duration": s.duration,
        "utterances": s.n_utterances,
        "speakers": s.n_speakers,
        "source": s.source_path,
        "source_format": s.source_format,
        "media": s.media_path,
        "settings": s.settings,
    }


def speaker_json(x) -> dict:
    return {
        "name": x.name,
        "utterances": x.n_utterances,
        "sessions": x.sessions,
        "attributes": x.attributes,
    }


@app.command()
def sessions(project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List sessions with group, duration, utterance and speaker counts.

    Example: qualcode sessions --json
    """
    from rich.table import Table

    with open_project(project) as p:
        items = p.store.sessions()
    if as_json:
        typer.echo(json.dumps([session_json(s) for s in items], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(items)} session(s)")
    for col in ("session", "group", "language", "duration", "utterances", "speakers", "source"):
        table.add_column(col, justify="right" if col in ("utterances", "speakers") else "left")
    for s in items:
        table.add_row(
            s.name,
            s.group or "",
            s.language or "",
            format_time(s.duration) if s.duration else "",
            str(s.n_utterances),
            str(s.n_speakers),
            s.source_format or "",
        )
    console().print(table)


@speakers_app.callback()
def speakers(ctx: typer.Context, project: ProjectOpt = None, as_json: JsonOpt = False) -> None:
    """List speakers with their attributes, sessions and utterance counts.

    Example: qualcode speakers --json
    """
    if ctx.invoked_subcommand is not None:
        ctx.obj = {"project": project}
        return
    from rich.table import Table

    with open_project(project) as p:
        people = p.store.participants()
    if as_json:
        typer.echo(json.dumps([speaker_json(x) for x in people], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(people)} speaker(s)")
    for col in ("speaker", "utterances", "sessions", "attributes"):
        table.add_column(col)
    for x in people:
        table.add_row(
            x.name,
            str(x.n_utterances),
            ", ".join(x.sessions),
            " ".join(f"{k}={v}" for k, v in x.attributes.items()),
        )
    console().print(table)


def _project(ctx: typer.Context, project):
    return project or (ctx.obj or {}).get("project")


@speakers_app.command("rename")
def speakers_rename(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="Current speaker name, e.g. SPEAKER_1.")],
    new: Annotated[str, typer.Argument(help="New name.")],
    merge: Annotated[
        bool,
        typer.Option(
            "--merge", help="NEW already exists and is the same person: make them one speaker."
        ),
    ] = False,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            "-s",
            help="Only OLD's turns in this session (two people who share a name).",
        ),
    ] = None,
    project: ProjectOpt = None,
) -> None:
    """Rename a speaker everywhere; with --merge, into a speaker NEW that
    already exists (the same person in another recording); with --session,
    only in that session (another person of the same name).

    Example: qualcode speakers rename SPEAKER_3 Aino --merge
    Example: qualcode speakers rename Sanna "Sanna K" --session ryhma2-tapaaminen1
    """
    if has_control_characters(new):
        raise QualcodeError(f"speaker name {new!r} contains a control character; retype it")
    if ":" in new:
        # every transcript line is "Name: text"; a colon in the name reads
        # back as a shorter name and text that starts with the rest
        raise QualcodeError(f"speaker name {new!r} contains ':'; use a name without it")
    with open_project(_project(ctx, project)) as p:
        kept: list[str] = []
        if merge and any(q.name == new for q in p.store.participants()):
            mine, theirs = p.store.get_participant(old), p.store.get_participant(new)
            kept = [
                f"{k}={v} (not {mine.attributes[k]})"
                for k, v in theirs.attributes.items()
                if k in mine.attributes and mine.attributes[k] != v
            ]
        sid = p.store.get_session(session).id if session is not None else None
        merged = rename_speaker(p.store, old, new, merge=merge, session_id=sid)
        bare = not p.store.get_participant(new).attributes
    if session is not None:
        typer.echo(
            f"{old!r} in {session} is now {new!r}"
            + (" (an existing speaker)" if merged else "")
            + (f"; describe them with `qualcode speakers set {new!r} KEY=VALUE`" if bare else "")
        )
        return
    typer.echo(f"Merged {old!r} into {new!r}" if merged else f"Renamed {old!r} to {new!r}")
    if kept:
        typer.echo(f"{new!r} keeps its own " + ", ".join(kept))


@speakers_app.command("set")
def speakers_set(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Speaker name.")],
    attributes: Annotated[
        list[str], typer.Argument(help="key=value pairs; key= (empty) removes the attribute.")
    ],
    project: ProjectOpt = None,
) -> None:
    """Set attributes that reports cross-tabulate (sector, workplace size, ...).

    Example: qualcode speakers set Aino sector=ngo workplace_size=1
    """
    parsed: dict[str, str | None] = {}
    for item in attributes:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise QualcodeError(f"{item!r}: attributes are written key=value, e.g. sector=ngo")
        value = value.strip()
        # a stray escape from the terminal would end up in every report and
        # break the Excel exports; repr shows it without acting on it
        for what, text in (("key", key), ("value", value)):
            if has_control_characters(text):
                raise QualcodeError(
                    f"speaker attribute {what} {text!r} contains a control character; retype it"
                )
        parsed[key] = value or None
    with open_project(_project(ctx, project)) as p:
        p.store.set_attributes(name, parsed)
        person = p.store.get_participant(name)
    shown = " ".join(f"{k}={v}" for k, v in person.attributes.items()) or "(none)"
    typer.echo(f"{name}: {shown}")


@app.command()
def show(
    session: Annotated[str, typer.Argument(help="Session name (see `qualcode sessions`).")],
    project: ProjectOpt = None,
    pager: Annotated[
        bool | None,
        typer.Option("--pager/--no-pager", help="Page long sessions (default: when a terminal)."),
    ] = None,
) -> None:
    """Print a session's transcript with speakers and times.

    Example: qualcode show emessi-fi-session1
    """
    import sys

    from rich.console import Console
    from rich.text import Text

    with open_project(project) as p:
        s = p.store.get_session(session)
        utterances = p.store.utterances(s.id or 0)
    console = Console()
    use_pager = pager if pager is not None else (sys.stdout.isatty() and len(utterances) > 40)
    lines = [
        Text(
            f"{s.name}  ({s.group or 'no group'}, {s.language or '?'}, "
            f"{len(utterances)} utterances)",
            style="bold",
        )
    ]
    for u in utterances:
        line = Text()
        if u.start is not None:
            line.append(f"[{format_time(u.start)}] ", style="dim")
        if u.speaker:
            line.append(f"{u.speaker}: ", style="bold cyan")
        line.append(u.text)
        lines.append(line)
    if use_pager:
        with console.pager(styles=True):
            for line in lines:
                console.print(line)
    else:
        for line in lines:
            console.print(line)
