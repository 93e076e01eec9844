"""A session's plain text: the one text every offset refers to.

Exchange formats (REFI-QDA) and coding units address text by character
offsets, so the plain text must be derivable from the utterances alone and
never change for the same utterances: one line per utterance, ``Speaker: text``
(just ``text`` when the speaker is unknown), lines joined by ``\\n``, no
trailing newline. Offsets count Unicode code points, as the REFI-QDA standard
does.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from qualcode.errors import QualcodeError
from qualcode.models import Segment, Utterance

if TYPE_CHECKING:
    from qualcode.store import Store

# what diarization (qualcode's, pyannote's, WhisperX's) calls an unknown speaker
_MACHINE_LABEL = re.compile(r"(SPEAKER_)(\d+)")


def line_prefix(speaker: str | None) -> str:
    return f"{speaker}: " if speaker else ""


def plain_text(utterances: Iterable[Utterance]) -> str:
    return "\n".join(line_prefix(u.speaker) + u.text for u in utterances)


def utterance_spans(utterances: Iterable[Utterance]) -> list[tuple[int, int]]:
    """(start, end) offsets of each utterance's *text* (without the speaker
    prefix) in ``plain_text`` of the same utterances."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for u in utterances:
        start = pos + len(line_prefix(u.speaker))
        end = start + len(u.text)
        spans.append((start, end))
        pos = end + 1  # the newline
    return spans


