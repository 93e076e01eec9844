"""Exporting a qualcode project as REFI-QDA (QDA-XML 1.0) so colleagues can
open it in NVivo, ATLAS.ti, MAXQDA or QualCoder, and the codebook alone as
a ``.qdc``.

Every GUID is a uuid5 of the project name and the object (code id, session
name, unit, coder...), so exporting the same project twice gives the same
file apart from the export time, and a colleague's tool sees the same codes
and sources again. Sessions are text sources whose plain text is exactly
``qualcode.transcript.plain_text`` of their utterances, so the units'
character offsets are the selections' positions. A session with a recording
also gets an audio/video source with its transcript and one sync point per
timed utterance; the recording itself is referenced by absolute path, not
copied: recordings are large and confidential, and the researcher decides
whether to send them.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qualcode.errors import QualcodeError
from qualcode.exchange.xmlsafe import CODEBOOK_NS, PROJECT_NS
from qualcode.models import Code, Segment, Session, Utterance
from qualcode.outfile import replacing
from qualcode.transcript import corrected, line_prefix, rewrite_units

if TYPE_CHECKING:
    from qualcode.project import Project

_NS = uuid.UUID("6f1c1d9e-3a52-4f43-9a57-0c7d1e4b2a10")  # qualcode's uuid5 namespace
_NS_BYTES = _NS.bytes
VIDEO_EXT = {".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


@dataclass
class ExportOptions:
    """What goes into a ``.qdpx``.

    coder: only this coder's codings (default: every coder, each as a User).
    pseudonymize: speakers become P1..Pn and names, e-mail addresses and
        phone numbers in the text, session and group names are masked
        (``qualcode.pseudonymize``); recordings are left out.
    media: add audio/video sources (with transcript and sync points) for
        sessions with a recording.
    validate: check the written project.qde against Project.xsd.
    """

    coder: str | None = None
    pseudonymize: bool = False
    media: bool = True
    validate: bool = True


def guid(project: str, kind: str, key: Any) -> str:
    """``uuid5(_NS, project/kind/key)``, upper case; spelled out because an
    export makes one per selection and coding and ``uuid.uuid5`` is slow."""
    digest = bytearray(
        hashlib.sha1(_NS_BYTES + f"{project}\x1f{kind}\x1f{key}".encode()).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex().upper()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """Text as XML 1.0 allows it: control characters (a stray one from a
    transcript or a pasted memo) are dropped rather than failing the export."""
    return _NOT_XML.sub("", text)


def _description(code: Code, lang: str | None) -> str:
    if not code.description:
        return ""
    return code.description.get(lang or "", "") or next(iter(code.description.values()))


def _code_tree(parent: Any, codes: list[Code], pname: str, lang: str | None, ns: str) -> None:
    from lxml import etree as ET

    children: dict[str | None, list[Code]] = defaultdict(list)
    ids = {c.id for c in codes}
    for c in codes:
        children[c.parent_id if c.parent_id in ids else None].append(c)

    def add(into: Any, c: Code) -> None:
        # names and descriptions in the project's language, as its researchers read them
        name = c.labels.get(lang or "") or c.label or c.id
        attrs = {"guid": guid(pname, "code", c.id), "name": _x(name)}
        attrs["isCodable"] = "true" if c.active else "false"
        if c.color:
            attrs["color"] = c.color
        el = ET.SubElement(into, f"{{{ns}}}Code", attrs)
        text = _description(c, lang)
        if text:
            ET.SubElement(el, f"{{{ns}}}Description").text = _x(text)
        for k in children.get(c.id, []):
            add(el, k)

    for c in children[None]:
        add(parent, c)


def export_qdpx(project: Project, out: str | Path, options: ExportOptions | None = None) -> dict:
    """Write ``project`` as a REFI-QDA ``.qdpx``; returns counts
    (sessions, codes, selections, codings, users, cases, notes)."""
    options = options or ExportOptions()
    store = project.store
    pname = project.config.name
    lang = project.config.language
    P, T = f"{{{PROJECT_NS}}}", _stamp()
    from lxml import etree as ET

    root = ET.Element(
        f"{P}Project",
        {"name": _x(pname), "origin": "qualcode", "creationDateTime": T, "modifiedDateTime": T},
        nsmap={None: PROJECT_NS},
    )
    decisions = [
        d
        for d in store.all_decisions()
        if d[3] in ("accepted", "added") and (options.coder is None or d[2] == options.coder)
    ]
    memos = [m for m in store.memos() if options.coder is None or m.coder == options.coder]
    coders = sorted({d[2] for d in decisions} | {m.coder for m in memos})
    if options.coder and options.coder not in coders:
        raise QualcodeError(
            f"coder {options.coder!r} has no codings; known: {', '.join(store.coders()) or 'none'}"
        )
    users = ET.SubElement(root, f"{P}Users") if coders else None
    for c in coders:
        ET.SubElement(users, f"{P}User", {"guid": guid(pname, "user", c), "name": _x(c)})
    codes = store.codes(include_inactive=True)
    book = ET.SubElement(root, f"{P}CodeBook")
    codes_el = ET.SubElement(book, f"{P}Codes")
    _code_tree(codes_el, codes, pname, lang, PROJECT_NS)
    if not codes:
        root.remove(book)

    participants = store.participants()
    pseudo: Any = None
    if options.pseudonymize:
        from qualcode.pseudonymize import Pseudonymizer

        pseudo = Pseudonymizer.from_store(store)

    def masked(text: str) -> str:
        return (pseudo.text(text) or "") if pseudo else text

    keys = sorted({k for p in participants for k in p.attributes})
    if keys:
        variables = ET.SubElement(root, f"{P}Variables")
        for k in keys:
            ET.SubElement(
                variables,
                f"{P}Variable",
                {"guid": guid(pname, "variable", k), "name": _x(k), "typeOfVariable": "Text"},
            )
    sessions = store.sessions()
    session_guid = {s.name: guid(pname, "session", s.name) for s in sessions}
    if participants:
        cases = ET.SubElement(root, f"{P}Cases")
        for part in participants:
            name = pseudo.name(part.name) if pseudo else part.name
            case = ET.SubElement(
                cases, f"{P}Case", {"guid": guid(pname, "case", part.name), "name": _x(name)}
            )
            for k in keys:
                if k in part.attributes:
                    vv = ET.SubElement(case, f"{P}VariableValue")
                    ET.SubElement(vv, f"{P}VariableRef", {"targetGUID": guid(pname, "variable", k)})
                    ET.SubElement(vv, f"{P}TextValue").text = _x(part.attributes[k])
            for sname in part.sessions:
                ET.SubElement(case, f"{P}SourceRef", {"targetGUID": session_guid[sname]})

    by_segment: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for seg_id, code_id, coder, _ in decisions:
        by_segment[seg_id].append((code_id, coder))
    live = store.segments()
    live_ids = {g.id for g in live}
    # a memo on a unit a corrected transcript replaced has no text to point
    # to: it goes with its session, quoting the words it was written on
    gone = {
        g.id: g.text
        for g in store.segments_by_ids(
            m.segment_id for m in memos if m.segment_id is not None and m.segment_id not in live_ids
        )
    }
    memo_of: dict[int, list[str]] = defaultdict(list)
    session_memos: dict[int, list[str]] = defaultdict(list)
    for m in memos:
        if m.segment_id is not None and m.segment_id in live_ids:
            memo_of[m.segment_id].append(guid(pname, "memo", m.id))
        elif m.session_id is not None:
            session_memos[m.session_id].append(guid(pname, "memo", m.id))
    # a unit becomes a selection when it is coded or carries a memo (a memo
    # on an uncoded unit would otherwise be a note nothing points to)
    all_segments: dict[int, list[Segment]] = defaultdict(list)
    units: dict[int, list[Segment]] = defaultdict(list)
    for g in live:
        units[g.session_id].append(g)
        if g.id in by_segment or g.id in memo_of:
            all_segments[g.session_id].append(g)

    counts = {"sessions": 0, "codes": len(codes), "selections": 0, "codings": 0}
    files: dict[str, bytes] = {}
    sources = ET.SubElement(root, f"{P}Sources") if sessions else None
    for s in sessions:
        # the text as coders left it: their corrections in, names masked
        # when asked, every unit moved with its words
        utterances = store.utterances(s.id or 0)
        segments = all_segments.get(s.id or 0, [])
        offsets = {g.id: (g.char_start, g.char_end) for g in segments}
        mine = units.get(s.id or 0, [])
        if options.pseudonymize or any(g.original_text is not None for g in mine):
            utterances, move = rewrite_units(
                utterances,
                mine,
                lambda text, unit: masked(corrected(text, unit)),
                pseudo.name if options.pseudonymize else (lambda name: name),
            )
            offsets = {g.id: (move(g.char_start), move(g.char_end)) for g in segments}
        text = "\n".join(line_prefix(u.speaker) + u.text for u in utterances)
        sg = session_guid[s.name]
        text_guid = guid(pname, "text", s.name)
        files[f"sources/{text_guid}.txt"] = text.encode("utf-8")
        # a session or group is often named for a participant
        # ("interview-Aino-Virtanen"): masked like the talk
        shown = replace(s, name=masked(s.name), group=masked(s.group) if s.group else None)
        src = ET.SubElement(
            sources,
            f"{P}TextSource",
            {"guid": sg, "name": _x(shown.name), "plainTextPath": f"internal://{text_guid}.txt"},
        )
        about = session_description(shown, [u.speaker for u in utterances if u.speaker])
        if about:
            ET.SubElement(src, f"{P}Description").text = _x(about)
        for g in segments:
            if g.id not in offsets:
                continue
            a, b = offsets[g.id]
            sel = ET.SubElement(
                src,
                f"{P}PlainTextSelection",
                {
                    "guid": guid(pname, "selection", f"{s.name}:{g.id}"),
                    "name": _x(g.text[:40]) if not options.pseudonymize else "",
                    "startPosition": str(a),
                    "endPosition": str(b),
                },
            )
            counts["selections"] += 1
            for code_id, coder in by_segment[g.id or 0]:
                coding = ET.SubElement(
                    sel,
                    f"{P}Coding",
                    {
                        "guid": guid(pname, "coding", f"{g.id}:{code_id}:{coder}"),
                        "creatingUser": guid(pname, "user", coder),
                    },
                )
                ET.SubElement(coding, f"{P}CodeRef", {"targetGUID": guid(pname, "code", code_id)})
                counts["codings"] += 1
            for note in memo_of.get(g.id or 0, []):
                ET.SubElement(sel, f"{P}NoteRef", {"targetGUID": note})
        # a memo on the whole session: referenced from its source, after the
        # selections (the schema's order), so an import finds it
        for note in session_memos.get(s.id or 0, []):
            ET.SubElement(src, f"{P}NoteRef", {"targetGUID": note})
        # a recording is the most identifying part of a session (voices, and
        # a local path naming people): a pseudonymised export leaves it out
        if options.media and s.media_path and not options.pseudonymize:
            _media_source(sources, s, utterances, pname, P)
        counts["sessions"] += 1
    if sources is not None and len(sources) == 0:
        root.remove(sources)

    if memos:
        notes = ET.SubElement(root, f"{P}Notes")
        for m in memos:
            mg = guid(pname, "memo", m.id)
            note_el = ET.SubElement(
                notes,
                f"{P}Note",
                {
                    "guid": mg,
                    "name": f"memo {m.id}",
                    "creatingUser": guid(pname, "user", m.coder),
                },
            )
            body = m.text
            if m.segment_id in gone:
                body = f"(on words since changed in the transcript: “{gone[m.segment_id]}”) {body}"
            body = pseudo.text(body) if pseudo else body
            ET.SubElement(note_el, f"{P}PlainTextContent").text = _x(body)
    groups: dict[str, list[str]] = defaultdict(list)
    for s in sessions:
        if s.group:
            groups[s.group].append(session_guid[s.name])
    if groups and sources is not None and len(sources):
        # the groups as document sets, which NVivo and MAXQDA show as such
        sets = ET.SubElement(root, f"{P}Sets")
        for name, members in sorted(groups.items()):
            group_set = ET.SubElement(
                sets, f"{P}Set", {"guid": guid(pname, "group", name), "name": _x(masked(name))}
            )
            for member in members:
                ET.SubElement(group_set, f"{P}MemberSource", {"targetGUID": member})
    counts.update(users=len(coders), cases=len(participants), notes=len(memos))
    # REFI-QDA has no "coded, no code": units a coder finished without a
    # code are not in the file, and figures computed from it will differ
    applied = {(d[0], d[2]) for d in decisions}
    counts["uncoded"] = len(
        {
            unit
            for c in ([options.coder] if options.coder else store.coders())
            for unit in store.coder_unit_ids(c)
            if (unit, c) not in applied
        }
    )

    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    if options.validate:
        from qualcode.exchange.xmlsafe import validate_fast

        validate_fast(xml, out, "project")
    with (
        replacing(out) as tmp,
        zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf,
    ):
        zf.writestr("project.qde", xml)
        for name, data in files.items():
            zf.writestr(name, data)
    return counts


def _media_source(sources: Any, s, utterances: list[Utterance], pname: str, P: str) -> None:
    """An audio/video source for a session's recording: its transcript (the
    same text file) with a sync point at the start of every timed utterance."""
    from lxml import etree as ET

    media = Path(s.media_path)
    kind = "VideoSource" if media.suffix.lower() in VIDEO_EXT else "AudioSource"
    text_guid = guid(pname, "text", s.name)
    el = ET.SubElement(
        sources,
        f"{P}{kind}",
        {
            "guid": guid(pname, "media", s.name),
            "name": _x(s.name),
            "path": "absolute:///" + media.resolve().as_posix().lstrip("/"),
        },
    )
    tr = ET.SubElement(
        el,
        f"{P}Transcript",
        {
            "guid": guid(pname, "transcript", s.name),
            "name": _x(s.name),
            "plainTextPath": f"internal://{text_guid}.txt",
        },
    )
    pos = 0
    for i, u in enumerate(utterances):
        if u.start is not None:
            ET.SubElement(
                tr,
                f"{P}SyncPoint",
                {
                    "guid": guid(pname, "sync", f"{s.name}:{i}"),
                    "timeStamp": str(int(round(u.start * 1000))),
                    "position": str(pos),
                },
            )
        pos += len(line_prefix(u.speaker)) + len(u.text) + 1


def export_codebook_qdc(project: Project, out: str | Path) -> int:
    """Write the project's codes as a REFI-QDA codebook (``.qdc``); returns
    the number of codes."""
    from qualcode.exchange.xmlsafe import validate_fast

    codes = project.store.codes(include_inactive=False)
    if not codes:
        raise QualcodeError("the project has no codes to export; set a codebook first")
    C = f"{{{CODEBOOK_NS}}}"
    from lxml import etree as ET

    root = ET.Element(f"{C}CodeBook", {"origin": "qualcode"}, nsmap={None: CODEBOOK_NS})
    _code_tree(
        ET.SubElement(root, f"{C}Codes"),
        codes,
        project.config.name,
        project.config.language,
        CODEBOOK_NS,
    )
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    validate_fast(xml, out, "codebook")
    with replacing(out) as tmp:
        tmp.write_bytes(xml)
    return len(codes)


# the keys of a source's Description that a qualcode import reads back
SESSION_FIELDS = ("group", "language", "recorded", "duration", "speakers")


def session_description(s: Session, speakers: Sequence[str]) -> str:
    """What a session is beyond its text, as ``key: value`` lines in its
    source's Description: other tools show it, and a qualcode import reads
    it back (``qdpx_read.session_fields``). ``speakers`` (a JSON list) says
    which ``Name:`` line starts are speakers: in a session imported from
    another tool without speakers, "Koronavírus: …" is a heading, and read
    back as a speaker it would be pseudonymised as a name everywhere."""
    values = (
        s.group,
        s.language,
        s.recorded_at,
        f"{s.duration:g}" if s.duration is not None else None,
        json.dumps(sorted(set(speakers)), ensure_ascii=False),
    )
    return "\n".join(f"{k}: {v}" for k, v in zip(SESSION_FIELDS, values, strict=True) if v)
