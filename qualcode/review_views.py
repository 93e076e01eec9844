"""What a review front end shows: the code list, the current unit, progress,
and finding a code by part of its name.

Plain data and pure functions, shared by ``qualcode.review`` (which fills
them) and both front ends (which draw them).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from qualcode.models import Code, Segment


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
