"""A codebook made in another QDA tool, as a qualcode codebook YAML.

NVivo, ATLAS.ti, MAXQDA and QualCoder exchange codebooks as REFI-QDA
(``.qdc``, or the codebook inside a ``.qdpx``). Their codes become a YAML
file the project then uses like any version of its codebook
(``codebook_change.use_codebook``); a code the project already has keeps its
id, so a round trip through another tool keeps every decision on it. The
file is always a new one: a researcher's codebook is never overwritten.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from qualcode.exchange.codes import code_ids, refi_color, slug
from qualcode.exchange.refi import RefiCode, read_codebook
from qualcode.models import Code
from qualcode.outfile import write_text

if TYPE_CHECKING:
    from qualcode.codebook import Codebook
    from qualcode.project import Project


def codebook_dict(
    name: str,
    codes: list[RefiCode],
    language: str = "en",
    existing: list[Code] | None = None,
    project_name: str | None = None,
    current: Codebook | None = None,
) -> dict:
    """A qualcode codebook (the YAML structure of ``docs/codebook.md``).
    A code the project already has (``existing``: the GUID qualcode's export
    gave it, else the same label) keeps its id, so decisions stay on it. A
    code of the codebook in use (``current``) also keeps what REFI-QDA cannot
    carry: its keywords and examples (without them a round trip through NVivo
    would quietly take the suggestions back to nothing), and its labels and
    descriptions in the languages the export did not write. The codebook is
    then the next version of ``current``."""
    existing = existing or []
    flat: list[RefiCode] = []

    def walk(cs: list[RefiCode]) -> None:
        for c in cs:
            flat.append(c)
            walk(c.children)

    walk(codes)
    known = _known_codes(flat, existing, project_name)
    # qualcode exports a code that left the codebook as not codable: it stays
    # out (inactive, decisions kept) instead of coming back as a copy
    inactive = {e.id for e in existing if not e.active}
    left = {
        c.guid for c in flat if not c.codable and not c.children and known.get(c.guid) in inactive
    }
    ids = code_ids([c for c in flat if c.guid not in left], reuse=known)
    stored = {c.id: {**c.labels, language: c.labels.get(language, c.label)} for c in existing}
    book = {c.id: c for c in current.iter_codes()} if current else {}
    if not any(cid in book for cid in ids.values()):
        book, current = {}, None  # another codebook altogether
    languages = list(current.languages) if current else []
    languages += [language] if language not in languages else []

    def label_of(c: RefiCode, cid: str, pos: int) -> str | dict[str, str]:
        name = c.name or f"code {pos + 1}"
        old = book[cid].label if cid in book else stored.get(cid, {})
        if name in old.values():
            return old if len(old) > 1 else name
        if cid in book and len(old) > 1:
            # the export wrote the label in the project's language (else the
            # store's: the English one, else the first)
            written = language if language in old else "en" if "en" in old else next(iter(old))
            return {**old, written: name}
        return name

    def description_of(c: RefiCode, cid: str) -> str | dict[str, str]:
        old = book[cid].description if cid in book else {}
        if not old:
            return c.description
        written = language if language in old else next(iter(old))
        if c.description in ("", old[written]):
            return old
        return {**old, written: c.description}

    def entry(c: RefiCode, pos: int) -> dict:
        cid = ids[c.guid]
        label = label_of(c, cid, pos)
        if isinstance(label, dict):
            languages.extend(lang for lang in label if lang not in languages)
        d: dict = {"id": cid, "label": label}
        description = description_of(c, cid)
        if description:
            d["description"] = description
        if refi_color(c.color):
            d["color"] = refi_color(c.color)
        if cid in book:
            for key in ("keywords", "examples"):
                value = {k: list(v) for k, v in getattr(book[cid], key).items() if v}
                if value:
                    d[key] = value
        kids = [k for k in c.children if k.guid not in left]
        if kids:
            d["children"] = [entry(k, i) for i, k in enumerate(kids)]
        return d

    entries = [entry(c, i) for i, c in enumerate(codes) if c.guid not in left]
    out: dict = {"name": slug(name), "version": 1, "languages": languages, "codes": entries}
    if current:
        out["name"], out["version"] = current.name, _next_version(current.version)
        if current.description:
            out["description"] = current.description
        out = {
            k: out[k] for k in ("name", "version", "languages", "description", "codes") if k in out
        }
    return out


def _next_version(version: str) -> int | str:
    """2 after 1; after a version that is not a number (``2024-05``), the
    day of the import."""
    if version.isdigit():
        return int(version) + 1
    return date.today().isoformat()


def _known_codes(
    codes: list[RefiCode], existing: list[Code], project_name: str | None
) -> dict[str, str]:
    """guid -> id of the project's codes among ``codes``: by the GUID this
    project's export gave the code (``qdpx_write.guid``: it survives a rename
    in the other tool), else by label."""
    from qualcode.exchange.qdpx_write import guid

    by_guid = {guid(project_name, "code", e.id): e.id for e in existing} if project_name else {}
    by_label: dict[str, str] = {}
    for e in existing:
        for label in (e.label, *e.labels.values()):
            by_label.setdefault(label.casefold(), e.id)
    out: dict[str, str] = {}
    for c in codes:
        found = by_guid.get(c.guid.upper()) or by_label.get((c.name or "").casefold())
        if found:
            out[c.guid] = found
    return out


def _free_path(path: Path) -> Path:
    """``path``, or ``name-2.yaml``, ``name-3.yaml``... when it exists: an
    import never overwrites a codebook (least of all the one in use)."""
    n = 2
    candidate = path
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def import_codebook(
    project: Project, path: str | Path, out: str | Path | None = None, *, dry_run: bool = False
):
    """Convert the codebook of a ``.qdc`` or ``.qdpx``/``.qde`` to a qualcode
    codebook YAML (default ``codebooks/<name>.yaml`` in the project) and switch
    the project to it with ``qualcode.codebook_change.use_codebook``. Returns
    (YAML path, ``CodebookChange``); with ``dry_run`` the path it would
    write, and nothing is written."""
    from qualcode.codebook_change import use_codebook
    from qualcode.errors import QualcodeError

    name, codes = read_codebook(path)
    if not codes:
        raise QualcodeError(f"{path}: has no codes to import")
    lang = project.config.language
    lang = lang if re.fullmatch(r"[a-z]{2,3}", lang or "") else "en"
    current = _current_codebook(project)
    book = codebook_dict(
        name, codes, lang, project.store.codes(include_inactive=True), project.config.name, current
    )
    if out and Path(out).exists():
        raise QualcodeError(
            f"{out}: already exists; give --out a new file name (an import never overwrites)"
        )
    target = Path(out) if out else _free_path(project.root / "codebooks" / f"{book['name']}.yaml")
    notes = []
    if current and current.coded_units and book["name"] == current.name:
        notes = _carry_coded_units(book, current.coded_units, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"# converted by qualcode from {Path(path).name} (REFI-QDA)\n"
    text = header + yaml.safe_dump(book, sort_keys=False, allow_unicode=True, width=100)
    # a dry run checks the file where it would go (its coded units resolve
    # there) and leaves nothing behind
    written = target.with_name(f".{target.name}.dry-run") if dry_run else target
    write_text(written, text)
    try:
        change = use_codebook(project, written, dry_run=dry_run)
    finally:
        if dry_run:
            written.unlink(missing_ok=True)
    if dry_run and target.is_relative_to(project.root):
        change.path = target.relative_to(project.root).as_posix()
    change.notes.extend(notes)
    return target, change


def _current_codebook(project: Project) -> Codebook | None:
    """The codebook in use, or None when there is none or it does not load
    (then nothing of it can be carried over)."""
    from qualcode.codebook import project_codebook
    from qualcode.errors import QualcodeError

    try:
        return project_codebook(project)
    except QualcodeError:
        return None


def _carry_coded_units(book: dict, units: Path, target: Path) -> list[str]:
    """Point the new version at the coded units of the one it replaces when
    they sit beside it and use only codes it still has; else say why not."""
    from qualcode.errors import FormatError
    from qualcode.gold import read_coded_units

    if units.parent.resolve() != target.parent.resolve():
        return [
            f"Coded units {units.name} not carried over: the YAML is not in {units.parent}; "
            f"copy the CSV beside it and add `coded_units: {units.name}`."
        ]
    leaves: list[str] = []
    parents: list[str] = []

    def walk(entries: list[dict]) -> None:
        for e in entries:
            (parents if e.get("children") else leaves).append(e["id"])
            walk(e.get("children", []))

    walk(book["codes"])
    try:
        read_coded_units(units, leaves, parents)
    except FormatError as e:
        where = f"{e.path}:{e.line}" if e.line else e.path
        return [
            f"Coded units {units.name} not carried over ({where}: {e.detail}); "
            "recode them for this version, then add `coded_units:` to the YAML."
        ]
    book["coded_units"] = units.name
    return []
