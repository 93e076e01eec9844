"""Where a coder's work goes when a session is cut into units again.

Re-segmenting (other options, a corrected transcript, a colleague's re-cut)
retires units; the decisions, reviews and memos on them must follow their
words to the new units, or they drop out of every count. Each retired unit
is matched to the new unit at its place with its text, the same text
elsewhere, the unit that now holds its words, or one with a misheard word
corrected; units joined into one merge their histories. What finds no home
stays retired with its history and is reported.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from qualcode.models import Segment

if TYPE_CHECKING:
    from qualcode.store import Store

# a word as segmentation counts them (``qualcode.segment`` uses the same)
WORD = re.compile(r"\w[\w'’-]*")


def _words(text: str) -> list[str]:
    return WORD.findall(text)


def carry_histories(
    store: Store, session_id: int, units: list[Segment], new_ids: list[int]
) -> tuple[int, list[Segment]]:
    """Move the history of the session's retired units to the new ``units``
    (already stored, ids in ``new_ids``), inside the caller's transaction.
    Returns (units whose history was kept, retired units left with theirs)."""
    orphaned: list[Segment] = []
    by_id = {u.id: u for u in units}
    # per joined unit and coder, the stretches of it (offsets in its text)
    # they had finished: a unit holding words a coder never read is not
    # finished by them, whatever the status the first part brought
    read: dict[int, dict[str, list[tuple[int, int]]]] = {}

    def arrive(old: Segment, target: int) -> None:
        unit = by_id.get(target)
        if unit is None or unit.text in (old.text, old.original_text):
            return
        heard = old.original_text or old.text
        at = unit.text.find(heard)
        if at < 0:
            return
        stretches = read.setdefault(target, {})
        for coder, status in store.unit_review_statuses(old.id or 0).items():
            if status == "done":
                stretches.setdefault(coder, []).append((at, at + len(heard)))
        if old.original_text and old.text != old.original_text:
            # the coder's correction of these words, into the longer unit
            store.carry_correction(target, old.original_text, old.text)

    # unchanged units kept their rows, with whatever coders did on them
    # (a unit inserted just now has no history yet)
    taken = set(new_ids) & store.segment_ids_with_history(session_id)
    kept = len(taken)
    # exact place first, then the same text elsewhere (a turn inserted before it)
    free_by_place = {(u.char_start, u.text): u.id for u in units}
    free_by_text: dict[str, list[int]] = {}
    for u in units:
        free_by_text.setdefault(u.text, []).append(u.id or 0)
    for old in store.retired_segments(session_id):
        target = free_by_place.get((old.char_start, old.text))
        if target is None or target in taken:
            # a corrected unit may match by the text the transcript had
            texts = [old.text] + ([old.original_text] if old.original_text else [])
            target = next(
                (i for t in texts for i in free_by_text.get(t, []) if i not in taken), None
            )
        # the unit holding its words at their place, looked up once
        held = _holding(old, units) if target is None else None
        if held is not None and held not in taken:
            target = held
        if target is None:
            target = _merged_into(old, units, taken) or _corrected_in(old, units, taken)
        if target is None:
            # a unit the new cut joined to a neighbour whose history is
            # there already (three one-sentence units became one): both
            # coders' work stays, a code applied to either part applied
            joined = held or _merged_into(old, units, set())
            if joined is not None:
                arrive(old, joined)
                store.merge_segment_history(old.id or 0, joined)
                kept += 1
                continue
            orphaned.append(old)
            continue
        arrive(old, target)
        store.move_segment_history(old.id or 0, target)
        taken.add(target)
        kept += 1
    unfinished = [
        (target, coder)
        for target, stretches in read.items()
        for coder, status in store.unit_review_statuses(target).items()
        if status == "done" and not _covered(by_id[target].text, stretches.get(coder, []))
    ]
    store.unfinish_units(unfinished)
    return kept, orphaned


def _covered(text: str, stretches: list[tuple[int, int]]) -> bool:
    """Whether the stretches cover every word of ``text``."""
    mask = [False] * len(text)
    for a, b in stretches:
        mask[a:b] = [True] * (b - a)
    return not any(ch.isalnum() and not seen for ch, seen in zip(text, mask, strict=True))


def _holding(old: Segment, units: list[Segment]) -> int | None:
    """The new unit that holds a retired unit's very words at their place in
    the session's text (a cut of the same transcript joined it to its
    neighbours): however short ("Ben, any news?"), it is no guess."""
    for u in units:
        if u.char_start <= old.char_start and old.char_end <= u.char_end and u.codable:
            inner = u.text[old.char_start - u.char_start : old.char_end - u.char_start]
            if inner in (old.text, old.original_text) and u.text != inner:
                return u.id
    return None


def _merged_into(old: Segment, units: list[Segment], taken: set[int]) -> int | None:
    """The new unit that now holds a retired unit's whole text beside its
    neighbour's (cut otherwise, e.g. after a correction moved a sentence
    end), nearest to where it was; only for a text of four words or more
    (a "Joo." is in many units) and a unit no other history went to."""
    texts = [t for t in (old.text, old.original_text) if t and len(_words(t)) >= 4]
    candidates = [
        u
        for u in units
        if u.id not in taken and u.codable and any(t in u.text and t != u.text for t in texts)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda u: abs(u.char_start - old.char_start)).id


def _corrected_in(old: Segment, units: list[Segment], taken: set[int]) -> int | None:
    """The new unit that holds a retired unit's words with a few corrected
    (a misheard word fixed in a corrected transcript): three in four words
    the same, same speaker, four words or more; the most alike, then the
    nearest. The coder's decisions were about these words."""
    from difflib import SequenceMatcher

    words = [w.casefold() for w in _words(old.text)]
    if len(words) < 4:
        return None
    best: tuple[float, int, int] | None = None
    for u in units:
        if u.id in taken or not u.codable or u.participant_id != old.participant_id:
            continue
        match = SequenceMatcher(None, words, [w.casefold() for w in _words(u.text)], False)
        if match.real_quick_ratio() < 0.75 or match.quick_ratio() < 0.75:
            continue
        key = (match.ratio(), -abs(u.char_start - old.char_start), u.id or 0)
        if key[0] >= 0.75 and (best is None or key > best):
            best = key
    return best[2] if best is not None else None