def format_time(seconds: float | None, *, millis: bool = False) -> str:
    if seconds is None:
        return "--:--"
    total_ms = int(round(seconds * 1000))
    h, rem = divmod(total_ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    base = f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    return f"{base}.{ms:03d}" if millis else base


def separate_speaker_labels(utterances: list[Utterance], taken: set[str]) -> None:
    """Give a recording's machine labels (``SPEAKER_1``, ``SPEAKER_00``) that
    other sessions already use (``taken``) the next free number in the same
    style, in place. A speaker's name is one participant across the project,
    but one recording's SPEAKER_1 is not another's: without this, renaming or
    describing one would change both. When none is taken the labels stay as
    they are (``SPEAKER_2`` of ``--speakers channels`` is channel 2); when
    one is, they are numbered again in order of first appearance with the
    free numbers, so the recording still reads SPEAKER_3, SPEAKER_4 and not
    SPEAKER_4, SPEAKER_3."""
    labels = dict.fromkeys(
        u.speaker for u in utterances if u.speaker and _MACHINE_LABEL.fullmatch(u.speaker)
    )
    if not taken & set(labels):
        return
    used = set(taken)
    mapping: dict[str | None, str] = {}
    for label in labels:  # in order of first appearance
        match = _MACHINE_LABEL.fullmatch(label)
        assert match is not None
        prefix, digits = match.groups()
        k = 0 if digits.startswith("0") else 1
        while f"{prefix}{str(k).zfill(len(digits))}" in used:
            k += 1
        mapping[label] = f"{prefix}{str(k).zfill(len(digits))}"
        used.add(mapping[label])
    for u in utterances:
        u.speaker = mapping.get(u.speaker, u.speaker)


def carry_speaker_names(utterances: list[Utterance], before: list[Utterance]) -> dict[str, str]:
    """A recording transcribed again (``--force``): its machine labels take
    the names the researcher gave the same voices before (SPEAKER_1 ->
    Diane), matched by the time they speak over, one label to one name; in
    place. Without it the named speakers and their attributes were left
    with no turns and the reports went back to SPEAKER_1. Returns the
    mapping."""
    overlap: dict[tuple[str, str], float] = {}
    for u in utterances:
        if not (u.speaker and _MACHINE_LABEL.fullmatch(u.speaker)) or u.start is None:
            continue
        end = u.end if u.end is not None else u.start
        for v in before:
            if not v.speaker or v.start is None:
                continue
            both = min(end, v.end if v.end is not None else v.start) - max(u.start, v.start)
            if both > 0:
                key = (u.speaker, v.speaker)
                overlap[key] = overlap.get(key, 0.0) + both
    return _rename_by_weight(utterances, overlap)


def carry_names_by_text(utterances: list[Utterance], before: list[Utterance]) -> dict[str, str]:
    """A corrected transcript imported over a session (``import --session S
    --force``): its speakers take the names their turns had in the session
    (a split ``Sanna (t1)``, an alias), matched by the turns whose text is
    unchanged, one name to one name; in place. Returns the mapping."""
    said: dict[str, list[str]] = {}
    for v in before:
        if v.speaker:
            said.setdefault(v.text.strip(), []).append(v.speaker)
    votes: dict[tuple[str, str], int] = {}
    for u in utterances:
        olds = said.get(u.text.strip())
        if u.speaker and olds:
            key = (u.speaker, olds.pop(0))
            votes[key] = votes.get(key, 0) + 1
    return _rename_by_weight(utterances, votes)


def _rename_by_weight(
    utterances: list[Utterance], weights: dict[tuple[str, str], float] | dict[tuple[str, str], int]
) -> dict[str, str]:
    """Give each label the name it shares the most weight with, one label
    to one name, strongest pairs first; in place. Returns the renames."""
    mapping: dict[str, str] = {}
    for (label, name), _ in sorted(weights.items(), key=lambda kv: -kv[1]):
        if label not in mapping and name not in mapping.values():
            mapping[label] = name
    mapping = {label: name for label, name in mapping.items() if label != name}
    for u in utterances:
        if u.speaker in mapping:
            u.speaker = mapping[u.speaker]
    return mapping


def rename_speaker(
    store: Store, old: str, new: str, *, merge: bool = False, session_id: int | None = None
) -> bool:
    """Rename (or, with ``merge``, join) a speaker, moving the offsets of the
    coding units of every session they speak in: the name is part of each of
    their lines, so a longer or shorter one shifts every later unit (and a
    REFI-QDA export would put codings on the wrong words). With
    ``session_id``, only that session's turns change speaker (see
    ``Store.move_participant_turns``). One transaction. Returns True when
    ``new`` existed."""
    with store.transaction():
        everywhere = store.speaker_session_ids(old)
        sessions = everywhere
        if session_id is not None:
            if session_id not in everywhere:
                raise QualcodeError(f"{old!r} does not speak in that session; see `qualcode show`")
            sessions = [session_id]
        # where each offset lands once the name in its lines changes
        movers = {
            sid: rewrite_units(
                store.utterances(sid),
                (),
                lambda text, _unit: text,
                lambda name: new if name == old else name,
            )[1]
            for sid in sessions
        }
        if sessions == everywhere:
            merged = store.rename_participant(old, new, merge=merge)
        else:
            merged = store.move_participant_turns(session_id or 0, old, new, merge=merge)
        for sid, move in movers.items():
            store.set_segment_offsets(
                (g.id or 0, move(g.char_start), move(g.char_end))
                for g in store.segments(sid, include_retired=True)
            )
        return merged


def rewrite_units(
    utterances: list[Utterance],
    segments: Iterable[Segment],
    piece: Callable[[str, Segment | None], str],
    speaker: Callable[[str | None], str | None] = lambda name: name,
) -> tuple[list[Utterance], Callable[[int], int]]:
    """The utterances with each stretch between unit boundaries replaced by
    ``piece(text, unit)`` (``unit``: the unit that is exactly that stretch,
    else None) and speakers by ``speaker(name)``, and where an offset into
    the old plain text lands in the new one (a unit boundary exactly).
    Exports use it to carry coders' corrections and pseudonyms while each
    unit still covers exactly its own words. An utterance whose text changed
    loses its word timings (they would name the old words)."""
    by_utt: dict[int | None, list[Segment]] = {}
    for g in segments:
        by_utt.setdefault(g.utterance_id, []).append(g)
    out: list[Utterance] = []
    old_points: list[int] = []
    new_points: list[int] = []
    pos = old_pos = 0
    for u in utterances:
        old_start = old_pos + len(line_prefix(u.speaker))
        units = by_utt.get(u.id, []) if u.id is not None else []
        exact = {(g.char_start - old_start, g.char_end - old_start): g for g in units}
        cuts = {0, len(u.text)}
        for a, b in exact:
            cuts.update((a, b))
        bounds = sorted(c for c in cuts if 0 <= c <= len(u.text))
        name = speaker(u.speaker) if u.speaker else None
        at = pos + len(line_prefix(name))
        pieces: list[str] = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            old_points.append(old_start + a)
            new_points.append(at)
            pieces.append(piece(u.text[a:b], exact.get((a, b))))
            at += len(pieces[-1])
        old_points.append(old_start + bounds[-1])
        new_points.append(at)
        text = "".join(pieces)
        words = u.words if text == u.text else []
        out.append(
            Utterance(text=text, speaker=name, start=u.start, end=u.end, words=words, id=u.id)
        )
        pos = at + 1
        old_pos = old_start + len(u.text) + 1

    def move(offset: int) -> int:
        if not old_points:
            return offset
        i = max(bisect_right(old_points, offset) - 1, 0)
        moved = new_points[i] + max(offset - old_points[i], 0)
        # inside a stretch that got shorter: no further than where it ends
        return min(moved, new_points[i + 1]) if i + 1 < len(new_points) else moved

    return out, move


def corrected(text: str, unit: Segment | None) -> str:
    """A ``rewrite_units`` piece: a unit's corrected text where a coder fixed
    it in review (the transcript keeps the words the recognizer heard)."""
    return unit.text if unit is not None and unit.original_text is not None else text
