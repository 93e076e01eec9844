"""Theme counts: what the groups talked about and how often.

Report authors need the same numbers cut several ways (per code, per
session, group, speaker or participant attribute, and which themes come up
together) and in files they can paste into a report. The counting happens
in SQL (``qualcode.store.reports``); this module decides *which decisions
count*, adds the percentages and writes the tables.

Which decisions count (``decision_view``):

* ``coder=NAME``: the units NAME applied the code to (accepted or added).
* default, the reconciled view: on units the lead coder has coded (any
  decision or a finished review), the lead coder's coding; on every other
  unit a code counts when *every* coder who coded that unit applied it.
  The lead coder is ``lead_coder`` in ``qualcode.yaml``; when it is unset and
  only one coder has decisions, that coder.

A unit counts once per code; parent codes roll up their children, so a unit
coded with two children of one parent counts once for the parent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from qualcode.errors import QualcodeError
from qualcode.outfile import write_text
from qualcode.spreadsheet import write_xlsx
from qualcode.store.reports import View

FORMATS = ("table", "csv", "json", "md", "xlsx")
RESERVED_BY = ("session", "group", "speaker")


@dataclass
class CodeCount:
    """One code's row in the frequency summary.

    units: units coded with it (or any of its children).
    share: units / codable units (0..1).
    minutes: summed duration of its timed units; None when no unit has times.
    """

    code_id: str
    label: str
    parent_id: str | None
    depth: int
    units: int
    share: float
    sessions: int
    speakers: int
    minutes: float | None
    active: bool = True  # False: left the codebook, listed for its decisions


@dataclass
class Report:
    view: str  # "coder:NAME", "reconciled (lead: NAME)" or "reconciled (unanimous)"
    codable_units: int
    rows: list[CodeCount]
    coded_units: int = 0  # of the codable units, those the view has coding for


@dataclass
class CrossTable:
    """Codes (rows) against ``by`` values (columns).

    counts[code][column]: units. row_pct: count / the code's units (rows sum
    to 100). col_pct: count / the column's codable units (codes overlap, so
    a column need not sum to 100).
    """

    by: str
    view: str
    codes: list[CodeCount]
    columns: list[str]
    column_units: dict[str, int]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, code_id: str, column: str) -> int:
        return self.counts.get(code_id, {}).get(column, 0)

    def row_pct(self, code_id: str, column: str) -> float:
        total = sum(self.counts.get(code_id, {}).values())
        return 100.0 * self.count(code_id, column) / total if total else 0.0

    def col_pct(self, code_id: str, column: str) -> float:
        base = self.column_units.get(column, 0)
        return 100.0 * self.count(code_id, column) / base if base else 0.0


@dataclass
class CoPair:
    """Two codes on the same units. jaccard = both / (a + b - both), which is
    also ATLAS.ti's c-coefficient: 0 never together, 1 always together."""

    code_a: str
    code_b: str
    both: int
    units_a: int
    units_b: int
    jaccard: float


# -- which decisions count ---------------------------------------------------


def decision_view(store: Any, lead_coder: str | None = None, coder: str | None = None) -> View:
    """The ``View`` for ``--coder`` or the reconciled default (see module doc).
    Names are read in one Unicode form (Päivi typed on a Mac is Päivi); a
    lead spelt otherwise than a coder of the project is refused, since their
    coding would silently not count."""
    from qualcode.project import coder_spelling, normal_name

    coders = store.coders()
    coder = normal_name(coder) if coder is not None else None
    lead_coder = normal_name(lead_coder) if lead_coder else None
    if lead_coder is not None:
        clash = coder_spelling(lead_coder, {*coders, *store.reviewers()})
        if clash is not None:
            raise QualcodeError(
                f"qualcode.yaml: lead_coder {lead_coder!r} is spelt {clash!r} in this project; "
                "use that spelling"
            )
    if coder is not None:
        # a coder who finished units without a code has no decisions, but coded
        if coder not in coders and not store.coder_unit_ids(coder):
            known = ", ".join(coders) or "none yet"
            raise QualcodeError(f"no decisions by coder {coder!r}; coders: {known}")
        return View(coder=coder)
    if lead_coder is None and len(coders) == 1:
        lead_coder = coders[0]
    return View(lead=lead_coder)


def view_name(view: View) -> str:
    if view.coder is not None:
        return f"coder:{view.coder}"
    return f"reconciled (lead: {view.lead})" if view.lead else "reconciled (unanimous)"


# -- building ----------------------------------------------------------------


def _ancestry(codes: list) -> dict[str, tuple[str, ...]]:
    """{code: (code, parent, grandparent, ...)} for the roll-up."""
    parents = {c.id: c.parent_id for c in codes}
    out = {}
    for cid in parents:
        chain, p = [cid], parents[cid]
        while p is not None and p not in chain:
            chain.append(p)
            p = parents.get(p)
        out[cid] = tuple(chain)
    return out


