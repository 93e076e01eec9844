"""Codes of another tool's project as qualcode codes: ids and colours.

REFI-QDA names codes ("1. Oltás típusa") and gives them GUIDs; a qualcode
codebook needs short, stable ids a coder can type (``c_1_oltas_tipusa``)
that never collide with the project's own. Shared by the project import
and the codebook import.
"""

from __future__ import annotations

import re
import unicodedata

from qualcode.exchange.refi import RefiCode

COLOR_RE = re.compile(r"^#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


def slug(name: str) -> str:
    """A code id from a label: lowercase snake_case ASCII starting with a letter."""
    ascii_ = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_.lower())
    out = "_".join(words)[:60].strip("_") or "code"
    return out if out[0].isalpha() else f"c_{out}"


def code_ids(
    codes: list[RefiCode], taken: set[str] | None = None, reuse: dict[str, str] | None = None
) -> dict[str, str]:
    """Unique snake_case ids for REFI codes (guid -> id); ``reuse`` gives
    the id a code already has in the project (guid -> id), kept once."""
    taken = set(taken or ())
    out: dict[str, str] = {}
    for c in codes:
        known = (reuse or {}).get(c.guid)
        if known and known not in taken:
            taken.add(known)
            out[c.guid] = known
            continue
    for c in codes:
        if c.guid in out:
            continue
        base = slug(c.name)
        cid, n = base, 2
        while cid in taken:
            cid, n = f"{base}_{n}", n + 1
        taken.add(cid)
        out[c.guid] = cid
    return out


def refi_color(value: str | None) -> str | None:
    return value.lower() if value and COLOR_RE.match(value) else None
