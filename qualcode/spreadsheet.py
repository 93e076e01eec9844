"""Excel files that open: what every ``.xlsx`` qualcode writes goes through here.

Reports and unit exports reach readers who open them in Excel, so two
things a transcript may hold are made harmless in one place: control
characters openpyxl refuses (one would abort the whole export) and text that
starts with "=" (stored as a formula, a broken cell at best and at worst one
that runs when the file is opened).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qualcode.outfile import replacing


def xlsx_safe(row: list[Any]) -> list[Any]:
    """``row`` with the control characters openpyxl refuses removed from its
    strings. Import cleans transcripts, but projects imported before that
    and speaker attributes set by hand may still hold them, and one such
    character would otherwise abort the whole export."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]


def xlsx_cells(ws: Any, row: list[Any]) -> list[Any]:
    """``xlsx_safe(row)`` for ``ws.append``, with text that starts with "="
    kept as text: openpyxl would store it as a formula, a broken cell at best
    and at worst one that runs when the file is opened (formula injection
    from a transcript or a coder's edit)."""
    from openpyxl.cell import WriteOnlyCell

    out: list[Any] = []
    for v in xlsx_safe(row):
        if isinstance(v, str) and v.startswith("="):
            cell = WriteOnlyCell(ws, value=v)
            cell.data_type = "s"
            v = cell
        out.append(v)
    return out


def write_xlsx(path: Path, sheets: dict[str, tuple[list[str], list[list[Any]]]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, (header, rows) in sheets.items():
        # the sheet name can carry an attribute key (`--by KEY`)
        ws = wb.create_sheet(xlsx_safe([name])[0][:31])
        ws.append(xlsx_cells(ws, header))
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append(xlsx_cells(ws, row))
        ws.freeze_panes = "A2"
    with replacing(path) as tmp:
        wb.save(tmp)
