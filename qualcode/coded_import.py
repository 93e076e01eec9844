"""Earlier hand coding brought into a project (``qualcode import-coded``).

A team that coded before qualcode (in a spreadsheet, another tool) has
its coding as rows of text and codes. Each row becomes one coding unit,
not cut again (the row is what was coded), with the coder's decisions, so
the suggestions learn from the team's past work and ``agree`` can compare
coders. A second coder's file of the same texts lands on the same units;
a fuller file of a session fills its gaps instead of making a second one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import FormatError, QualcodeError
from qualcode.gold import GoldUnit, code_names, read_gold
from qualcode.models import Decision, Segment, Session, Transcript, Utterance
from qualcode.project import coder_spelling, normal_name
from qualcode.transcript import utterance_spans

if TYPE_CHECKING:
    from qualcode.codebook import Codebook
    from qualcode.store import Store


def store_rows_as_units(store: Store, units: Sequence[GoldUnit], default_session: str) -> list[int]:
    """Each gold row becomes one utterance and one coding unit (not re-split:
    the unit is what was coded). Returns segment ids in row order."""
    by_session: dict[str, list[int]] = {}
    for i, u in enumerate(units):
        by_session.setdefault(u.session or default_session, []).append(i)
    ids = [0] * len(units)
    for name, rows in by_session.items():
        utterances = [Utterance(units[i].text, units[i].speaker) for i in rows]
        langs = {units[i].lang for i in rows if units[i].lang}
        session = Session(
            name=store.unique_session_name(name),
            language=langs.pop() if len(langs) == 1 else None,
            source_format="csv",
        )
        sid = store.add_session(session, Transcript(utterances))
        for i, seg_id in zip(rows, segment_rows(store, sid), strict=True):
            ids[i] = seg_id
    return ids


def segment_rows(store: Store, sid: int) -> list[int]:
    """One coding unit per utterance of a session made from coded rows."""
    stored = store.utterances(sid)
    segments = [
        Segment(
            session_id=sid,
            seq=k,
            text=u.text,
            char_start=s,
            char_end=e,
            speaker=u.speaker,
            participant_id=store.participant_id(u.speaker) if u.speaker else None,
            utterance_id=u.id,
        )
        for k, (u, (s, e)) in enumerate(zip(stored, utterance_spans(stored), strict=True))
    ]
    return store.replace_segments(sid, segments)


@dataclass
class ImportReport:
    sessions: list[str]  # sessions created
    n_units: int  # rows imported
    n_decisions: int
    attached: list[str] = field(default_factory=list)  # existing sessions coded again
    recoded: int = 0  # units the same coder had coded before: the file's coding replaced theirs
    # a session name taken by a session with other texts -> the name given instead
    renamed: dict[str, str] = field(default_factory=dict)
    # per created session, its speakers who also speak in another group's sessions
    shared_speakers: dict[str, dict[str, list[str]]] = field(default_factory=dict)


def _row_keys(rows: Sequence[GoldUnit], coder: str | None) -> list[tuple[str, int]]:
    """(text, occurrence) per row: the k-th row with a text from one coder
    is the k-th unit with that text, so a second coder's rows (in the same
    file or a later one) land on the same units as the first coder's."""
    seen: dict[tuple[str | None, str], int] = {}
    keys = []
    for u in rows:
        k = (u.coder or coder, u.text)
        keys.append((u.text, seen.get(k, 0)))
        seen[k] = seen.get(k, 0) + 1
    return keys


def _existing_units(
    store: Store,
    name: str,
    keys: Sequence[tuple[str, int]],
    speakers: Sequence[str | None] = (),
) -> tuple[str, list[int]] | None:
    """(session, unit ids of ``keys``) in an existing session called ``name`` (or
    ``name-2``, ``name-3``…: where an earlier import of these rows went when
    ``name`` was taken by other talk), when it has every one of them; a
    session made from a coded CSV whose units the rows hold in the same
    order (a coder's later, longer file) first gets the other rows as new
    units where the file has them. Else None: the rows become a new
    session."""
    taken = re.compile(re.escape(name) + r"-[0-9]+")
    renamed = [s for s in store.sessions() if taken.fullmatch(s.name) and s.source_format == "csv"]
    for session in filter(None, [store.find_session(name), *renamed]):
        found = _units_in(store, session, keys, speakers)
        if found is not None:
            return session.name, found
    return None


