"""The typer apps every command module attaches to, and shared options."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn, cast

import typer

# typer vendors its own click; its Context is the one TyperGroup.invoke takes
from typer.core import TyperGroup, _click

from qualcode.errors import QualcodeError
from qualcode.store import StoreConflict, StoreDamaged, StoreError


def _fail(message: str) -> NoReturn:
    typer.secho(f"Error: {message}", err=True, fg="red")
    raise typer.Exit(1) from None


class QualcodeGroup(TyperGroup):
    """Turns library errors into one red line and exit code 1."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """A mistyped option or argument gets one line, like every other
        error (rich draws a box of four or five around it)."""
        import sys

        call = {
            "args": args,
            "prog_name": prog_name,
            "complete_var": complete_var,
            "windows_expand_args": windows_expand_args,
            **extra,
        }
        if not standalone_mode:
            return super().main(standalone_mode=False, **call)
        try:
            rv = super().main(standalone_mode=False, **call)
        except _click.exceptions.UsageError as e:
            if not e.format_message().strip() and e.ctx is not None:
                # `qualcode` or `qualcode export` alone: the help is the answer
                typer.echo(e.ctx.get_help())
                sys.exit(e.exit_code)
            where = e.ctx.command_path if e.ctx is not None else self._path(args)
            typer.secho(f"Error: {e.format_message()} (see `{where} --help`)", err=True, fg="red")
            sys.exit(e.exit_code)
        except _click.exceptions.ClickException as e:
            typer.secho(f"Error: {e.format_message()}", err=True, fg="red")
            sys.exit(e.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(rv if isinstance(rv, int) else 0)

    def _path(self, args: Sequence[str] | None) -> str:
        """The command a mistyped option belongs to, from the words before
        it (the parser's error has no context to tell): `qualcode report`."""
        import sys

        words = list(sys.argv[1:] if args is None else args)
        path, command = ["qualcode"], cast(_click.Command, self)
        for word in words:
            sub = command.commands.get(word) if isinstance(command, TyperGroup) else None
            if sub is None:
                break
            path.append(word)
            command = sub
        return " ".join(path)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QualcodeError as e:
            _fail(str(e))
        except StoreError as e:
            if "readonly" in str(e) or "unable to open" in str(e):
                _fail(
                    f"the project database (qualcode.db) cannot be written ({e}); qualcode saves "
                    "every answer at once, so qualcode.db and its folder must be writable: check "
                    "their permissions, or whether the disk is mounted read-only"
                )
            _fail(
                f"the project database is not usable ({e}); is another qualcode "
                "holding it, or is the disk full?"
            )
        except StoreConflict as e:
            _fail(
                f"the project database refused a change ({e}): what it refers to changed "
                "meanwhile; if another qualcode command re-imported, re-segmented or changed the "
                "codebook, run this one again; if you edited the codebook file, apply it with "
                "`qualcode codebook use FILE`"
            )
        except StoreDamaged as e:
            _fail(
                f"the project database (qualcode.db) is damaged or not a qualcode database "
                f"({e}); restore it from a backup"
            )
        except BrokenPipeError:
            # the reader of a pipe (`| head`) stopped reading: that is not an
            # error; stdout goes to /dev/null so the interpreter's final flush
            # does not complain either
            import os
            import sys

            with contextlib.suppress(OSError, ValueError, AttributeError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except OSError as e:
            # an output folder that does not exist, a file where a folder should
            # be, no permission: the path and the reason, not a traceback
            where = e.filename or ""
            _fail(
                f"{where}: {e.strerror or e}; check the path (does its folder exist, may you "
                "read and write there?)"
                if where
                else str(e)
            )


def plural(n: int, word: str) -> str:
    """``1 unit``, ``2 units``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def output_file(out: Path | None) -> Path | None:
    """``--out FILE``, or None for standard output: ``--out -`` means what
    leaving ``--out`` out means."""
    return None if out is None or str(out) == "-" else out


# what a file name says it holds, beyond the transcript names qualcode reads
# (``qualcode.formats.EXTENSIONS``); a name for a format the command does not
# write is refused, not filled with text of another format
_OTHER_SUFFIXES = {
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".md": "md",
    ".doc": "doc",
    ".odt": "odt",
    ".rtf": "rtf",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".xls": "xls",
    ".ods": "ods",
    ".tsv": "tsv",
}


def output_format(fmt: str | None, out: Path | None, allowed: tuple[str, ...], default: str) -> str:
    """The format to write: ``--format``, else the ``--out`` file's
    extension, else ``default``. A file named for one format but written in
    another (CSV text in ``units.xlsx``) is refused: Excel would not open it."""
    from qualcode.errors import QualcodeError

    files = [f for f in allowed if f != "table"]
    target = output_file(out)
    from qualcode.formats import EXTENSIONS  # here: `qualcode --help` does not need it

    suffix = target.suffix.lower() if target is not None else ""
    named = EXTENSIONS.get(suffix) or _OTHER_SUFFIXES.get(suffix)
    if fmt is None:
        if target is None:
            return default
        if named is not None and named not in allowed:
            raise QualcodeError(
                f"{target}: this command writes {' or '.join(files)}, not {named}; give a name "
                "ending in " + " or ".join(f".{f}" for f in files)
            )
        if named is None:
            raise QualcodeError(
                f"{target}: cannot tell the format from the file name; give --format "
                f"({', '.join(files)}) or a name ending in " + ", ".join(f".{f}" for f in files)
            )
        return named
    if fmt not in allowed:
        raise QualcodeError(f"unknown --format {fmt!r}; use one of {', '.join(allowed)}")
    if target is not None and fmt == "table":
        if named is None or named not in allowed:
            raise QualcodeError(
                f"--out {target}: a table is for the terminal; give --format ({', '.join(files)})"
            )
        return named
    # a .txt holds any text format asked for by name (--format md --out r.txt)
    if named is not None and named != fmt and not (named == "txt" and fmt != "xlsx"):
        # advice the command can follow: a --format it does not write is none
        advice = (
            f"use --format {named} or a .{fmt} name" if named in allowed else f"use a .{fmt} name"
        )
        raise QualcodeError(f"--out {target} is named for {named} but --format is {fmt}; {advice}")
    return fmt


# a table printed to a file or a pipe: wide enough not to wrap code labels
# (rich assumes 80 columns when there is no terminal to ask)
PIPE_WIDTH = 160


def console(stderr: bool = False) -> Any:
    """A rich Console for command output; wider than 80 columns when the
    output is not a terminal and $COLUMNS does not say otherwise."""
    import os

    from rich.console import Console

    out = Console(stderr=stderr)
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out = Console(stderr=stderr, width=PIPE_WIDTH)
    return out


def _typer(help: str, **kw: Any) -> typer.Typer:
    return typer.Typer(
        cls=QualcodeGroup,
        help=help,
        no_args_is_help=kw.pop("no_args_is_help", True),
        add_completion=False,
        rich_markup_mode="markdown",
        pretty_exceptions_enable=False,
        **kw,
    )


app = _typer(
    "qualcode: transcribe group sessions locally, code them with suggestions that learn, "
    "review, measure agreement and export theme counts and REFI-QDA projects."
)
codebook_app = _typer("Validate, show and change the project's codebook.")
speakers_app = _typer(
    "List, rename and describe speakers (participants).",
    invoke_without_command=True,
    no_args_is_help=False,
)
export_app = _typer("Export transcripts, coded units, codebooks and REFI-QDA projects.")
models_app = _typer("List and install Whisper models (offline first).")
report_app = _typer(
    "Theme counts, cross-tables and co-occurrence.",
    invoke_without_command=True,
    no_args_is_help=False,
)

app.add_typer(codebook_app, name="codebook")
app.add_typer(speakers_app, name="speakers")
app.add_typer(export_app, name="export")
app.add_typer(models_app, name="models")
app.add_typer(report_app, name="report")

ProjectOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-P",
        help="Project directory (default: $QUALCODE_PROJECT or the nearest qualcode.yaml upwards).",
        file_okay=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/json.md).")]
