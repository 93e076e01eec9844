"""`qualcode codebook validate | show | use`.

Thin wrappers over ``qualcode.codebook``: the checking, loading and version
switching live in the library so the review UI and exports can reuse them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli.apps import JsonOpt, ProjectOpt, codebook_app, console
from qualcode.codebook import (
    Codebook,
    CodebookCode,
    load_codebook,
    project_codebook,
    validate_codebook,
)
from qualcode.codebook_change import CodebookChange, use_codebook
from qualcode.errors import QualcodeError
from qualcode.project import normal_language, open_project

LangOpt = Annotated[
    str | None,
    typer.Option("--lang", help="Language of labels and counts (default: the project's, else en)."),
]


def code_json(code: CodebookCode) -> dict:
    """One code of `codebook show --json` (documented in docs/codebook.md)."""
    return {
        "id": code.id,
        "parent_id": code.parent_id,
        "label": code.label,
        "description": code.description,
        "color": code.color,
        "keywords": code.keywords,
        "examples": code.examples,
        "children": [code_json(c) for c in code.children],
    }


def codebook_json(book: Codebook, inactive: list[dict] | None = None) -> dict:
    return {
        "name": book.name,
        "version": book.version,
        "languages": book.languages,
        "path": str(Path(book.path).resolve()) if book.path else None,
        "description": book.description,
        "coded_units": str(book.coded_units) if book.coded_units else None,
        "codes": [code_json(c) for c in book.codes],
        "inactive": inactive or [],
    }


def change_json(change: CodebookChange) -> dict:
    return {
        "codebook": change.codebook,
        "version": change.version,
        "path": change.path,
        "applied": change.applied,
        "added": change.added,
        "removed": change.removed,
        "restored": change.restored,
        "relabelled": change.relabelled,
        "moved": change.moved,
        "renamed": [list(pair) for pair in change.renamed],
        "notes": change.notes,
    }


@codebook_app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Codebook YAML file(s) to check.")],
) -> None:
    """Check codebook files; print every problem as `path:line: message`.

    Exits 1 if any file has a problem.

    Example: qualcode codebook validate codebooks/emessi.yaml
    """
    failed = 0
    for path in paths:
        problems = validate_codebook(path)
        if problems:
            failed += 1
            for p in problems:
                typer.echo(str(p))
            continue
        book = load_codebook(path)
        n = sum(1 for _ in book.iter_codes())
        typer.echo(f"OK: {n} codes ({path}: {book.name} version {book.version})")
    if failed:
        if len(paths) > 1:
            typer.secho(f"{failed} of {len(paths)} codebooks have problems", err=True, fg="red")
        raise typer.Exit(1)


@codebook_app.command()
def show(
    path: Annotated[
        Path | None,
        typer.Argument(help="A codebook file to show instead of the project's codebook."),
    ] = None,
    lang: LangOpt = None,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the codebook tree: colours, labels, keyword and example counts.

    Without PATH, shows the project's codebook and the codes kept inactive
    from earlier versions (with their number of decisions).

    Example: qualcode codebook show --lang fi
    """
    inactive: list[dict] = []
    default_lang = None
    if path is not None:
        book = load_codebook(path)
    else:
        with open_project(project) as p:
            book = project_codebook(p)
            default_lang = p.config.language
            uses = p.store.code_ids_in_use()
            inactive = [
                {"id": c.id, "label": c.labels or {"*": c.label}, "decisions": uses.get(c.id, 0)}
                for c in p.store.codes(include_inactive=True)
                if not c.active
            ]
    if as_json:
        typer.echo(json.dumps(codebook_json(book, inactive), ensure_ascii=False, indent=2))
        return
    if lang is not None:
        given, lang = lang, normal_language(lang)
        if lang not in book.languages:
            # as report --lang: a silent fallback shows the wrong language's labels
            raise QualcodeError(
                f"--lang {given}: the codebook has labels in {', '.join(book.languages)}"
            )
    chosen = next(
        (x for x in (lang, default_lang, "en") if x and x in book.languages), book.languages[0]
    )
    _print_tree(book, chosen, inactive)


