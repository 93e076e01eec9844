"""Switching a project to a new codebook version without losing decisions.

Codes get split, merged and renamed while a study runs. A new codebook
version is compared with the project's codes and applied so that nothing a
coder did is dropped: codes that left the codebook stay in the store,
inactive, with their decisions, and the change is reported (likely renames
included) instead of guessed at.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.codebook import Codebook, load_codebook
from qualcode.errors import QualcodeError
from qualcode.models import Code
from qualcode.project import backup_name

if TYPE_CHECKING:
    from qualcode.project import Project


@dataclass
class CodebookChange:
    """What ``use_codebook`` changed in a project.

    added: ids new in the codebook.
    removed: ids gone from it -> number of decisions on each (kept, inactive).
    restored: inactive ids that came back.
    relabelled: id -> {lang: [old label, new label]} for labels that changed.
    moved: id -> [old parent, new parent].
    renamed: likely renames: (removed id, added id) pairs sharing a label in
        some language. Decisions stay on the old id; nothing is merged.
    """

    codebook: str
    version: str
    path: str
    added: list[str] = field(default_factory=list)
    removed: dict[str, int] = field(default_factory=dict)
    restored: list[str] = field(default_factory=list)
    relabelled: dict[str, dict[str, list[str | None]]] = field(default_factory=dict)
    moved: dict[str, list[str | None]] = field(default_factory=dict)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    applied: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.restored or self.relabelled or self.moved)


def compare_codes(old: list[Code], new: list[Code], decisions: dict[str, int]) -> CodebookChange:
    """The difference between the store's codes and a codebook's flat codes."""
    change = CodebookChange(codebook="", version="", path="")
    before = {c.id: c for c in old}
    after = {c.id: c for c in new}
    for c in new:
        prev = before.get(c.id)
        if prev is None:
            change.added.append(c.id)
            continue
        if not prev.active:
            change.restored.append(c.id)
        diff: dict[str, list[str | None]] = {}
        for lang in sorted(set(prev.labels) | set(c.labels)):
            if prev.labels.get(lang) != c.labels.get(lang):
                diff[lang] = [prev.labels.get(lang), c.labels.get(lang)]
        if diff:
            change.relabelled[c.id] = diff
        if prev.parent_id != c.parent_id:
            change.moved[c.id] = [prev.parent_id, c.parent_id]
    for c in old:
        if c.active and c.id not in after:
            change.removed[c.id] = decisions.get(c.id, 0)

    def norm(label: str) -> str:
        return " ".join(label.casefold().split())

    for old_id in change.removed:
        old_labels = {norm(x) for x in before[old_id].labels.values()} | {
            norm(before[old_id].label)
        }
        for new_id in change.added:
            new_labels = {norm(x) for x in after[new_id].labels.values()} | {
                norm(after[new_id].label)
            }
            if old_labels & new_labels:
                change.renamed.append((old_id, new_id))
    return change


def use_codebook(project: Project, path: str | Path, *, dry_run: bool = False) -> CodebookChange:
    """Switch ``project`` to the codebook at ``path`` (a new version of its
    codebook or another one). Copies the file into the project's
    ``codebooks/`` folder, points ``qualcode.yaml`` at it and syncs the
    store's codes. Codes that left the codebook stay in the store, inactive,
    with all their decisions; the returned change says what happened. With
    ``dry_run`` nothing is written."""
    source = Path(path)
    book = load_codebook(source)
    store = project.store
    change = compare_codes(
        store.codes(include_inactive=True), book.flat_codes(), store.code_ids_in_use()
    )
    folder = project.root / "codebooks"
    target = folder / source.name
    change.codebook, change.version = book.name, book.version
    change.path = target.relative_to(project.root).as_posix()
    change.applied = not dry_run
    if dry_run:
        return change
    # the file the project points at and its codes must not disagree if any
    # step fails: stage the copy, sync the codes, then swap the file in
    same = target.exists() and target.resolve() == source.resolve()
    staged = folder / f".{source.name}.incoming"
    try:
        if not same:
            folder.mkdir(exist_ok=True)
            shutil.copyfile(source, staged)
        store.sync_codes(book.flat_codes())
        if not same:
            if target.exists() and target.read_bytes() != source.read_bytes():
                # keep the version being replaced next to the new one
                shutil.copyfile(target, backup_name(target))
            units = book.coded_units
            if units is not None and units.resolve() != (folder / units.name).resolve():
                old_units = folder / units.name
                if old_units.exists() and old_units.read_bytes() != units.read_bytes():
                    shutil.copyfile(old_units, backup_name(old_units))  # a team's coding
                shutil.copyfile(units, old_units)  # before the swap: never dangling
            os.replace(staged, target)
    except OSError as e:
        raise QualcodeError(f"{target}: cannot copy the codebook there ({e.strerror})") from e
    finally:
        staged.unlink(missing_ok=True)
    project.config.codebook = change.path
    project.save_config()
    return change


def check_in_use(project: Project, book: Codebook) -> None:
    """Refuse to suggest or record codes from a codebook file edited in place
    since the project started using it (ids added or gone): the store does
    not know the new ids yet, and writing them would fail halfway. Applying
    the edit is one command that keeps every decision."""
    store = project.store
    active = {c.id for c in store.codes()}
    ids = {c.id for c in book.flat_codes()}
    if ids == active:
        return

    def listed(items: list[str]) -> str:
        # a REFI-QDA codebook brings hundreds: the first few say enough
        more = f" and {len(items) - _LISTED} more" if len(items) > _LISTED else ""
        return ", ".join(items[:_LISTED]) + more

    parts = []
    if ids - active:
        parts.append("new: " + listed(sorted(ids - active)))
    if active - ids:
        used = store.code_ids_in_use()
        gone = [
            f"{c} ({used.get(c, 0)} decision{'s' * (used.get(c, 0) != 1)})"
            for c in sorted(active - ids)
        ]
        parts.append("not in the file: " + listed(gone))
    # a path the suggested command can be run with from any folder
    where = str(book.path) if book.path else (project.config.codebook or "")
    imported = sorted(
        {s.source_path for s in store.sessions() if s.source_format == "qdpx" and s.source_path}
    )
    if active - ids and imported:
        # the codes a .qdpx brought live in the store until a codebook file has them
        source = shlex.quote(str(Path(imported[0]).resolve()))
        raise QualcodeError(
            f"{where}: the project has codes that are not in its codebook file "
            f"({'; '.join(parts)}); if they came with {Path(imported[0]).name}, write them into "
            f"a codebook with `qualcode codebook import {source}`; if you removed them from "
            f"the file, apply it with `qualcode codebook use {shlex.quote(where)}` (decisions "
            "on the other codes are kept)"
        )
    raise QualcodeError(
        f"{where}: its codes changed since the project started using it "
        f"({'; '.join(parts)}); apply the change with `qualcode codebook use "
        f"{shlex.quote(where)}` "
        "(decisions on codes that left are kept)"
    )


_LISTED = 8


@dataclass
class CodeMerge:
    """What ``merge_codes`` did (or, with ``applied`` False, would do)."""

    old: str
    new: str
    moved: int  # decisions now on ``new``
    joined: int  # units where a coder had decided both: one decision left
    applied: bool = True


def merge_codes(project: Project, old: str, new: str, *, dry_run: bool = False) -> CodeMerge:
    """Move the decisions on ``old`` (a code that left the codebook: renamed
    or folded into another) to ``new``. ``codebook use`` keeps a removed
    code's decisions apart on purpose (it cannot know a rename from a
    removal); this is the researcher saying which it was."""
    store = project.store
    codes = {c.id: c for c in store.codes(include_inactive=True)}
    if old == new:
        raise QualcodeError(f"{old!r} into itself: give two different codes")
    for code in (old, new):
        if code not in codes:
            raise QualcodeError(f"no code {code!r} in the project; see `qualcode codebook show`")
    if codes[old].active:
        raise QualcodeError(
            f"{old!r} is still in the codebook; remove it from {project.config.codebook} and "
            "run `qualcode codebook use` first, so that suggestions do not bring it back"
        )
    if not codes[new].active:
        raise QualcodeError(f"{new!r} is not in the current codebook; merge into one that is")
    if any(c.parent_id == new and c.active for c in codes.values()):
        raise QualcodeError(f"{new!r} has sub-codes; merge into one of them")
    moved, joined = store.merge_code(old, new, dry_run=dry_run)
    return CodeMerge(old, new, moved, joined, applied=not dry_run)
