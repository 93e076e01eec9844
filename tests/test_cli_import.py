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