def _units_in(
    store: Store,
    session: Session,
    keys: Sequence[tuple[str, int]],
    speakers: Sequence[str | None],
) -> list[int] | None:
    have = _units_by_key(store, session.id or 0)
    if all(k in have for k in keys):
        return [have[k].id or 0 for k in keys]
    # every unit of the session must be among the rows, in the same order:
    # a file that merely shares a "Joo." with it is another session
    given = list(dict.fromkeys(keys))
    if session.source_format != "csv" or [k for k in given if k in have] != list(have):
        return None
    who = dict(zip(keys, speakers, strict=False))
    _merge_units(store, session, given, have, who)
    have = _units_by_key(store, session.id or 0)
    return [have[k].id or 0 for k in keys] if all(k in have for k in keys) else None


def _units_by_key(store: Store, session_id: int) -> dict[tuple[str, int], Segment]:
    """A session's units by (text, occurrence), in order: the k-th unit with
    a text is the k-th row with it."""
    seen: dict[str, int] = {}
    out: dict[tuple[str, int], Segment] = {}
    for seg in store.segments(session_id):
        out[(seg.text, seen.get(seg.text, 0))] = seg
        seen[seg.text] = seen.get(seg.text, 0) + 1
    return out


def _merge_units(
    store: Store,
    session: Session,
    order: Sequence[tuple[str, int]],
    have: Mapping[tuple[str, int], Segment],
    who: Mapping[tuple[str, int], str | None],
) -> None:
    """The session made from a coded CSV gets the rows it lacks as new units
    where the file has them (a coder's longer file: another coder's part of
    a session, or its rest); its own units stay what they are (same rows,
    ids and decisions: found again by their text)."""
    utterances = [
        Utterance(have[key].text, have[key].speaker)
        if key in have
        else Utterance(key[0], who.get(key))
        for key in order
    ]
    sid = store.add_session(session, Transcript(utterances), replace=True)
    segment_rows(store, sid)


