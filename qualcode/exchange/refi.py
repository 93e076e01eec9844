"""Reading a REFI-QDA project (``.qdpx`` zip or bare ``.qde`` XML) into plain
dataclasses, with every safety check done first.

Kept apart from the import into a project so that ``codebook import`` and
tests can look at what a file holds without touching a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from qualcode.errors import FormatError
from qualcode.exchange.safezip import ZipLimits, find_entry, open_archive, read_entry
from qualcode.exchange.textmap import decode_source
from qualcode.exchange.xmlsafe import CODEBOOK_NS, PROJECT_NS, parse_xml, validate_fast


@dataclass
class RefiCode:
    guid: str
    name: str
    codable: bool = True
    color: str | None = None
    description: str = ""
    parent: str | None = None  # guid
    children: list[RefiCode] = field(default_factory=list)


@dataclass
class RefiSelection:
    """A coded stretch of a source's text: ``start``/``end`` as written in
    the file (their unit is decided later, see ``textmap.offset_units``)."""

    guid: str
    start: int
    end: int
    codings: list[tuple[str, str | None]] = field(default_factory=list)  # (code guid, user guid)
    user: str | None = None
    notes: list[str] = field(default_factory=list)  # note_key()s of its and its codings' NoteRefs


@dataclass
class RefiSource:
    guid: str
    name: str
    kind: str  # text | audio | video
    text: str | None = None  # BOM removed, line ends kept
    text_url: str | None = None  # plainTextPath, to match a media transcript to its text
    selections: list[RefiSelection] = field(default_factory=list)
    media_path: str | None = None
    sync_points: list[tuple[int, int | None]] = field(default_factory=list)  # (position, ms)
    skipped: int = 0  # selections that cannot be read as text (picture, audio-only)
    notes: list[str] = field(default_factory=list)  # note_key()s of NoteRefs on the source itself
    description: str = ""
    why_no_text: str = ""  # when ``text`` is None: why, for the researcher
    whole_codings: int = 0  # codings of the whole source, not of a selection


@dataclass
class RefiNote:
    """A ``Notes/Note`` (a memo or annotation): its plain text (from
    ``PlainTextContent`` or the ``plainTextPath`` file; None if neither can be
    read), the GUID of its ``creatingUser`` and its ``creationDateTime``."""

    guid: str
    name: str = ""
    text: str | None = None
    user: str | None = None
    created: str | None = None


@dataclass
class RefiCase:
    name: str
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class RefiProject:
    path: Path
    name: str
    origin: str | None = None
    users: dict[str, str] = field(default_factory=dict)  # guid -> name
    codes: list[RefiCode] = field(default_factory=list)  # top level, children nested
    sources: list[RefiSource] = field(default_factory=list)
    cases: list[RefiCase] = field(default_factory=list)
    notes: dict[str, RefiNote] = field(default_factory=dict)  # note_key(guid) -> note
    sets: dict[str, list[str]] = field(default_factory=dict)  # set name -> member source guids
    # sources qualcode cannot read (PDF, picture): (kind, name, coded selections)
    unread: list[tuple[str, str, int]] = field(default_factory=list)

    def all_codes(self) -> list[RefiCode]:
        out: list[RefiCode] = []

        def walk(codes: list[RefiCode]) -> None:
            for c in codes:
                out.append(c)
                walk(c.children)

        walk(self.codes)
        return out


def _q(tag: str, ns: str = PROJECT_NS) -> str:
    return f"{{{ns}}}{tag}"


def note_key(guid: str | None) -> str:
    """A GUID as notes are looked up: lowercase, without ``{}`` (both forms
    are valid QDA-XML)."""
    return (guid or "").strip().strip("{}").lower()


def _note_refs(el: Element) -> list[str]:
    """The notes ``el`` refers to: its own ``NoteRef``s, then those of its
    ``Coding``s (a note on a coding is a note on the same selection)."""
    refs = [r.get("targetGUID") for r in el.findall(_q("NoteRef"))]
    for coding in el.findall(_q("Coding")):
        refs.extend(r.get("targetGUID") for r in coding.findall(_q("NoteRef")))
    return [note_key(r) for r in refs if r]


def _int(el: Element, attr: str, path: Path) -> int:
    try:
        return int(el.get(attr, ""))
    except ValueError:
        raise FormatError(path, f"{el.tag.split('}')[-1]} {el.get('guid')}: bad {attr}") from None


def parse_codes(parent: Element, ns: str, parent_guid: str | None = None) -> list[RefiCode]:
    out = []
    for el in parent.findall(_q("Code", ns)):
        desc = el.find(_q("Description", ns))
        code = RefiCode(
            guid=el.get("guid", ""),
            name=(el.get("name") or "").strip(),
            codable=el.get("isCodable", "true").lower() in ("true", "1"),
            color=el.get("color"),
            description=(desc.text or "").strip() if desc is not None else "",
            parent=parent_guid,
        )
        code.children = parse_codes(el, ns, code.guid)
        out.append(code)
    return out


class _Reader:
    def __init__(self, path: Path, limits: ZipLimits | None) -> None:
        self.path = path
        self.zf = None
        # a .qdpx renamed (mail filters, "project.zip") is a zip all the same
        with path.open("rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"
        if zipped or path.suffix.lower() == ".qdpx":
            self.zf = open_archive(path, limits)

    def close(self) -> None:
        if self.zf is not None:
            self.zf.close()

    def project_xml(self) -> bytes:
        if self.zf is None:
            return self.path.read_bytes()
        name = find_entry(self.zf, "project.qde")
        if name is None:
            raise FormatError(self.path, "no project.qde inside; is this a REFI-QDA .qdpx?")
        return read_entry(self.zf, self.path, name)

    def internal(self, url: str) -> bytes | None:
        """The bytes of an ``internal://NAME`` file, or None if absent."""
        if not url.startswith("internal://"):
            return None
        name = url[len("internal://") :]
        if self.zf is not None:
            entry = find_entry(self.zf, f"sources/{name}")
            return read_entry(self.zf, self.path, entry) if entry else None
        # a bare .qde next to its sources folder
        for folder in ("sources", "Sources"):
            candidate = self.path.parent / folder / name
            if candidate.is_file() and candidate.resolve().is_relative_to(
                self.path.parent.resolve()
            ):
                return candidate.read_bytes()
        return None


