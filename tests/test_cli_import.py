"""`qualcode import` through the real command line app."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from qualcode.cli.main import app

T = Path(__file__).parent / "data" / "transcripts"
runner = CliRunner()


def invoke(project, *args: str):
    return runner.invoke(app, ["import", "--project", str(project.root), *args])


def test_batch_reports_each_file_and_exits_1_at_the_end(project) -> None:
    project.close()
    result = invoke(
        project,
        str(T / "teams_timeframe.vtt"),
        str(T / "invalid_timeframe.vtt"),
        str(T / "qualcoder-3-speakers.txt"),
        "--group",
        "pilot1",
        "--language",
        "en",
    )
    out = result.stdout + result.stderr
    assert result.exit_code == 1
    assert "imported teams_timeframe: 2 utterances, 2 speakers" in out
    assert "imported qualcoder-3-speakers: 7 utterances, 3 speakers" in out
    assert "failed: " in out and "invalid_timeframe.vtt:6:" in out
    assert "3 file(s): 2 imported, 0 skipped, 1 failed" in out
    # the file after the broken one was still imported
    listing = runner.invoke(app, ["sessions", "--project", str(project.root), "--json"])
    names = {s["name"]: s for s in json.loads(listing.stdout)}
    assert set(names) == {"teams_timeframe", "qualcoder-3-speakers"}
    assert names["teams_timeframe"]["group"] == "pilot1"
    assert names["teams_timeframe"]["language"] == "en"


def test_reimport_is_skipped_and_exits_0(project) -> None:
    project.close()
    path = str(T / "sample.srt")
    assert invoke(project, path).exit_code == 0
    result = invoke(project, path)
    assert result.exit_code == 0
    assert "skipped" in result.stdout and "already imported as sample" in result.stdout
    assert "1 file(s): 0 imported, 1 skipped, 0 failed" in result.stdout


def test_session_option_and_json(project) -> None:
    project.close()
    result = invoke(project, str(T / "teams_timeframe.vtt"), "--session", "meeting-1", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"] == {"imported": 1, "skipped": 0, "failed": 0}
    [item] = data["files"]
    assert item["session"] == "meeting-1"
    assert (item["status"], item["format"], item["utterances"], item["speakers"]) == (
        "imported",
        "vtt",
        2,
        2,
    )
    shown = runner.invoke(app, ["show", "meeting-1", "--project", str(project.root), "--no-pager"])
    assert "Adrian Petrescu: Why hello there, Yuri." in shown.stdout


def test_session_with_many_files_is_refused(project) -> None:
    project.close()
    result = invoke(project, str(T / "sample.srt"), str(T / "sample.vtt"), "--session", "x")
    assert result.exit_code == 1
    assert "--session names one session but 2 files" in result.stderr
    listing = runner.invoke(app, ["sessions", "--project", str(project.root), "--json"])
    assert json.loads(listing.stdout) == []


def test_unknown_format_is_refused(project) -> None:
    project.close()
    result = invoke(project, str(T / "sample.srt"), "--format", "rtf")
    assert result.exit_code == 1
    assert "--format 'rtf'" in result.stderr and "vtt" in result.stderr


def test_a_recording_or_a_pdf_says_what_to_do_instead(project, tmp_path: Path) -> None:
    project.close()
    (tmp_path / "talk.wav").write_bytes(b"RIFF....WAVEfmt ")
    (tmp_path / "report").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    result = invoke(project, str(tmp_path / "talk.wav"), str(tmp_path / "report"))
    assert result.exit_code == 1
    assert "talk.wav: a recording, not a transcript; use `qualcode transcribe`" in result.stderr
    assert "report: a PDF; export the transcript as .docx or .txt" in result.stderr


def _damaged_nvivo(tmp_path: Path) -> tuple[Path, str | None, str | None]:
    """The real NVivo export with one source's plain text gone (rich text
    only), one selection past the end of its text and one coding of a code
    the file does not define: each still schema-valid."""
    import zipfile

    from lxml import etree

    q = "{urn:QDA-XML:project:1.0}"
    with zipfile.ZipFile(Path(__file__).parent / "data" / "refi-qda" / "nvivo-12-oltas.qdpx") as z:
        root = etree.fromstring(z.read("project.qde"))
        entries = {i.filename: z.read(i.filename) for i in z.infolist()}
    gone, kept = list(root.iter(q + "TextSource"))
    missing = gone.attrib.pop("plainTextPath").removeprefix("internal://")
    entries = {n: d for n, d in entries.items() if not n.endswith(missing)}
    selections = list(kept.iter(q + "PlainTextSelection"))
    selections[0].set("startPosition", "9999990")
    selections[0].set("endPosition", "9999999")
    next(selections[1].iter(q + "CodeRef")).set(
        "targetGUID", "00000000-0000-4000-8000-000000000999"
    )
    entries["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    out = tmp_path / "damaged.qdpx"
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out, gone.get("name"), kept.get("name")


def test_a_qdpx_import_says_what_it_left_out(project, tmp_path: Path) -> None:
    """A source without plain text, a selection outside the text and a
    coding of an unknown code used to vanish behind "imported"."""
    path, gone, kept = _damaged_nvivo(tmp_path)
    project.close()
    result = invoke(project, str(path))
    assert result.exit_code == 0, result.output
    assert f"warning: source {gone!r} not imported: no plain text, only rich text" in result.stderr
    assert f"source {kept!r}: 1 coded selection(s) outside its text" in result.stderr
    assert f"source {kept!r}: 1 coding(s) name a code that is not in" in result.stderr
    again = runner.invoke(
        app, ["import", "--project", str(project.root), str(path), "--force", "--json"]
    )
    (entry,) = json.loads(again.stdout)["files"]
    assert len(entry["warnings"]) == 3 and entry["status"] == "imported"


def test_a_spreadsheet_or_a_wrong_format_gets_advice_that_applies(project, tmp_path: Path) -> None:
    """A coded-units CSV read as one long utterance, and a zip read as text
    ("not UTF-8 text"), pointed the researcher the wrong way."""
    coded = tmp_path / "coded.csv"
    coded.write_text("text,codes,coder\nRahat loppuu.,funding,anna\n", encoding="utf-8")
    qdpx = Path(__file__).parent / "data" / "refi-qda" / "nvivo-12-oltas.qdpx"
    project.close()
    result = invoke(project, str(coded), str(T / "sample.vtt"))
    assert result.exit_code == 1
    assert "coded.csv: a spreadsheet, not a transcript" in result.stderr
    assert "qualcode import-coded FILE.csv" in result.stderr
    assert "imported sample" in result.stdout  # the batch went on
    result = invoke(project, str(qdpx), "--format", "vtt")
    assert result.exit_code == 1 and "a REFI-QDA project, not vtt; leave out --format" in (
        result.stderr
    )
    result = invoke(project, str(T / "sample.srt"), "--format", "qdpx")
    assert result.exit_code == 1 and "not a REFI-QDA project" in result.stderr
    result = invoke(project, str(T / "sample.srt"), "--format", "docx")
    assert result.exit_code == 1 and "not a .docx (a .docx is a zip file)" in result.stderr
    # what is inside a zip tells a Word document, a spreadsheet and a project apart
    import docx
    import openpyxl

    word = tmp_path / "notes.docx"
    document = docx.Document()
    document.add_paragraph("Aino: Rahat loppuu.")
    document.save(str(word))
    sheet = tmp_path / "units.xlsx"
    openpyxl.Workbook().save(sheet)
    for path, fmt, says in (
        (word, "qdpx", "a Word document, not qdpx; leave out --format"),
        (qdpx, "docx", "a REFI-QDA project, not docx; leave out --format"),
        (sheet, "txt", "a spreadsheet, not a transcript"),
    ):
        result = invoke(project, str(path), "--format", fmt)
        assert result.exit_code == 1 and says in result.stderr, (path, result.stderr)
    # a folder of CSVs said "0 file(s)" and nothing else
    folder = tmp_path / "coded"
    folder.mkdir()
    (folder / "anna.csv").write_text("text,codes\nRahat loppuu.,funding\n", encoding="utf-8")
    result = invoke(project, str(folder))
    assert result.exit_code == 1
    assert "holds no transcripts" in result.stderr and "only anna.csv" in result.stderr
    assert "qualcode import-coded FILE.csv" in result.stderr
    # transcripts one folder down: which folder to give
    nested = tmp_path / "study"
    (nested / "interviews").mkdir(parents=True)
    (nested / "interviews" / "a.txt").write_text("Aino: Hei.\n", encoding="utf-8")
    result = invoke(project, str(nested))
    assert result.exit_code == 1 and "holds only folders; give the ones with transcripts" in (
        result.stderr
    )
    assert str(nested / "interviews") in result.stderr


def test_a_renamed_project_or_word_file_is_read_by_what_it_holds(project, tmp_path: Path) -> None:
    """A .qdpx mailed as .zip or .docx, or saved as .txt, failed as XML,
    Word or "not UTF-8" text."""
    import shutil

    source = Path(__file__).parent / "data" / "refi-qda" / "maxqda-24-themes.qdpx"
    project.close()
    for name in ("themes.zip", "themes.docx", "themes.txt"):
        path = Path(shutil.copy(source, tmp_path / name))
        result = invoke(project, str(path), "--force", "--json")
        (entry,) = json.loads(result.stdout)["files"]
        assert (entry["status"], entry["format"]) == ("imported", "qdpx"), (name, result.output)