def import_coded(
    store: Store, codebook: Codebook, path: str | Path, *, coder: str | None = None
) -> ImportReport:
    """Bring already-coded units (gold CSV shape plus ``coder``) into a project.

    Each row is a unit its coder coded completely: its codes become "added"
    decisions and the unit counts as done by that coder, so it teaches the
    model a "no" for every other code and takes part in ``qualcode agree``
    even with no code. Rows of a session that already exists with the same
    unit texts (another coder's file of the same units) are attached to its
    units; otherwise each session is created."""
    path = Path(path)
    if coder is not None and not coder.strip():
        raise QualcodeError("--coder is blank; give the coder's name")
    coder = normal_name(coder) if coder is not None else None
    leaves = [c.id for c in codebook.iter_codes() if c.is_leaf]
    parents = [c.id for c in codebook.iter_codes() if not c.is_leaf]
    rows = read_gold(path, leaves, parents=parents, names=code_names(codebook))
    for u in rows:
        if not (u.coder or coder):
            raise FormatError(path, "no coder: add a coder column or pass --coder NAME", u.line)
    keys = _row_keys(rows, coder)
    earlier = {*store.coders(), *store.reviewers()}
    named: list[str] = []
    for c in sorted({u.coder or coder or "" for u in rows}):
        # two coders who are one person would halve agreement and counts
        clash = coder_spelling(c, earlier)
        if clash is not None:
            raise QualcodeError(
                f"{path}: coder {c!r} is spelt {clash!r} in this project; "
                "use that spelling (coder names are case-sensitive)"
            )
        twin = coder_spelling(c, named)
        if twin is not None:
            raise QualcodeError(
                f"{path}: coder {c!r} is also spelt {twin!r} in this file; use one spelling "
                "(coder names are case-sensitive)"
            )
        named.append(c)
    groups: dict[str, list[int]] = {}
    for i, u in enumerate(rows):
        groups.setdefault(u.session or path.stem, []).append(i)
    ids = [0] * len(rows)
    created: list[str] = []
    attached: list[str] = []
    renamed: dict[str, str] = {}
    with store.transaction():
        for name, members in groups.items():
            existing = _existing_units(
                store, name, [keys[i] for i in members], [rows[i].speaker for i in members]
            )
            if existing is None:
                # one unit per distinct (text, occurrence), in first-seen order
                first: dict[tuple[str, int], int] = {}
                for i in members:
                    first.setdefault(keys[i], i)
                units = [replace(rows[i], session=name) for i in first.values()]
                before = {s.name for s in store.sessions()}
                new_ids = dict(zip(first, store_rows_as_units(store, units, name), strict=True))
                made = sorted({s.name for s in store.sessions()} - before)
                if name in before and made:
                    renamed[name] = made[0]
                created += made
                found = [new_ids[keys[i]] for i in members]
            else:
                into, found = existing
                attached.append(into)
            for i, seg_id in zip(members, found, strict=True):
                ids[i] = seg_id
        decisions = [
            Decision(seg_id, code, u.coder or coder or "", "added")
            for u, seg_id in zip(rows, ids, strict=True)
            for code in u.codes
        ]
        recoded, n_changed = (
            _replace_earlier(store, path, rows, ids, coder, decisions) if attached else (0, 0)
        )
        store.record_decisions(decisions)
        store.mark_coded_elsewhere(
            {(seg_id, u.coder or coder or "") for u, seg_id in zip(rows, ids, strict=True)}
        )
    return ImportReport(
        sessions=created,
        n_units=len(rows),
        n_decisions=len(decisions) + n_changed,
        attached=attached,
        recoded=recoded,
        renamed=renamed,
        shared_speakers={
            name: shared for name in created if (shared := store.speakers_in_other_groups(name))
        },
    )


def _replace_earlier(
    store: Store,
    path: Path,
    rows: Sequence[GoldUnit],
    ids: Sequence[int],
    coder: str | None,
    decisions: list[Decision],
) -> tuple[int, int]:
    """A coder's file of units they coded before (a corrected export, the
    same file again) replaces their earlier coding of those units: a code
    they had given that the row leaves out becomes a "rejected" decision,
    and each verdict that changes on those units is written one by one,
    logged as one undoable group per coder (``qualcode review``'s undo
    restores the earlier coding). Leaves in ``decisions`` only what is new;
    returns (units the coder had coded before, verdicts changed)."""
    earlier: dict[tuple[int, str], dict[str, str]] = {}
    for who in {u.coder or coder or "" for u in rows}:
        # a unit coded with no code has no decisions, only its "done"
        for seg_id, status in store.review_statuses(who).items():
            if status == "done":
                earlier[(seg_id, who)] = {}
        for d in store.decisions(coder=who):
            earlier.setdefault((d.segment_id, who), {})[d.code_id] = d.verdict
    changed: list[Decision] = []
    settled: set[tuple[int, str, str]] = set()
    recoded = 0
    for u, seg_id in zip(rows, ids, strict=True):
        who = u.coder or coder or ""
        before = earlier.get((seg_id, who))
        if before is None:
            continue
        recoded += 1
        for code in {*before, *u.codes}:
            given = before.get(code) in ("accepted", "added")
            if given != (code in u.codes):
                changed.append(Decision(seg_id, code, who, "added" if not given else "rejected"))
            settled.add((seg_id, code, who))
    for who in sorted({d.coder for d in changed}):
        # one undoable group per coder: undo in review restores the earlier coding
        store.log_action(who, f"import-coded {path.name}", None)
        for d in changed:
            if d.coder == who:
                store.record_decision(d)
    decisions[:] = [d for d in decisions if (d.segment_id, d.code_id, d.coder) not in settled]
    return recoded, len(changed)
