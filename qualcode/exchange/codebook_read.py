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
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from qualcode.exchange.qdpx_read import code_ids, refi_color, slug
from qualcode.exchange.refi import RefiCode, read_codebook
from qualcode.models import Code

if TYPE_CHECKING:
    from qualcode.project import Project


def codebook_dict(
    name: str,
    codes: list[RefiCode],
    language: str = "en",
    existing: list[Code] | None = None,
    project_name: str | None = None,
) -> dict:
    """A qualcode codebook (the YAML structure of ``docs/codebook.md``).
    A code the project already has (``existing``: the GUID qualcode's export
    gave it, else the same label) keeps its id, so decisions stay on it, and
    its labels in other languages when the name is one of them."""
    flat: list[RefiCode] = []

    def walk(cs: list[RefiCode]) -> None:
        for c in cs:
            flat.append(c)
            walk(c.children)

    walk(codes)
    ids = code_ids(flat, reuse=_known_codes(flat, existing or [], project_name))
    labels = {c.id: {**c.labels, language: c.labels.get(language, c.label)} for c in existing or []}
    languages = [language]

    def entry(c: RefiCode, pos: int) -> dict:
        label: str | dict[str, str] = c.name or f"code {pos + 1}"
        known = labels.get(ids[c.guid], {})
        if label in known.values() and len(known) > 1:
            label = known
            languages.extend(lang for lang in known if lang not in languages)
        d: dict = {"id": ids[c.guid], "label": label}
        if c.description:
            d["description"] = c.description
        if refi_color(c.color):
            d["color"] = refi_color(c.color)
        if c.children:
            d["children"] = [entry(k, i) for i, k in enumerate(c.children)]
        return d

    entries = [entry(c, i) for i, c in enumerate(codes)]
    return {"name": slug(name), "version": 1, "languages": languages, "codes": entries}


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
    (YAML path, ``CodebookChange``)."""
    from qualcode.codebook_change import use_codebook
    from qualcode.errors import QualcodeError

    name, codes = read_codebook(path)
    if not codes:
        raise QualcodeError(f"{path}: has no codes to import")
    lang = project.config.language
    lang = lang if re.fullmatch(r"[a-z]{2,3}", lang or "") else "en"
    book = codebook_dict(
        name, codes, lang, project.store.codes(include_inactive=True), project.config.name
    )
    if out and Path(out).exists():
        raise QualcodeError(
            f"{out}: already exists; give --out a new file name (an import never overwrites)"
        )
    target = Path(out) if out else _free_path(project.root / "codebooks" / f"{book['name']}.yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    header = f"# converted by qualcode from {Path(path).name} (REFI-QDA)\n"
    target.write_text(
        header + yaml.safe_dump(book, sort_keys=False, allow_unicode=True, width=100),
        encoding="utf-8",
    )
    return target, use_codebook(project, target, dry_run=dry_run)
