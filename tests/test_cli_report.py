"""`qualcode report`, `report cooccurrence`, `agree` and `export units` through the CLI."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from test_report import build_tiny  # the hand-computed tiny project
from typer.testing import CliRunner

from qualcode.cli.main import app

runner = CliRunner()
DATA = Path(__file__).parent / "data"


@pytest.fixture
def proj(project):
    build_tiny(project.store)
    project.config.lead_coder = "ann"
    project.save_config()
    project.close()
    return str(project.root)


def run(*args: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_report_json_and_table(proj):
    r = run("report", "--format", "json", "-P", proj)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["view"] == "reconciled (lead: ann)"
    rows = {x["code_id"]: x for x in data["rows"]}
    assert rows["support"]["units"] == 3 and rows["independent_work"]["units"] == 4

    r = run("report", "--coder", "bob", "-P", proj)
    assert r.exit_code == 0, r.output
    assert "coder:bob" in r.output and "volunteers" in r.output
    assert "No coded units" not in r.output


def test_report_table_into_a_pipe_is_not_squeezed_to_80_columns(proj):
    # rich assumes 80 columns without a terminal: the table used to wrap
    # "Specifics of third-sector work" over four lines
    r = runner.invoke(app, ["report", "--lang", "en", "-P", proj], env={"COLUMNS": None})
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if "third_sector" in line)
    assert "Specifics of third-sector work" in row
    assert "share_pct" in r.output and "speakers" in r.output


def test_report_by_attribute_csv_file_and_chart(proj, tmp_path):
    out, chart = tmp_path / "by.csv", tmp_path / "by.png"
    r = run(
        "report",
        "--by",
        "sector",
        "--format",
        "csv",
        "--out",
        str(out),
        "--chart",
        str(chart),
        "-P",
        proj,
    )
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    cell = next(x for x in rows if x["code"] == "support" and x["sector"] == "ngo")
    assert cell["units"] == "1" and cell["col_pct"] == "33.3"
    assert chart.read_bytes()[:4] == b"\x89PNG"


def test_report_errors(proj):
    r = run("report", "--by", "age", "-P", proj)
    assert r.exit_code == 1 and "unknown --by 'age'" in r.output
    r = run("report", "--coder", "zed", "-P", proj)
    assert r.exit_code == 1 and "coders: ann, bob" in r.output
    r = run("report", "--format", "xlsx", "-P", proj)
    assert r.exit_code == 1 and "--out" in r.output
    r = run("report", "--chart", "counts.jpg", "-P", proj)
    assert r.exit_code == 1 and "counts.jpg: a chart is written as .png or .svg" in r.output
    assert "Theme counts" not in r.output  # refused before the table, not after it


def test_the_format_follows_the_file_name_and_a_mismatch_is_refused(proj, tmp_path):
    """`--out r.xlsx` alone wrote nothing (report) or CSV text into a .xlsx
    file (export units) that Excel then refused to open."""
    import zipfile

    for args, name in (
        (["report"], "r.xlsx"),
        (["report", "cooccurrence"], "c.xlsx"),
        (["export", "units"], "u.xlsx"),
    ):
        target = tmp_path / name
        r = run(*args, "--out", str(target), "-P", proj)
        assert r.exit_code == 0, r.output
        assert zipfile.is_zipfile(target), name
    r = run("report", "--out", str(tmp_path / "r.json"), "-P", proj)
    assert r.exit_code == 0 and json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    r = run("export", "units", "--format", "csv", "--out", str(tmp_path / "x.xlsx"), "-P", proj)
    assert r.exit_code == 1 and "named for xlsx but --format is csv" in r.output
    assert not (tmp_path / "x.xlsx").exists()
    r = run("report", "--out", str(tmp_path / "r.txt"), "-P", proj)
    assert r.exit_code == 1 and "writes csv or json or md or xlsx, not txt" in r.output
    r = run("report", "--out", str(tmp_path / "r.out"), "-P", proj)
    assert r.exit_code == 1 and "cannot tell the format from the file name" in r.output
    r = run("report", "--format", "md", "--out", str(tmp_path / "r.txt"), "-P", proj)
    assert r.exit_code == 0 and (tmp_path / "r.txt").read_text(encoding="utf-8").startswith("|")
    r = run("report", "--format", "csv", "--out", str(tmp_path / "r.pdf"), "-P", proj)
    assert r.exit_code == 1 and "named for pdf but --format is csv; use a .csv name" in r.output
    r = run("report", "--format", "xlsx", "--out", str(tmp_path / "r.txt"), "-P", proj)
    assert r.exit_code == 1 and "use a .xlsx name" in r.output and "--format txt" not in r.output
    r = run("export", "units", "--out", str(tmp_path / "u.json"), "-P", proj)
    assert r.exit_code == 1 and "this command writes csv or xlsx, not json" in r.output
    r = run("export", "units", "--out", "-", "-P", proj)
    assert r.exit_code == 0 and "\nsession,group,speaker" in r.output


def test_cooccurrence(proj):
    r = run("report", "cooccurrence", "--format", "json", "-P", proj)
    assert r.exit_code == 0, r.output
    pairs = {(p["code_a"], p["code_b"]): p for p in json.loads(r.output)}
    assert pairs[("funding", "support")]["jaccard"] == pytest.approx(0.25)


def test_agree(proj):
    r = run("agree", "--coders", "ann", "bob", "--json", "-P", proj)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    # u7 was coded by bob alone; u4 by nobody: 5 shared units
    assert data["units"] == 5
    support = next(c for c in data["codes"] if c["code_id"] == "support")
    # ann: u1 u2 u6; bob: u1 -> agree on u1, u3, u5 = 3 of 5
    assert support["percent"] == pytest.approx(60.0)
    assert support["applied"] == {"ann": 3, "bob": 1}
    assert {(d["code_id"], d["session"]) for d in data["disagreements"]} >= {("support", "s2")}

    r = run("agree", "--coders", "ann", "bob", "--show-disagreements", "-P", proj)
    assert r.exit_code == 0, r.output
    assert "OVERALL" in r.output and "disagreement" in r.output
    # units by the number review and suggest show
    assert re.search(r"│ s\d\s+│ #\d+ ", r.output), r.output
    r = run("agree", "--coders", "ann", "-P", proj)
    assert r.exit_code == 1 and "at least two" in r.output
    r = run("agree", "--against-model", "-P", proj)
    assert r.exit_code == 1 and "--coders A --against-model" in r.output
    r = run("agree", "--coders", "ann", "bob", "--threshold", "0.4", "-P", proj)
    assert r.exit_code == 1 and "use it with --against-model" in r.output


def test_export_units_pseudonymized(proj, tmp_path):
    out = tmp_path / "units.csv"
    r = run("export", "units", "--format", "csv", "--out", str(out), "--pseudonymize", "-P", proj)
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    # reconciled with lead ann: support x3, funding x2, prioritisation, hr_management
    assert len(rows) == 7
    assert {r["speaker"] for r in rows} == {"P1", "P2", "P3"}
    assert "sector" in rows[0]
    first = rows[0]
    assert (first["session"], first["speaker"], first["sector"]) == ("s1", "P1", "ngo")
    assert first["start"] == "0.0" and first["code_id"] in ("support", "funding")
    # labels in the project's language (fi), as in its reports; --lang for another
    assert {r["label"] for r in rows if r["code_id"] == "support"} == {"Tuki"}
    r = run("export", "units", "--out", "-", "--lang", "en", "-P", proj)
    assert ",support,Support," in r.stdout

    xlsx = tmp_path / "units.xlsx"
    r = run("export", "units", "--format", "xlsx", "--out", str(xlsx), "--coder", "bob", "-P", proj)
    assert r.exit_code == 0, r.output
    from openpyxl import load_workbook

    ws = load_workbook(xlsx)["coded units"]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][:3] == ["session", "group", "speaker"]
    assert len(values) - 1 == 6  # bob applied 6 (unit, code) pairs
    assert all(v[-1] == "bob" for v in values[1:])
    # -: the csv on standard output, for a pipe into R or a spreadsheet
    r = run("export", "units", "--out", "-", "--coder", "bob", "-P", proj)
    assert r.exit_code == 0 and r.stdout.startswith("session,group,speaker")
    assert len(r.stdout.strip().splitlines()) == 7 and not Path("-").exists()


def test_agree_among_three_shows_alpha_without_an_empty_kappa_column(proj):
    from qualcode.models import Decision
    from qualcode.project import Project

    p = Project(Path(proj))
    try:
        for d in p.store.decisions(coder="ann"):
            p.store.record_decision(Decision(d.segment_id, d.code_id, "cy", d.verdict))
    finally:
        p.close()
    r = run("agree", "--coders", "ann", "bob", "cy", "-P", proj)
    assert r.exit_code == 0, r.output
    assert "alpha" in r.output and "kappa" not in r.output
    two = run("agree", "--coders", "ann", "bob", "-P", proj)
    assert "kappa" in two.output


def test_report_labels_in_the_project_language_or_the_one_asked_for(proj):
    def labels(*args: str) -> dict[str, str]:
        r = run("report", "--format", "json", *args, "-P", proj)
        assert r.exit_code == 0, r.output
        return {x["code_id"]: x["label"] for x in json.loads(r.output)["rows"]}

    assert labels()["support"] == "Tuki"  # the project's language is fi
    assert labels("--lang", "en")["support"] == "Support"
    assert labels("--lang", "EN")["support"] == labels("--lang", "en-GB")["support"] == "Support"
    crosstab = run("report", "--by", "session", "--format", "csv", "-P", proj)
    assert crosstab.exit_code == 0 and "support,Tuki,s1" in crosstab.output
    r = run("report", "--lang", "sv", "-P", proj)
    assert r.exit_code == 1 and "--lang sv: the codebook has labels in en, fi" in r.output


def test_a_report_before_any_coding_says_so(project):
    root = str(project.root)
    project.close()
    r = run("report", "-P", root)
    assert r.exit_code == 0 and "No coded units in this view yet" in r.output
    r = run("report", "--by", "session", "-P", root)
    assert "No coded units in this view yet" in r.output


def test_export_units_into_a_pipe_that_closes_early_is_not_an_error(project):
    """`qualcode export units --out - | head -2`: the reader stops reading;
    that ends the export quietly, not with 'Error: Broken pipe'."""
    import subprocess
    import sys

    from qualcode.codebook import project_codebook
    from qualcode.coded_import import import_coded

    import_coded(project.store, project_codebook(project), DATA / "emessi-dev2.csv", coder="anna")
    import_coded(project.store, project_codebook(project), DATA / "emessi-dev3.csv", coder="anna")
    root = str(project.root)
    project.close()
    cmd = [sys.executable, "-m", "qualcode.cli.main", "export", "units", "--out", "-", "-P", root]
    writer = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert writer.stdout is not None
    first = writer.stdout.readline()
    writer.stdout.close()  # as head does after its lines
    _, err = writer.communicate(timeout=120)
    assert first.startswith(b"session,group,speaker")
    assert writer.returncode == 0 and b"Error" not in err, err