def rolled_up(codes: tuple[str, ...], ancestry: dict[str, tuple[str, ...]]) -> set[str]:
    """The codes a unit counts for: its codes and each ancestor, once."""
    return {a for c in codes for a in ancestry.get(c, (c,))}


def _code_totals(combos: list, ancestry: dict[str, tuple[str, ...]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in combos:
        for code in rolled_up(row.codes, ancestry):
            t = out.setdefault(
                code, {"units": 0, "sessions": set(), "speakers": set(), "timed": 0, "seconds": 0.0}
            )
            t["units"] += row.units
            t["sessions"].add(row.session_id)
            if row.participant_id is not None:
                t["speakers"].add(row.participant_id)
            t["timed"] += row.timed_units
            t["seconds"] += row.seconds
    return out


def build_report(
    store: Any,
    view: View,
    *,
    combos: list | None = None,
    bases: list | None = None,
    lang: str | None = None,
) -> Report:
    """Per code (codebook order, parents before children): units, share of
    codable units, sessions, speakers and coded minutes; labels in ``lang``
    where the codebook has them (else its English ones). ``combos`` and
    ``bases`` (``codable_unit_counts``) spare a cross-table the queries."""
    codes = store.codes(include_inactive=True)
    if combos is None:
        combos = store.code_combo_stats(view)
    ancestry = _ancestry(codes)
    stats = _code_totals(combos, ancestry)
    if bases is None:
        bases = store.codable_unit_counts()
    total = sum(n for _, _, n in bases)
    rows = []
    for c in codes:
        s = stats.get(c.id)
        if not c.active and s is None:
            continue  # a retired code nobody used
        rows.append(
            CodeCount(
                code_id=c.id,
                label=c.labels.get(lang or "", c.label),
                parent_id=c.parent_id,
                depth=len(ancestry[c.id]) - 1,
                units=s["units"] if s else 0,
                share=(s["units"] / total) if (s and total) else 0.0,
                sessions=len(s["sessions"]) if s else 0,
                speakers=len(s["speakers"]) if s else 0,
                minutes=(s["seconds"] / 60.0) if (s and s["timed"]) else None,
                active=c.active,
            )
        )
    return Report(
        view=view_name(view),
        codable_units=total,
        rows=rows,
        coded_units=store.coded_unit_count(view),
    )


def check_by(store: Any, by: str) -> str:
    if by in RESERVED_BY:
        return by
    keys = store.attribute_keys()
    if by not in keys:
        raise QualcodeError(
            f"unknown --by {by!r}; use session, group, speaker or a speaker attribute ("
            + (", ".join(keys) or "none set; see `qualcode speakers set`")
            + ")"
        )
    return by


def _column_of(store: Any, by: str) -> Callable[[int, int | None], str]:
    """Maps (session id, participant id) to the cross-table column."""
    if by in ("session", "group"):
        labels = store.session_labels()
        if by == "session":
            return lambda sid, pid: labels[sid][0]
        return lambda sid, pid: labels[sid][1] or "(none)"
    if by == "speaker":
        names = store.participant_names()
        return lambda sid, pid: names.get(pid, "(unknown)")  # pid None: unknown
    attrs = store.participant_attribute_map()
    # a unit without a speaker has no attributes to miss
    return lambda sid, pid: "(unknown)" if pid is None else attrs.get(pid, {}).get(by, "(missing)")


def build_crosstab(store: Any, view: View, by: str, lang: str | None = None) -> CrossTable:
    by = check_by(store, by)
    combos = store.code_combo_stats(view)
    bases = store.codable_unit_counts()
    report = build_report(store, view, combos=combos, bases=bases, lang=lang)
    column = _column_of(store, by)
    ancestry = _ancestry(store.codes(include_inactive=True))
    counts: dict[str, dict[str, int]] = {}
    for row in combos:
        col = column(row.session_id, row.participant_id)
        for code in rolled_up(row.codes, ancestry):
            cells = counts.setdefault(code, {})
            cells[col] = cells.get(col, 0) + row.units
    column_units: dict[str, int] = {}
    for sid, pid, n in bases:
        col = column(sid, pid)
        column_units[col] = column_units.get(col, 0) + n
    columns = sorted(set(column_units) | {k for cells in counts.values() for k in cells})
    return CrossTable(
        by=by,
        view=report.view,
        codes=report.rows,
        columns=columns,
        column_units=column_units,
        counts=counts,
    )


def build_cooccurrence(store: Any, view: View) -> list[CoPair]:
    """Every pair of codes applied together to at least one unit (codes as
    applied, no roll-up), most frequent first."""
    singles: dict[str, int] = {}
    pairs: dict[tuple[str, str], int] = {}
    for row in store.code_combo_stats(view):
        for code in row.codes:
            singles[code] = singles.get(code, 0) + row.units
        for a, b in combinations(row.codes, 2):  # codes are sorted
            pairs[(a, b)] = pairs.get((a, b), 0) + row.units
    out = []
    for (a, b), both in pairs.items():
        na, nb = singles[a], singles[b]
        out.append(CoPair(a, b, both, na, nb, both / (na + nb - both)))
    out.sort(key=lambda p: (-p.both, -p.jaccard, p.code_a, p.code_b))
    return out


# -- tabular form for every output format -------------------------------------


def report_table(report: Report) -> tuple[list[str], list[list[Any]]]:
    header = ["code", "label", "parent", "units", "share_pct", "sessions", "speakers", "minutes"]
    rows = [
        [
            r.code_id,
            r.label,
            r.parent_id or "",
            r.units,
            round(100 * r.share, 1),
            r.sessions,
            r.speakers,
            round(r.minutes, 2) if r.minutes is not None else None,
        ]
        for r in report.rows
    ]
    return header, rows


def crosstab_table(ct: CrossTable) -> tuple[list[str], list[list[Any]]]:
    """Long form: one row per (code, column) with count and both percentages."""
    header = ["code", "label", ct.by, "units", "row_pct", "col_pct", "column_units"]
    rows = [
        [
            c.code_id,
            c.label,
            col,
            ct.count(c.code_id, col),
            round(ct.row_pct(c.code_id, col), 1),
            round(ct.col_pct(c.code_id, col), 1),
            ct.column_units.get(col, 0),
        ]
        for c in ct.codes
        for col in ct.columns
    ]
    return header, rows


def crosstab_wide(ct: CrossTable) -> tuple[list[str], list[list[Any]]]:
    """Wide form for the terminal and markdown: counts with column percent."""
    header = ["code", *ct.columns, "total"]
    rows = []
    for c in ct.codes:
        cells = [
            f"{ct.count(c.code_id, col)} ({ct.col_pct(c.code_id, col):.0f}%)" for col in ct.columns
        ]
        rows.append(["  " * c.depth + c.code_id, *cells, c.units])
    return header, rows


def cooccurrence_table(pairs: list[CoPair]) -> tuple[list[str], list[list[Any]]]:
    header = ["code_a", "code_b", "both", "units_a", "units_b", "jaccard"]
    return header, [
        [p.code_a, p.code_b, p.both, p.units_a, p.units_b, round(p.jaccard, 3)] for p in pairs
    ]


def to_json(obj: Report | CrossTable | list[CoPair]) -> str:
    """Stable JSON shapes, documented in docs/reports.md."""
    data: Any
    if isinstance(obj, Report):
        data = asdict(obj)
    elif isinstance(obj, CrossTable):
        data = {
            "by": obj.by,
            "view": obj.view,
            "columns": obj.columns,
            "column_units": obj.column_units,
            "rows": [
                {
                    "code_id": c.code_id,
                    "label": c.label,
                    "units": c.units,
                    "cells": {
                        col: {
                            "units": obj.count(c.code_id, col),
                            "row_pct": round(obj.row_pct(c.code_id, col), 2),
                            "col_pct": round(obj.col_pct(c.code_id, col), 2),
                        }
                        for col in obj.columns
                    },
                }
                for c in obj.codes
            ],
        }
    else:
        data = [asdict(p) for p in obj]
    return json.dumps(data, ensure_ascii=False, indent=2)


def to_csv(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buf.getvalue()


def to_markdown(header: list[str], rows: list[list[Any]]) -> str:
    def cell(v: Any) -> str:
        return "" if v is None else str(v).replace("|", "\\|")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write(obj: Report | CrossTable | list[CoPair], fmt: str, out: Path | None = None) -> str | None:
    """Render ``obj`` as csv, json or md (returned, and written to ``out``
    when given) or xlsx (``out`` required). Returns the text, or None for xlsx."""
    if fmt not in FORMATS or fmt == "table":
        raise QualcodeError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS[1:])}")
    if isinstance(obj, Report):
        header, rows = report_table(obj)
        sheet = "theme counts"
    elif isinstance(obj, CrossTable):
        header, rows = crosstab_table(obj) if fmt != "md" else crosstab_wide(obj)
        sheet = f"by {obj.by}"
    else:
        header, rows = cooccurrence_table(obj)
        sheet = "co-occurrence"
    if fmt == "xlsx":
        if out is None:
            raise QualcodeError("--format xlsx needs --out FILE.xlsx")
        sheets = {sheet: (header, rows)}
        if isinstance(obj, CrossTable):
            sheets[f"{sheet} (wide)"] = crosstab_wide(obj)
        write_xlsx(out, sheets)
        return None
    if fmt == "json":
        text = to_json(obj)
    elif fmt == "csv":
        text = to_csv(header, rows)
    else:
        text = to_markdown(header, rows)
    if out is not None:
        write_text(out, text)
    return text