def _codings(el: Element) -> list[tuple[str, str | None]]:
    out = []
    for coding in el.findall(_q("Coding")):
        ref = coding.find(_q("CodeRef"))
        if ref is not None and ref.get("targetGUID"):
            out.append((ref.get("targetGUID", ""), coding.get("creatingUser")))
    return out


def _text_of(reader: _Reader, el: Element) -> str | None:
    content = el.find(_q("PlainTextContent"))
    if content is not None:
        return content.text or ""
    url = el.get("plainTextPath")
    data = reader.internal(url) if url else None
    return decode_source(data) if data is not None else None


def _why_no_text(el: Element) -> str:
    """Why a source (or transcript) has no text qualcode can read."""
    url = el.get("plainTextPath")
    if url is None:
        return "no plain text, only rich text; export it again with plain text"
    if not url.startswith("internal://"):
        return f"its plain text is outside the file ({url}); export it again with sources inside"
    return f"its plain text ({url}) is missing from the file; export it again"


def _text_source(reader: _Reader, el: Element) -> RefiSource:
    src = RefiSource(guid=el.get("guid", ""), name=el.get("name") or "", kind="text")
    src.text = _text_of(reader, el)
    src.text_url = el.get("plainTextPath")
    if src.text is None:
        src.why_no_text = _why_no_text(el)
    desc = el.find(_q("Description"))
    src.description = (desc.text or "").strip() if desc is not None else ""
    for sel in el.findall(_q("PlainTextSelection")):
        src.selections.append(
            RefiSelection(
                guid=sel.get("guid", ""),
                start=_int(sel, "startPosition", reader.path),
                end=_int(sel, "endPosition", reader.path),
                codings=_codings(sel),
                user=sel.get("creatingUser"),
                notes=_note_refs(sel),
            )
        )
    src.notes = _note_refs(el)
    # a whole document coded at once: qualcode codes units, not sessions
    src.whole_codings = len(_codings(el))
    return src


def _media_source(reader: _Reader, el: Element, kind: str) -> RefiSource:
    src = RefiSource(
        guid=el.get("guid", ""), name=el.get("name") or "", kind=kind, media_path=el.get("path")
    )
    selection_tag = "AudioSelection" if kind == "audio" else "VideoSelection"
    src.skipped += len(el.findall(_q(selection_tag)))
    src.notes = _note_refs(el)
    src.whole_codings = len(_codings(el))  # the whole recording coded at once
    transcript = el.find(_q("Transcript"))
    if transcript is None:
        src.why_no_text = "no transcript (qualcode codes text)"
        return src
    src.notes += _note_refs(transcript)
    src.text = _text_of(reader, transcript)
    src.text_url = transcript.get("plainTextPath")
    if src.text is None:
        src.why_no_text = _why_no_text(transcript)
    points: dict[str, tuple[int, int | None]] = {}
    for sp in transcript.findall(_q("SyncPoint")):
        pos = sp.get("position")
        stamp = sp.get("timeStamp")
        if pos is not None:
            points[sp.get("guid", "")] = (int(pos), int(stamp) if stamp is not None else None)
    src.sync_points = sorted(points.values())
    for sel in transcript.findall(_q("TranscriptSelection")):
        a, b = points.get(sel.get("fromSyncPoint", "")), points.get(sel.get("toSyncPoint", ""))
        if a is None or b is None:
            src.skipped += 1
            continue
        src.selections.append(
            RefiSelection(
                guid=sel.get("guid", ""),
                start=a[0],
                end=b[0],
                codings=_codings(sel),
                user=sel.get("creatingUser"),
                notes=_note_refs(sel),
            )
        )
    return src


