"""What a review front end shows: the code list, the current unit, progress,
and finding a code by part of its name.

Plain data and pure functions, shared by ``qualcode.review`` (which fills
them) and both front ends (which draw them).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from qualcode.models import Code, Segment, Suggestion

MAX_ITEMS = 9

# (key, what it does): shown in the help screen, the --plain prompt and docs
KEYS: tuple[tuple[str, str], ...] = (
    ("a", "accept the codes as shown (checked = apply, unchecked = reject), next unit"),
    ("x", "reject all codes in the list, next unit"),
    ("1-9", "toggle the n-th code of the list (saved at once)"),
    ("/", "find any code by part of its id or label (fi or en): apply it, or take it off"),
    ("n / p", "next / previous unit (arrow keys too)"),
    ("e", "edit the unit's text (fix a transcription error; the original is kept)"),
    ("m", "write a memo on the unit"),
    ("u", "undo your last action"),
    ("s", "skip the unit (come back to it later)"),
    ("space", "play the unit's audio (when the session has a recording)"),
    ("?", "help"),
    ("q", "quit (everything is already saved)"),
)


@dataclass
class ReviewOptions:
    """What a review session shows and how it learns.

    coder: whose decisions are read and written (never anyone else's).
    session: only this session's units (name or id).
    code: only units suggested or coded with this code id.
    order: ``uncertain`` (most informative first) or ``chronological``.
    only_unreviewed: leave out units this coder already finished.
    disagreements: only units this coder reviewed where their codes differ
        from the model's pre-selected ones (implies reviewed units are kept).
    threshold: suggestions scoring at least this are pre-selected ("as shown")
        and the uncertain-first queue centres on it (None: the project's
        ``suggest.threshold``, 0.5 by default).
    context: units shown before and after the current one.
    retrain_every: retrain in the background after this many decisions
        (None: the project's ``suggest.retrain_every``; 0: never).
    """

    coder: str
    session: str | int | None = None
    code: str | None = None
    order: str = "uncertain"
    only_unreviewed: bool = True
    disagreements: bool = False
    threshold: float | None = None
    context: int = 2
    retrain_every: int | None = None


@dataclass
class CodeItem:
    """One numbered line of the code list."""

    code_id: str
    label: str
    score: float | None  # None: not suggested (the coder added it)
    rationale: str
    checked: bool  # what "accept as shown" would apply
    verdict: str | None  # the coder's stored decision, if any


@dataclass
class UnitView:
    """Everything a front end shows for the current unit."""

    segment: Segment
    session_name: str
    position: int  # 0-based index in the queue
    queue_size: int
    before: list[Segment]
    after: list[Segment]
    items: list[CodeItem]
    status: str | None  # done / skipped / None
    memo: str | None


@dataclass
class Progress:
    reviewed: int
    total: int
    per_session: list[tuple[str, int, int]] = field(default_factory=list)


def fold(text: str) -> str:
    """Case- and accent-insensitive form for search (ä matches a, É matches e)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def code_label(code: Code, lang: str | None = None) -> str:
    if lang and code.labels.get(lang):
        return code.labels[lang]
    return code.labels.get("en") or code.label


def search_codes(codes: list[Code], query: str) -> list[Code]:
    """Codes whose id or any label contains ``query`` (case and accents
    ignored); exact id first, then ids starting with it, then the rest."""
    q = fold(query.strip())
    if not q:
        return list(codes)
    hits = []
    for c in codes:
        texts = [c.id, c.label, *c.labels.values()]
        if any(q in fold(t) for t in texts):
            rank = 0 if fold(c.id) == q else 1 if fold(c.id).startswith(q) else 2
            hits.append((rank, c.position, c))
    return [c for _, _, c in sorted(hits, key=lambda h: (h[0], h[1]))]


def code_items(
    suggestions: list[Suggestion],
    mine: dict[str, str],
    code_by_id: dict[str, Code],
    lang: str | None,
    threshold: float,
) -> list[CodeItem]:
    """A unit's numbered code list: its suggestions best first (at most
    ``MAX_ITEMS``), then codes the coder added. ``mine``: the coder's
    verdict per code; checked = that verdict, else the model's pick."""
    out: list[CodeItem] = []
    seen: set[str] = set()
    for s in suggestions[:MAX_ITEMS]:
        verdict = mine.get(s.code_id)
        checked = verdict in ("accepted", "added") if verdict else s.score >= threshold
        code = code_by_id.get(s.code_id)
        label = code_label(code, lang) if code else s.code_id
        out.append(CodeItem(s.code_id, label, s.score, s.rationale, checked, verdict))
        seen.add(s.code_id)
    for code_id, verdict in mine.items():
        if code_id in seen:
            continue
        code = code_by_id.get(code_id)
        label = code_label(code, lang) if code else code_id
        checked = verdict in ("accepted", "added")
        out.append(CodeItem(code_id, label, None, "added by you", checked, verdict))
    return out
