"""Coded units as tidy data: one row per (unit, code) for R, SPSS or Excel.

Theme counts (``qualcode.report``) answer "how often"; analysts who go on
in a statistics package need the rows behind the counts, with the speaker
attributes as columns, so they can cut them in ways the report does not.
The rows come from the same view of the decisions as the counts, so the
two always agree (a test proves it).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qualcode.errors import QualcodeError
from qualcode.outfile import replacing
from qualcode.spreadsheet import xlsx_cells
from qualcode.store.reports import View

UNIT_COLUMNS = ["session", "group", "speaker", "start", "end", "text", "code_id", "label", "coder"]


def unit_rows(
    store: Any, view: View, *, pseudonymize: bool = False, lang: str | None = None
) -> tuple[list[str], Iterator[list[Any]]]:
    """Tidy data for R, SPSS or Excel: (header, rows), one row per counted
    (unit, code), speaker attributes as extra columns. ``coder``: the coder
    of a one-coder view, else every coder who applied the code, comma-
    separated. With ``pseudonymize``, speakers become P1..Pn and names,
    e-mails and phone numbers in the text, session and group names are
    masked. Labels in ``lang``
    where the codebook has them."""
    from qualcode.pseudonymize import Pseudonymizer

    labels = {c.id: c.labels.get(lang or "") for c in store.codes(include_inactive=True)}
    attrs = store.participant_attribute_map()
    keys = sorted({k for a in attrs.values() for k in a})
    alias = Pseudonymizer.from_store(store) if pseudonymize else None
    header = UNIT_COLUMNS[:3] + keys + UNIT_COLUMNS[3:]

    def rows() -> Iterator[list[Any]]:
        for r in store.unit_codings(view):
            session, group, speaker, text = r.session, r.group, r.speaker, r.text
            if alias is not None:
                # sessions and groups are often named for a participant
                session, group = alias.text(session), alias.text(group)
                speaker, text = alias.name(speaker), alias.text(text)
            a = attrs.get(r.participant_id, {}) if r.participant_id is not None else {}
            yield [
                session,
                group,
                speaker,
                *[a.get(k) for k in keys],
                r.start,
                r.end,
                text,
                r.code_id,
                labels.get(r.code_id) or r.label,
                view.coder or r.coders,
            ]

    return header, rows()


def export_units(
    store: Any,
    view: View,
    path: Path | None,
    fmt: str,
    *,
    pseudonymize: bool = False,
    lang: str | None = None,
) -> int:
    """Write the coded units as csv (to standard output when ``path`` is
    None) or xlsx; returns the number of rows."""
    import contextlib
    import sys

    header, rows = unit_rows(store, view, pseudonymize=pseudonymize, lang=lang)
    n = 0
    if fmt == "csv":
        with contextlib.ExitStack() as stack:
            f = (
                stack.enter_context(
                    stack.enter_context(replacing(path)).open("w", encoding="utf-8", newline="")
                )
                if path is not None
                else sys.stdout
            )
            writer = csv.writer(f)
            writer.writerow(header)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                n += 1
    elif fmt == "xlsx":
        if path is None:
            raise QualcodeError("--format xlsx needs --out FILE.xlsx")
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("coded units")
        ws.append(xlsx_cells(ws, header))
        for row in rows:
            ws.append(xlsx_cells(ws, row))
            n += 1
        with replacing(path) as tmp:
            wb.save(tmp)
    else:
        raise QualcodeError(f"unknown format {fmt!r} for units; use csv or xlsx")
    return n
