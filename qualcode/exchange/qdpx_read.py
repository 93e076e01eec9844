"""Importing REFI-QDA projects and codebooks made in NVivo, ATLAS.ti, MAXQDA
or QualCoder into a qualcode project.

Sources become sessions (one utterance per non-blank line, ``Name: text``
lines keep the name as speaker), codes join the project's codes (a code
whose id or label the project already has is reused), and every coded
selection becomes a coding unit with an ``added`` decision of the coder the
file names, at exactly the text the other tool had selected. Notes
(memos, annotations) referenced from a selection become memos on its unit,
those referenced from a source memos on the session.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.exchange.codes import refi_color, slug
from qualcode.exchange.refi import (
    RefiNote,
    RefiProject,
    RefiSource,
    read_project,
)
from qualcode.exchange.textmap import (
    build_text,
    offset_units,
    transcript_speakers,
    utf16_to_codepoints,
)
from qualcode.models import Code, Segment, Session, Transcript

if TYPE_CHECKING:
    from qualcode.project import Project
    from qualcode.store.exchange import ImportedMemo, ImportedSession


@dataclass
class ImportOptions:
    """How to import a REFI-QDA project.

    coder: record every coding and memo under this coder instead of the file's users.
    speakers: read ``Name: text`` lines as speaker turns.
    group: group name given to the new sessions (else the source's set).
    language: language of the new sessions (else what a qualcode export
        wrote in the source's description; other tools record none).
    again: import a file imported before once more (its codings then
        count twice); else ``AlreadyStored`` when another run stored it.
    """

    coder: str | None = None
    speakers: bool = True
    group: str | None = None
    language: str | None = None
    again: bool = False


@dataclass
class QdpxImport:
    """What an import did. ``sessions`` are the new session names.
    ``n_notes``: the file's notes; ``n_memos``: the memos they became (one
    per unit or session and coder, several notes joined);
    ``n_notes_skipped``: notes not imported (referenced from no text
    selection or source that became a unit or session, e.g. notes on codes,
    on the project or on nothing; or without plain text)."""

    path: Path
    origin: str | None = None
    sessions: list[str] = field(default_factory=list)
    codes_added: list[str] = field(default_factory=list)
    n_codes: int = 0
    n_selections: int = 0
    n_codings: int = 0
    n_skipped: int = 0
    n_utterances: int = 0
    n_speakers: int = 0
    coders: list[str] = field(default_factory=list)
    offset_units: dict[str, str] = field(default_factory=dict)
    n_notes: int = 0
    n_memos: int = 0
    n_notes_skipped: int = 0
    # what was left out and why, one line each, for the researcher
    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{len(self.sessions)} session(s), {self.n_codes} code(s) "
            f"({len(self.codes_added)} new), {self.n_selections} coded selection(s), "
            f"{self.n_codings} coding(s)"
            + (f", {self.n_memos} memo(s)" if self.n_memos else "")
            + (f", {self.n_skipped} skipped (not text)" if self.n_skipped else "")
            + (
                f", {self.n_notes_skipped} note(s) not imported (not on a text selection or source)"
                if self.n_notes_skipped
                else ""
            )
        )


def _project_codes(project: Project, refi: RefiProject) -> tuple[dict[str, str], list[Code]]:
    """Map REFI code guids to project code ids, reusing codes the project has
    (same id or same label) and making the rest. Returns (guid -> id, new codes)."""
    existing = project.store.codes(include_inactive=True)
    by_id = {c.id for c in existing}
    by_label = {c.label.casefold(): c.id for c in existing}
    for c in existing:
        for label in c.labels.values():
            by_label.setdefault(label.casefold(), c.id)
    mapping: dict[str, str] = {}
    new: list[Code] = []
    taken = set(by_id)
    # names and descriptions are in the language the project works in
    lang = project.config.language
    lang = lang if lang and lang != "auto" else "en"
    for rc in refi.all_codes():
        sid = slug(rc.name)
        if rc.name.casefold() in by_label:
            mapping[rc.guid] = by_label[rc.name.casefold()]
            continue
        cid, n = sid, 2
        while cid in taken:
            cid, n = f"{sid}_{n}", n + 1
        taken.add(cid)
        mapping[rc.guid] = cid
        new.append(
            Code(
                id=cid,
                label=rc.name or cid,
                parent_id=mapping.get(rc.parent) if rc.parent else None,
                labels={lang: rc.name} if rc.name else {},
                description={lang: rc.description} if rc.description else {},
                color=refi_color(rc.color),
            )
        )
    return mapping, new


def _note_text(note: RefiNote) -> str | None:
    """A note's text as a memo: line ends as ``\n``, trimmed; None if empty."""
    if note.text is None:
        return None
    text = note.text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text or None


def _stamp(value: str | None) -> str | None:
    """An ``xsd:dateTime`` as the store's times (UTC ISO, milliseconds)."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds")


def _memos(
    refi: RefiProject,
    placed: list[tuple[int | None, str, str | None]],
    options: ImportOptions,
    used: set[str],
) -> list[ImportedMemo]:
    """Memos of a session from its notes, ``placed`` as (unit index or None
    for the session, note key, user GUID of the selection): one memo per
    (unit, coder), several notes joined with a blank line in file order, a
    note referenced twice from one unit once. Adds the notes to ``used``."""
    from qualcode.store.exchange import ImportedMemo

    groups: dict[tuple[int | None, str], list[RefiNote]] = defaultdict(list)
    seen: set[tuple[int | None, str]] = set()
    for unit, key, sel_user in placed:
        note = refi.notes[key]
        if (unit, key) in seen:
            continue
        seen.add((unit, key))
        coder = (
            options.coder
            or refi.users.get((note.user or "").lower())
            or refi.users.get((sel_user or "").lower())
            or "imported"
        )
        groups[(unit, coder)].append(note)
        used.add(key)
    out: list[ImportedMemo] = []
    for (unit, coder), notes in groups.items():
        stamps = [t for t in (_stamp(n.created) for n in notes) if t]
        text = "\n\n".join(t for t in (_note_text(n) for n in notes) if t)
        out.append(ImportedMemo(unit, coder, text, min(stamps) if stamps else None))
    return out


def _session_for(
    refi: RefiProject,
    src: RefiSource,
    name: str,
    code_map: dict[str, str],
    options: ImportOptions,
    result: QdpxImport,
    used: set[str] | None = None,
) -> ImportedSession:
    from qualcode.store.exchange import ImportedSession

    def readable(keys: list[str]) -> list[str]:
        return [k for k in keys if k in refi.notes and _note_text(refi.notes[k])]

    placed: list[tuple[int | None, str, str | None]] = [
        (None, k, None) for k in readable(src.notes)
    ]

    text = src.text or ""
    spans = [(s.start, s.end) for s in src.selections]
    units = offset_units(text, spans)
    result.offset_units[name] = units
    about = session_fields(src.description) if refi.origin == "qualcode" else {}
    # qualcode's own export is its plain text: its speakers are listed in
    # the source's description (an export before that: every "Name:" is
    # one); another tool's source may be a paper or a comment thread
    only = (
        _listed_speakers(about.get("speakers"))
        if refi.origin == "qualcode"
        else (transcript_speakers(text) or set())
    )
    built = build_text(text, speakers=options.speakers, only=only)
    if src.sync_points and built.utterances:
        _times(built, src)
    table = utf16_to_codepoints(text) if units == "utf16" else None
    # a source in exactly one set (MAXQDA's document sets, NVivo's sets) is
    # a session of that group
    sets = [name for name, members in refi.sets.items() if src.guid in members]
    session = Session(
        name=name,
        group=options.group or about.get("group") or (sets[0] if len(sets) == 1 else None),
        language=options.language or about.get("language"),
        recorded_at=about.get("recorded"),
        duration=_seconds(about.get("duration")),
        source_path=str(refi.path),
        source_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        source_format="qdpx",
        media_path=src.media_path,
        settings={"refi_guid": src.guid, "origin": refi.origin, "offset_units": units},
    )
    item = ImportedSession(session, Transcript(built.utterances, source_format="qdpx"))
    index: dict[tuple[int, int], int] = {}
    seen: set[tuple[int, str, str]] = set()
    outside = unknown = past = 0
    # the text's end in the file's own offsets
    text_end = len(table) - 1 if table is not None else len(text)
    for sel in src.selections:
        start, end = sel.start, sel.end
        if (sel.codings or sel.notes) and start < text_end < end:
            past += 1  # cut at the end of the text, said below
        if table is not None:
            last = len(table) - 1
            start, end = table[min(max(start, 0), last)], table[min(max(end, 0), last)]
        s, e = built.span(start, end)
        noted = readable(sel.notes)
        # a selection with only a note (an annotation) still becomes a unit
        if s >= e or not (sel.codings or noted):
            result.n_skipped += 1
            outside += bool(sel.codings or noted)
            continue
        if sel.codings:
            result.n_selections += 1
        key = (s, e)
        if key not in index:
            line = bisect.bisect_right(built.line_starts, s) - 1
            useq = None
            u = built.utterances[line] if line >= 0 else None
            if u is not None:
                prefix = len(u.speaker) + 2 if u.speaker else 0
                if e <= built.line_starts[line] + prefix + len(u.text):
                    useq = line
            seg = Segment(
                session_id=0,
                seq=len(item.segments),
                text=built.plain[s:e],
                char_start=s,
                char_end=e,
                start=u.start if useq is not None and u else None,
                end=u.end if useq is not None and u else None,
            )
            index[key] = len(item.segments)
            item.segments.append((seg, useq))
        placed.extend((index[key], k, sel.user) for k in noted)
        for code_guid, user in sel.codings:
            code = code_map.get(code_guid)
            if code is None:
                result.n_skipped += 1
                unknown += 1
                continue
            coder = options.coder or refi.users.get((user or sel.user or "").lower()) or "imported"
            decision = (index[key], code, coder)
            if decision not in seen:
                seen.add(decision)
                item.decisions.append(decision)
                result.n_codings += 1
                if coder not in result.coders:
                    result.coders.append(coder)
    if outside:
        result.problems.append(
            f"source {src.name or src.guid!r}: {outside} coded selection(s) outside its text "
            "or empty, not imported"
        )
    if unknown:
        result.problems.append(
            f"source {src.name or src.guid!r}: {unknown} coding(s) name a code that is not in "
            "the file's codebook, not imported"
        )
    if past:
        result.problems.append(
            f"source {src.name or src.guid!r}: {past} coded selection(s) run past the end of "
            "its text; imported up to the end"
        )
    if src.whole_codings:
        result.problems.append(
            f"source {src.name or src.guid!r}: {src.whole_codings} coding(s) of the whole "
            "source, not of a passage, not imported (qualcode codes passages)"
        )
    if src.skipped:
        result.problems.append(
            f"source {src.name or src.guid!r}: {src.skipped} selection(s) of the recording "
            "without transcript text, not imported"
        )
    item.memos = _memos(refi, placed, options, used if used is not None else set())
    result.n_memos += len(item.memos)
    return item


def _times(built, src: RefiSource) -> None:
    """Give utterances the times of the transcript's sync points: a sync point
    at a line's start (or on the line end just before it) sets that line's
    start; the next line's start is its end."""
    points = [(built.to_plain[min(p, len(built.to_plain) - 1)], ms) for p, ms in src.sync_points]
    timed: list[tuple[int, int]] = [(p, ms) for p, ms in points if ms is not None]
    if not timed:
        return
    positions = [p for p, _ in timed]
    for i, u in enumerate(built.utterances):
        k = bisect.bisect_right(positions, built.line_starts[i]) - 1
        if k >= 0 and positions[k] >= built.line_starts[i] - 1:
            u.start = timed[k][1] / 1000
    for i, u in enumerate(built.utterances):
        nxt = built.utterances[i + 1].start if i + 1 < len(built.utterances) else None
        if u.start is not None and nxt is not None:
            u.end = nxt


def media_path(url: str | None) -> str | None:
    """A REFI path (``absolute:///C:/x.mp4``, ``relative:///x.mp4``,
    ``internal://x.mp4``) as the path qualcode keeps for a session's media."""
    if not url:
        return None
    if url.startswith("absolute://"):
        rest = url[len("absolute://") :]
        # absolute:///C:/x (Windows) vs absolute:///home/x (POSIX)
        return rest[1:] if re.match(r"^/[A-Za-z]:/", rest) else rest
    return url


def _merge_media(sources: list[RefiSource]) -> list[RefiSource]:
    """A media source whose transcript is a text source's file (qualcode's
    own export does this) adds its recording and times to that text source
    instead of becoming a second session."""
    by_url = {s.text_url: s for s in sources if s.kind == "text" and s.text_url}
    out = []
    for src in sources:
        src.media_path = media_path(src.media_path)
        twin = by_url.get(src.text_url) if src.kind != "text" and src.text_url else None
        if twin is not None:
            twin.media_path = src.media_path
            twin.sync_points = src.sync_points
            twin.selections.extend(src.selections)
            twin.skipped += src.skipped
            twin.whole_codings += src.whole_codings
            twin.notes.extend(src.notes)
            continue
        out.append(src)
    return out


def qdpx_key(path: str | Path) -> str:
    """The settings key of the sessions a REFI-QDA file became: its sha256."""
    from qualcode.audio import sha256_file

    return "qdpx:" + sha256_file(path)


def import_qdpx(
    project: Project, path: str | Path, options: ImportOptions | None = None
) -> QdpxImport:
    """Import a REFI-QDA project file into ``project`` in one transaction:
    codes, text sources (and transcripts of audio/video sources) as
    sessions, coded selections as units with ``added`` decisions, notes on
    selections and sources as memos, cases' variables as speaker
    attributes."""
    options = options or ImportOptions()
    refi = read_project(path)
    result = QdpxImport(path=Path(path), origin=refi.origin)
    # every session of this file carries the file's fingerprint, so the same
    # file imported again is recognised (``qdpx_key``)
    key = qdpx_key(path)
    code_map, new_codes = _project_codes(project, refi)
    result.n_codes = len(code_map)
    result.codes_added = [c.id for c in new_codes]
    store = project.store
    taken = {s.name for s in store.sessions()}
    items = []
    used: set[str] = set()  # notes that became (part of) a memo
    for kind, what, n in refi.unread:
        result.problems.append(
            f"{kind} source {what!r} not imported (qualcode reads text sources and transcripts)"
            + (f"; its {n} coded selection(s) are left out" if n else "")
        )
    for src in _merge_media(refi.sources):
        result.n_skipped += src.skipped
        if src.text is None:
            result.n_skipped += len(src.selections)
            n = len(src.selections) + src.skipped
            n += src.whole_codings
            result.problems.append(
                f"source {src.name or src.guid!r} not imported: {src.why_no_text}"
                + (f" ({n} coding(s) in it)" if n else "")
            )
            continue
        base = src.name or src.guid
        name, n = base, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        item = _session_for(refi, src, name, code_map, options, result, used)
        item.session.settings_key = key
        items.append(item)
        result.sessions.append(name)
    result.n_notes = len(refi.notes)
    result.n_notes_skipped = len(refi.notes) - len(used)
    attributes = {c.name: c.values for c in refi.cases if c.values}
    store.import_exchange(new_codes, items, attributes, once=not options.again)
    speakers = {u.speaker for it in items for u in it.transcript.utterances if u.speaker}
    result.n_utterances = sum(len(it.transcript.utterances) for it in items)
    result.n_speakers = len(speakers)
    return result


def session_fields(description: str) -> dict[str, str]:
    """The ``key: value`` lines qualcode's export writes in a source's
    Description (``qdpx_write.session_description``): group, language,
    recording date."""
    from qualcode.exchange.qdpx_write import SESSION_FIELDS

    out = {}
    for line in description.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key in SESSION_FIELDS and value.strip():
            out[key] = value.strip()
    return out


def _listed_speakers(value: str | None) -> set[str] | None:
    """The speakers a qualcode export lists for a source; None (every
    "Name:" is a speaker) for an export that lists none or a list that
    cannot be read."""
    try:
        names = json.loads(value) if value else None
    except ValueError:
        return None
    if not isinstance(names, list):
        return None
    return {n for n in names if isinstance(n, str)}


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
