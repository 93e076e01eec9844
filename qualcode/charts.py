"""Figures for reports: a bar chart of theme counts, a heatmap of a cross-table.

Report authors want a figure they can drop into a document, made on the
machine without a display, so matplotlib runs on its Agg backend and is
imported only here, inside the functions (``qualcode --help`` stays fast).
The file type follows the suffix: ``.png`` (200 dpi) or ``.svg``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import QualcodeError
from qualcode.outfile import replacing

if TYPE_CHECKING:
    from qualcode.report import CrossTable, Report

SUFFIXES = (".png", ".svg")


def check_path(path: Path) -> None:
    """Refuse a chart file name matplotlib would not write, before any work."""
    if path.suffix.lower() not in SUFFIXES:
        raise QualcodeError(f"{path}: a chart is written as .png or .svg; change the file name")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# a label this long is cut (the full label is in the table); a title wraps
LABEL_CHARS = 60
TITLE_CHARS = 70


def _label(text: str, indent: str) -> str:
    """Cut in the middle: labels that share a long start ("Focus group with
    educators … session 3") stay apart by their ends."""
    if len(text) > LABEL_CHARS:
        tail = LABEL_CHARS // 3
        text = text[: LABEL_CHARS - tail - 1].rstrip() + "…" + text[-tail:].lstrip()
    return indent + text


def _save(fig, path: Path) -> None:
    """Saved with its margins fitted to what is drawn: tight_layout warned
    (several lines on the terminal) and cut long labels off at the edge."""
    import textwrap

    for ax in fig.axes:
        title = ax.get_title()
        if len(title) > TITLE_CHARS:
            ax.set_title("\n".join(textwrap.wrap(title, TITLE_CHARS)))
    with replacing(path) as tmp, warnings.catch_warnings():
        # an empty chart (no sessions yet) is a blank figure, not a warning
        warnings.simplefilter("ignore", UserWarning)
        fig.savefig(tmp, dpi=200, bbox_inches="tight", pad_inches=0.2)


def bar_chart(report: Report, path: str | Path, *, title: str | None = None) -> Path:
    """Horizontal bars: units per code, children indented under parents,
    codebook order top to bottom."""
    path = Path(path)
    check_path(path)
    plt = _pyplot()
    rows = report.rows
    labels = [_label(r.label, "    " * r.depth) for r in rows]
    values = [r.units for r in rows]
    colors = ["#4c72b0" if r.depth else "#1f3b63" for r in rows]
    # a codebook of hundreds of codes (MAXQDA's) gets thinner bars
    fig, ax = plt.subplots(figsize=(8, (0.4 if len(rows) <= 40 else 0.25) * len(rows) + 1.2))
    bars = ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), labels)
    # top to bottom, without the default 5 % margin (rows of blank space
    # above and below a long codebook)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.bar_label(bars, padding=3)
    ax.set_xlabel("coded units")
    ax.set_title(title or f"Theme counts ({report.view}, {report.codable_units} codable units)")
    ax.spines[["top", "right"]].set_visible(False)
    _save(fig, path)
    plt.close(fig)
    return path


def heatmap(ct: CrossTable, path: str | Path, *, title: str | None = None) -> Path:
    """Codes against the cross-table's columns; colour is the column percent
    (share of the column's units), the cell text the unit count."""
    path = Path(path)
    check_path(path)
    plt = _pyplot()
    codes = ct.codes
    grid = [[ct.col_pct(c.code_id, col) for col in ct.columns] for c in codes]
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 * len(ct.columns) + 3), 0.45 * len(codes) + 1.8))
    with warnings.catch_warnings():
        # no sessions yet: an empty grid is a blank figure, not a warning
        warnings.simplefilter("ignore", UserWarning)
        image = ax.imshow(grid or [[0.0]], cmap="Blues", aspect="auto", vmin=0)
    ax.set_xticks(
        range(len(ct.columns)), [_label(c, "") for c in ct.columns], rotation=45, ha="right"
    )
    ax.set_yticks(range(len(codes)), [_label(c.label, "  " * c.depth) for c in codes])
    top = max((v for row in grid for v in row), default=0.0) or 1.0
    for i, c in enumerate(codes):
        for j, col in enumerate(ct.columns):
            ax.text(
                j,
                i,
                str(ct.count(c.code_id, col)),
                ha="center",
                va="center",
                color="white" if grid[i][j] > top / 2 else "black",
                fontsize=8,
            )
    fig.colorbar(image, ax=ax, label=f"% of the {ct.by}'s units")
    ax.set_title(title or f"Codes by {ct.by}, {ct.view}")
    _save(fig, path)
    plt.close(fig)
    return path
