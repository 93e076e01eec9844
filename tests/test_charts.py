"""Charts are real image files that show the labels and counts."""

from __future__ import annotations

import pytest

from qualcode.charts import bar_chart, heatmap
from qualcode.errors import QualcodeError
from qualcode.report import CodeCount, CrossTable, Report


def _report() -> Report:
    rows = [
        CodeCount("third_sector", "Third sector", None, 0, 5, 0.5, 2, 3, 1.5),
        CodeCount("funding", "Funding", "third_sector", 1, 4, 0.4, 2, 2, 1.0),
        CodeCount("volunteers", "Volunteers", "third_sector", 1, 17, 0.1, 1, 1, None),
    ]
    return Report(view="coder:ann", codable_units=10, rows=rows)


def test_bar_chart_png_and_svg(tmp_path):
    png = bar_chart(_report(), tmp_path / "counts.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 5000
    svg = bar_chart(_report(), tmp_path / "counts.svg").read_text()
    # matplotlib draws text as glyph paths and names each string in a comment
    assert svg.startswith("<?xml") and "<svg" in svg
    assert "Volunteers" in svg and "17" in svg


def test_hundreds_of_long_labels_fit_without_a_warning(tmp_path):
    """A MAXQDA codebook (307 codes, labels of whole sentences): tight_layout
    printed a multi-line warning, cut labels at the left edge and left
    thousands of blank pixels; the title ran off the right edge."""
    import struct
    import warnings

    long = "Assertion about how the learners framed the problem in their own words " * 2
    rows = [CodeCount(f"c{i}", f"{long} {i}", None, 0, i % 7, 0.1, 1, 1, None) for i in range(307)]
    report = Report(
        view="reconciled (unanimous: every coder who coded a unit)", codable_units=32147, rows=rows
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = bar_chart(report, tmp_path / "many.png")
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert width < 2400 and height < 0.3 * 307 * 200 + 600
    svg = bar_chart(report, tmp_path / "many.svg").read_text()
    assert "…" in svg and long not in svg  # cut, with the full label in the table
    assert "32147" in svg


def test_heatmap(tmp_path):
    report = _report()
    ct = CrossTable(
        by="session",
        view=report.view,
        codes=report.rows,
        columns=["s1", "s2"],
        column_units={"s1": 6, "s2": 4},
        counts={"funding": {"s1": 3, "s2": 1}, "third_sector": {"s1": 4, "s2": 1}},
    )
    out = heatmap(ct, tmp_path / "by-session.svg")
    svg = out.read_text()
    assert "s1" in svg and "Funding" in svg
    out = heatmap(ct, tmp_path / "by-session.png")
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_refuses_other_suffixes(tmp_path):
    with pytest.raises(QualcodeError, match=r"\.png or \.svg"):
        bar_chart(_report(), tmp_path / "counts.pdf")
    assert not (tmp_path / "counts.pdf").exists()


def test_long_labels_that_share_their_start_stay_apart():
    from qualcode.charts import _label

    names = [
        f"Focus group with educators from the northern regional teacher college m{i}"
        for i in range(5)
    ]
    cut = {_label(n, "") for n in names}
    assert len(cut) == 5 and all("…" in c and len(c) <= 60 for c in cut)
    assert _label("Funding", "  ") == "  Funding"


def test_an_empty_cross_table_chart_warns_nothing(tmp_path):
    import warnings

    report = _report()
    ct = CrossTable(by="session", view=report.view, codes=report.rows, columns=[], column_units={})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        heatmap(ct, tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 1000
