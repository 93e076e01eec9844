"""`qualcode init`, `sessions`, `speakers` and `show` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.cli.main import app
from qualcode.models import Session, Transcript, Utterance
from qualcode.project import Project

runner = CliRunner()


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    result = runner.invoke(app, ["init", str(root), "--codebook", "emessi", "--language", "fi"])
    assert result.exit_code == 0, result.output
    assert "8 codes" in result.output
    with Project(root) as p:
        p.store.add_session(
            Session(name="ryhma1-1", group="ryhma1"),
            Transcript(
                [
                    Utterance("Tervetuloa.", speaker="SPEAKER_1", start=0.0, end=1.0),
                    Utterance("Kiitos, hyvää huomenta.", speaker="SPEAKER_2", start=1.2, end=2.0),
                    Utterance("Aloitetaan.", speaker="SPEAKER_1", start=65.0, end=66.0),
                ],
                language="fi",
                duration=66.0,
                source_format="txt",
            ),
        )
    return root


def test_sessions_json_shape(proj: Path) -> None:
    result = runner.invoke(app, ["sessions", "--project", str(proj), "--json"])
    assert result.exit_code == 0, result.output
    (s,) = json.loads(result.output)
    assert (s["name"], s["group"], s["utterances"], s["speakers"], s["duration"]) == (
        "ryhma1-1",
        "ryhma1",
        3,
        2,
        66.0,
    )


def test_project_found_from_working_directory(proj: Path, monkeypatch) -> None:
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
    monkeypatch.chdir(proj)
    result = runner.invoke(app, ["sessions"])
    assert result.exit_code == 0 and "ryhma1-1" in result.output


def test_no_project_is_a_one_line_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["sessions"])
    assert result.exit_code == 1
    assert "qualcode init" in result.output and "Traceback" not in result.output


def test_speakers_rename_merge_and_attributes(proj: Path) -> None:
    p = ["--project", str(proj)]
    r = runner.invoke(app, ["speakers", "rename", "SPEAKER_1", "Fasilitaattori", *p])
    assert r.exit_code == 0 and "Renamed" in r.output
    r = runner.invoke(app, ["speakers", "set", "SPEAKER_2", "sector=ngo", "workplace_size=1", *p])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["speakers", "rename", "SPEAKER_2", "Fasilitaattori", *p])
    assert r.exit_code == 1 and "already a speaker" in r.output and "--merge" in r.output
    r = runner.invoke(app, ["speakers", "set", "Fasilitaattori", "sector=municipality", *p])
    r = runner.invoke(app, ["speakers", "rename", "SPEAKER_2", "Fasilitaattori", "--merge", *p])
    assert "Merged" in r.output
    assert "'Fasilitaattori' keeps its own sector=municipality (not ngo)" in r.output
    r = runner.invoke(app, ["speakers", "set", "Fasilitaattori", "sector=ngo", *p])
    r = runner.invoke(app, ["speakers", *p, "--json"])
    assert json.loads(r.output) == [
        {
            "name": "Fasilitaattori",
            "utterances": 3,
            "sessions": ["ryhma1-1"],
            "attributes": {"sector": "ngo", "workplace_size": "1"},
        }
    ]
    r = runner.invoke(app, ["speakers", "set", "Fasilitaattori", "sector", *p])
    assert r.exit_code == 1 and "key=value" in r.output
    r = runner.invoke(app, ["speakers", "rename", "Nobody", "X", *p])
    assert r.exit_code == 1 and "no speaker named 'Nobody'" in r.output
    r = runner.invoke(app, ["speakers", "rename", "Fasilitaattori", " ", *p])
    assert r.exit_code == 1 and "a speaker needs a name" in r.output
    r = runner.invoke(app, ["speakers", "rename", "Fasilitaattori", "Tom: the chair", *p])
    assert r.exit_code == 1 and "contains ':'" in r.output


def test_speakers_rename_in_one_session_splits_a_shared_name(proj: Path) -> None:
    """Two Sannas in two groups: the second group's turns and units become
    another speaker, the first keeps hers (and her attributes)."""
    from qualcode.segment import segment_session
    from qualcode.transcript import plain_text

    p = ["--project", str(proj)]
    with Project(proj) as q:
        q.store.rename_participant("SPEAKER_1", "Sanna")
        other = q.store.add_session(
            Session(name="ryhma2-1", group="ryhma2"),
            Transcript([Utterance("Meillä ei ole rahaa.", "Sanna"), Utterance("Niin.", "Ville")]),
        )
        for sid in (1, other):
            segment_session(q.store, sid, q)
    runner.invoke(app, ["speakers", "set", "Sanna", "sector=ngo", *p])
    r = runner.invoke(app, ["speakers", "rename", "Sanna", "Sanna K", "--session", "ryhma2-1", *p])
    assert r.exit_code == 0, r.output
    assert "'Sanna' in ryhma2-1 is now 'Sanna K'" in r.output and "speakers set" in r.output
    r = runner.invoke(app, ["speakers", *p, "--json"])
    got = {s["name"]: s for s in json.loads(r.output)}
    assert got["Sanna"]["sessions"] == ["ryhma1-1"] and got["Sanna"]["attributes"]
    assert got["Sanna K"]["sessions"] == ["ryhma2-1"] and not got["Sanna K"]["attributes"]
    with Project(proj) as q:
        text = plain_text(q.store.utterances(other))
        [unit] = [g for g in q.store.segments(other) if g.speaker == "Sanna K"]
        assert text[unit.char_start : unit.char_end] == unit.text == "Meillä ei ole rahaa."
    r = runner.invoke(app, ["speakers", "rename", "Ville", "Sanna", "--session", "ryhma1-1", *p])
    assert r.exit_code == 1 and "does not speak in that session" in r.output
    r = runner.invoke(app, ["speakers", "rename", "Ville", "Sanna", "--session", "ryhma2-1", *p])
    assert r.exit_code == 1 and "--merge" in r.output


def test_speakers_set_refuses_control_characters(proj: Path) -> None:
    p = ["--project", str(proj)]
    for item, shown in (
        ("note=a\x01b", "speaker attribute value 'a\\x01b'"),
        ("note=\x1b[31mred", "speaker attribute value '\\x1b[31mred'"),
        ("se\x07ctor=ngo", "speaker attribute key 'se\\x07ctor'"),
    ):
        r = runner.invoke(app, ["speakers", "set", "SPEAKER_1", item, *p])
        assert r.exit_code == 1, r.output
        assert shown in r.output and "control character" in r.output
        assert len(r.output.strip().splitlines()) == 1
        assert not any(ch in r.output for ch in "\x01\x07\x1b")
    r = runner.invoke(app, ["speakers", *p, "--json"])
    assert all(s["attributes"] == {} for s in json.loads(r.output))
    r = runner.invoke(app, ["speakers", "set", "SPEAKER_1", "kaupunki=Hämeenlinna 🏙", *p])
    assert r.exit_code == 0 and "kaupunki=Hämeenlinna 🏙" in r.output


def test_init_refuses_a_language_that_is_not_a_code(tmp_path: Path) -> None:
    r = runner.invoke(app, ["init", str(tmp_path / "q"), "--language", "Finnish"])
    assert r.exit_code == 1 and "language 'Finnish' is not a language code" in r.output
    assert not (tmp_path / "q").exists()


def test_unwritable_output_and_damaged_database_are_one_line_errors(proj: Path) -> None:
    blocker = proj / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    out = blocker / "s.srt"  # a file where a folder should be
    r = runner.invoke(
        app,
        [
            "export",
            "transcript",
            "ryhma1-1",
            "--format",
            "srt",
            "--out",
            str(out),
            "--project",
            str(proj),
        ],
    )
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"{out}: cannot write the file there (Not a directory)" in r.output
    (proj / "qualcode.db").write_bytes(b"\x00garbage" * 500)
    r = runner.invoke(app, ["sessions", "--project", str(proj)])
    assert r.exit_code == 1 and "damaged or not a qualcode database" in r.output


def test_show_prints_speakers_and_times(proj: Path) -> None:
    r = runner.invoke(app, ["show", "ryhma1-1", "--project", str(proj), "--no-pager"])
    assert r.exit_code == 0, r.output
    assert "[01:05] SPEAKER_1: Aloitetaan." in r.output
    r = runner.invoke(app, ["show", "nope", "--project", str(proj)])
    assert r.exit_code == 1 and "qualcode sessions" in r.output