def read_project(path: str | Path, *, limits: ZipLimits | None = None) -> RefiProject:
    """Read and validate a ``.qdpx``/``.qde``; raise a one-line
    ``FormatError`` if it is unsafe, not XML or not valid QDA-XML."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(path, "no such file")
    reader = _Reader(path, limits)
    try:
        data = reader.project_xml()
        root = parse_xml(data, path)
        if root.tag == _q("CodeBook", CODEBOOK_NS):
            raise FormatError(
                path, "is a codebook (.qdc), not a project; use `qualcode codebook import`"
            )
        validate_fast(data, path, "project")
        project = RefiProject(
            path=path, name=root.get("name") or path.stem, origin=root.get("origin")
        )
        for user in root.iterfind(f"{_q('Users')}/{_q('User')}"):
            project.users[user.get("guid", "").lower()] = str(user.get("name") or user.get("guid"))
        book = root.find(_q("CodeBook"))
        if book is not None:
            codes_el = book.find(_q("Codes"))
            if codes_el is not None:
                project.codes = parse_codes(codes_el, PROJECT_NS)
        variables = {
            v.get("guid", ""): v.get("name", "")
            for v in root.iterfind(f"{_q('Variables')}/{_q('Variable')}")
        }
        for case in root.iterfind(f"{_q('Cases')}/{_q('Case')}"):
            rc = RefiCase(name=str(case.get("name") or case.get("guid")))
            for vv in case.findall(_q("VariableValue")):
                ref = vv.find(_q("VariableRef"))
                value = next((c.text for c in vv if c.tag != _q("VariableRef")), None)
                if ref is not None and value is not None:
                    rc.values[variables.get(ref.get("targetGUID", ""), "variable")] = value
            project.cases.append(rc)
        sources = root.find(_q("Sources"))
        if sources is not None:
            for el in sources:
                tag = el.tag.split("}")[-1]
                if tag == "TextSource":
                    project.sources.append(_text_source(reader, el))
                elif tag in ("AudioSource", "VideoSource"):
                    kind = "audio" if tag == "AudioSource" else "video"
                    project.sources.append(_media_source(reader, el, kind))
                elif tag.endswith("Source"):  # PDFSource, PictureSource
                    coded = sum(
                        1
                        for sel in el.iter()
                        if sel.tag.endswith("Selection") and sel.find(_q("Coding")) is not None
                    )
                    kind = tag.removesuffix("Source")
                    project.unread.append((kind, str(el.get("name") or el.get("guid", "")), coded))
        for el in root.iterfind(f"{_q('Sets')}/{_q('Set')}"):
            members = [m.get("targetGUID", "") for m in el.findall(_q("MemberSource"))]
            if members:
                project.sets.setdefault(el.get("name") or "set", []).extend(members)
        for el in root.iterfind(f"{_q('Notes')}/{_q('Note')}"):
            note = RefiNote(
                guid=el.get("guid", ""),
                name=el.get("name") or "",
                text=_text_of(reader, el),
                user=el.get("creatingUser"),
                created=el.get("creationDateTime"),
            )
            project.notes.setdefault(note_key(note.guid), note)
        return project
    finally:
        reader.close()


def read_codebook(path: str | Path) -> tuple[str, list[RefiCode]]:
    """The codes of a ``.qdc`` (codebook) or a project file: (name, codes)."""
    path = Path(path)
    if path.suffix.lower() != ".qdc":
        project = read_project(path)
        return project.name, project.codes
    if not path.is_file():
        raise FormatError(path, "no such file")
    data = path.read_bytes()
    root = parse_xml(data, path)
    validate_fast(data, path, "codebook")
    codes_el = root.find(_q("Codes", CODEBOOK_NS))
    codes = parse_codes(codes_el, CODEBOOK_NS) if codes_el is not None else []
    return path.stem, codes