def _print_tree(book: Codebook, lang: str, inactive: list[dict]) -> None:
    from rich.markup import escape
    from rich.tree import Tree

    n = sum(1 for _ in book.iter_codes())
    units = f" · coded units: {escape(book.coded_units.name)}" if book.coded_units else ""
    tree = Tree(
        f"[bold]{escape(book.name)}[/] version {escape(book.version)} · {n} codes · "
        f"languages {', '.join(book.languages)} · {escape(str(book.path))}{units}"
    )

    def add(parent: Tree, code: CodebookCode) -> None:
        swatch = f"[{code.color}]■[/]" if code.color else " "
        counts = ""
        if code.keywords or code.examples:
            counts = (
                f" [dim]· {len(code.keywords.get(lang, []))} keywords"
                f" · {len(code.examples.get(lang, []))} examples[/]"
            )
        node = parent.add(
            f"{swatch} [bold]{escape(code.label_for(lang))}[/] [dim]({code.id})[/]{counts}"
        )
        for child in code.children:
            add(node, child)

    for code in book.codes:
        add(tree, code)
    if inactive:
        kept = tree.add("[dim]inactive (kept from earlier versions with their decisions)[/]")
        for c in inactive:
            label = c["label"].get(lang) or next(iter(c["label"].values()), c["id"])
            n = c["decisions"]
            kept.add(f"[dim]{escape(label)} ({c['id']}) · {n} decision{'s' if n != 1 else ''}[/]")
    console().print(tree)


@codebook_app.command()
def use(
    path: Annotated[Path, typer.Argument(help="The new codebook YAML (or a new version).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would change.")
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Switch the project to a new codebook (version) without losing decisions.

    Codes missing from the new file stay in the project, inactive, with all
    their decisions; added, removed, likely renamed and relabelled codes are
    reported.

    Example: qualcode codebook use codebooks/emessi-v2.yaml --dry-run
    """
    with open_project(project) as p:
        change = use_codebook(p, path, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(change_json(change), ensure_ascii=False, indent=2))
        return
    for line in describe_change(change):
        typer.echo(line)


@codebook_app.command()
def merge(
    old: Annotated[str, typer.Argument(help="A code that left the codebook, e.g. funding.")],
    new: Annotated[str, typer.Argument(help="The code its decisions move to, e.g. grants.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would move.")
    ] = False,
    project: ProjectOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move the decisions on OLD, a code that left the codebook (renamed or
    folded into another), to NEW. Where a coder decided both on one unit, a
    yes wins.

    Example: qualcode codebook merge funding grants --dry-run
    """
    from dataclasses import asdict

    from qualcode.codebook_change import merge_codes

    with open_project(project) as p:
        result = merge_codes(p, old, new, dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(asdict(result), ensure_ascii=False))
        return
    verb = "Moved" if result.applied else "Would move"
    n = result.moved
    joined = f"; {result.joined} unit(s) had both and keep one decision" if result.joined else ""
    typer.echo(f"{verb} {n} decision{'s' if n != 1 else ''} from {old} to {new}{joined}.")


def describe_change(change: CodebookChange) -> list[str]:
    """The change as lines for a person to read."""
    head = "Would use" if not change.applied else "Now using"
    lines = [f"{head} codebook {change.codebook} version {change.version} ({change.path})."]
    if change.unchanged:
        lines.append("No codes changed.")
    if change.added:
        lines.append("Added: " + ", ".join(change.added))
    if change.restored:
        lines.append("Restored (active again): " + ", ".join(change.restored))
    for cid, labels in change.relabelled.items():
        parts = [
            f"{lang} label added {new!r}"
            if old is None
            else f"{lang} label removed (was {old!r})"
            if new is None
            else f"{lang} {old!r} -> {new!r}"
            for lang, (old, new) in labels.items()
        ]
        lines.append(f"Relabelled {cid}: " + "; ".join(parts))
    for cid, (old, new) in change.moved.items():
        lines.append(f"Moved {cid}: parent {old or '(none)'} -> {new or '(none)'}")
    if change.removed:
        items = [
            f"{cid} ({n} decision{'s' if n != 1 else ''})" for cid, n in change.removed.items()
        ]
        lines.append("Removed: " + ", ".join(items))
        lines.append(
            "  Decisions on removed codes are kept: the codes stay in the project, inactive "
            "(see `qualcode codebook show`)."
        )
    for old, new in change.renamed:
        lines.append(
            f"Likely renamed: {old} -> {new} (same label); decisions stay on {old}, "
            f"nothing was merged (if it was a rename: qualcode codebook merge {old} {new})."
        )
    lines.extend(change.notes)
    return lines
