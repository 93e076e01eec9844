"""`qualcode transcribe`, `qualcode models ...`, `qualcode export transcript`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from qualcode.cli.main import app
from qualcode.models import Decision

SPEECH = Path(__file__).parent / "data" / "speech"
runner = CliRunner()
TINY = ["--model", "tiny.en", "--threads", "2"]


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_transcribe_batch_reports_failures_and_exits_nonzero(project, tmp_path):
    cut = tmp_path / "cut.flac"
    cut.write_bytes((SPEECH / "jfk.flac").read_bytes()[:3000])
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    result = run(
        "transcribe",
        cut,
        jfk,
        SPEECH / "empty.wav",
        *TINY,
        "--speakers",
        "none",
        "--group",
        "pilot",
        "-P",
        project.root,
    )
    assert result.exit_code == 1, result.output
    assert "1 done, 0 skipped, 2 failed" in result.output
    assert "cannot be decoded" in result.output and "no recorded sound" in result.output
    listed = json.loads(run("sessions", "--json", "-P", project.root).output)
    assert [(s["name"], s["group"], s["language"]) for s in listed] == [("jfk", "pilot", "en")]
    assert listed[0]["settings"]["engine"] == "faster-whisper"


def test_transcribe_json_skips_same_settings_and_force_redoes(project, tmp_path):
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    first = run("transcribe", jfk, *TINY, "--speakers", "none", "--json", "-P", project.root)
    assert first.exit_code == 0, first.output
    [item] = json.loads(first.stdout)
    # the project's language is fi: an English-only model says what it does
    assert "project's language is fi, but the model tiny.en knows only English" in first.stderr
    assert item["status"] == "done" and item["session"] == "jfk" and item["language"] == "en"
    assert set(item) == {
        "path",
        "status",
        "session",
        "error",
        "duration",
        "language",
        "utterances",
        "speakers",
        "wall_seconds",
        "units",
        "warning",
        "note",
    }
    # a transcribed session is cut into coding units at once, ready to code
    units = project.store.segments(codable_only=True)
    assert item["units"] == len(units) >= 1 and item["warning"] is None
    assert "country" in " ".join(u.text for u in units).lower()
    project.store.record_decisions([Decision(units[0].id, "funding", "anna", "added")])
    again = run("transcribe", jfk, *TINY, "--speakers", "none", "--json", "-P", project.root)
    assert json.loads(again.stdout)[0]["status"] == "skipped"
    forced = run(
        "transcribe", jfk, *TINY, "--speakers", "none", "--force", "--json", "-P", project.root
    )
    assert json.loads(forced.stdout)[0]["status"] == "done"
    assert len(json.loads(run("sessions", "--json", "-P", project.root).output)) == 1
    # the coder's decision moved to the new transcript's unit with the same text
    [decision] = project.store.decisions(coder="anna")
    now = {u.id: u.text for u in project.store.segments(codable_only=True)}
    assert now[decision.segment_id] == units[0].text and decision.code_id == "funding"


def test_a_failed_segmentation_keeps_the_transcript(project, tmp_path, monkeypatch):
    import qualcode.segment

    def broken(*args, **kwargs):
        raise RuntimeError("the sentence splitter broke")

    monkeypatch.setattr(qualcode.segment, "segment_session", broken)
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    result = run("transcribe", jfk, *TINY, "--speakers", "none", "-P", project.root)
    assert result.exit_code == 1
    assert "transcribed into session 'jfk', but cutting it into coding units failed" in (
        " ".join(result.output.split())
    )
    assert "qualcode segment --session jfk" in " ".join(result.output.split())
    assert project.store.get_session("jfk").n_utterances >= 1


def test_transcribe_channels_with_session_name(project):
    result = run(
        "transcribe",
        SPEECH / "stereo-two-speakers.wav",
        *TINY,
        "--speakers",
        "channels",
        "--session",
        "call-1",
        "-P",
        project.root,
    )
    assert result.exit_code == 0, result.output
    speakers = json.loads(run("speakers", "--json", "-P", project.root).output)
    assert sorted(s["name"] for s in speakers) == ["SPEAKER_1", "SPEAKER_2"]
    assert all(s["sessions"] == ["call-1"] for s in speakers)
    # another recording's speakers are other people: they continue the numbering
    again = run(
        "transcribe",
        SPEECH / "stereo-two-speakers.wav",
        *TINY,
        "--beam-size",
        "1",
        "--speakers",
        "channels",
        "--session",
        "call-2",
        "-P",
        project.root,
    )
    assert again.exit_code == 0, again.output
    speakers = json.loads(run("speakers", "--json", "-P", project.root).output)
    assert {s["name"]: s["sessions"] for s in speakers} == {
        "SPEAKER_1": ["call-1"],
        "SPEAKER_2": ["call-1"],
        "SPEAKER_3": ["call-2"],
        "SPEAKER_4": ["call-2"],
    }
    # so naming one recording's speaker leaves the other recording alone
    assert run("speakers", "rename", "SPEAKER_3", "Aino", "-P", project.root).exit_code == 0
    # the same person as call-1's SPEAKER_1: one speaker from now on
    merged = run("speakers", "rename", "SPEAKER_1", "Aino", "--merge", "-P", project.root)
    assert merged.exit_code == 0 and "Merged 'SPEAKER_1' into 'Aino'" in merged.output
    speakers = json.loads(run("speakers", "--json", "-P", project.root).output)
    assert {s["name"]: s["sessions"] for s in speakers}["SPEAKER_2"] == ["call-1"]
    assert {s["name"]: s["sessions"] for s in speakers}["Aino"] == ["call-1", "call-2"]


def test_bad_arguments_are_one_line_errors(project):
    result = run("transcribe", SPEECH / "jfk.flac", "--engine", "whisperx", "-P", project.root)
    assert result.exit_code == 1
    assert "unknown engine 'whisperx'; known engines: faster-whisper, openai-whisper" in (
        result.output
    )
    result = run("transcribe", SPEECH / "jfk.flac", "--speakers", "lots", "-P", project.root)
    assert result.exit_code == 1 and "--speakers 'lots'" in result.output
    # an English-only model asked for Finnish would write English nonsense
    result = run("transcribe", SPEECH / "jfk.flac", *TINY, "--language", "fi", "-P", project.root)
    assert result.exit_code == 1
    assert "--model tiny.en knows only English; for --language fi use a multilingual" in (
        " ".join(result.output.split())
    )
    # a language that is no code is said once, not once per file
    result = run(
        "transcribe", SPEECH / "jfk.flac", SPEECH / "empty.wav", "--language", "english",
        "-P", project.root,
    )  # fmt: skip
    assert result.exit_code == 1 and result.output.count("'english' is not a language code") == 1
    # a model that cannot be had is said once, before any file is decoded
    result = run(
        "transcribe",
        SPEECH / "jfk.flac",
        SPEECH / "empty.wav",
        "--model",
        "nosuch",
        "-P",
        project.root,
    )
    assert result.exit_code == 1
    assert result.output.count("unknown model 'nosuch'") == 1 and "failed" not in result.output
    notes = SPEECH.parent / "transcripts" / "sample.srt"
    result = run("transcribe", notes, *TINY, "-P", project.root)
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the progress console wraps long lines
    assert "sample.srt: a transcript, not a recording; use `qualcode import`" in said


def test_models_install_and_list(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_MODELS", str(tmp_path / "models"))
    for name in ("tiny.en", "base"):
        result = run("models", "install", name, "--offline")
        assert result.exit_code == 0, result.output
        assert f"{name}: usable" in result.output
    listed = {m["name"]: m for m in json.loads(run("models", "list", "--json").output)}
    assert listed["tiny.en"]["usable"] and listed["base"]["usable"]
    assert listed["base"]["path"] == str(tmp_path / "models" / "base")
    assert not listed["large-v3"]["usable"] and "install" in listed["large-v3"]["note"]
    refused = run("models", "install", "small", "--offline")
    assert refused.exit_code == 1 and "not installed" in refused.output


def test_export_transcript_formats(project, tmp_path):
    run(
        "transcribe",
        SPEECH / "stereo-two-speakers.wav",
        *TINY,
        "--speakers",
        "channels",
        "--session",
        "call",
        "-P",
        project.root,
    )
    srt = tmp_path / "call.srt"
    result = run(
        "export", "transcript", "call", "--format", "srt", "--out", srt, "-P", project.root
    )
    assert result.exit_code == 0, result.output
    text = srt.read_text(encoding="utf-8")
    assert "00:00:00,000 -->" in text and "SPEAKER_1" in text and "SPEAKER_2" in text
    printed = run("export", "transcript", "call", "--format", "vtt", "-P", project.root)
    assert printed.output.startswith("WEBVTT") and "horizon" in printed.output
    bad = run("export", "transcript", "call", "--format", "doc", "-P", project.root)
    assert bad.exit_code == 1 and "--format 'doc'" in bad.output
    # the file name says the format; a format that contradicts it is refused
    vtt = tmp_path / "call.vtt"
    assert run("export", "transcript", "call", "--out", vtt, "-P", project.root).exit_code == 0
    assert vtt.read_text(encoding="utf-8").startswith("WEBVTT")
    mixed = run("export", "transcript", "call", "-f", "txt", "--out", srt, "-P", project.root)
    assert mixed.exit_code == 1 and "is named for srt but --format is txt" in mixed.output
    for name in ("call.docx", "call.xlsx", "call.pdf", "call.html"):
        word = run("export", "transcript", "call", "--out", tmp_path / name, "-P", project.root)
        assert word.exit_code == 1 and "writes txt or srt or vtt or json, not" in word.output
        assert not (tmp_path / name).exists()
    odd = run("export", "transcript", "call", "--out", tmp_path / "call.out", "-P", project.root)
    assert odd.exit_code == 1 and "cannot tell the format from the file name" in odd.output
    # a .txt holds any text format asked for by name
    named = tmp_path / "call-subtitles.txt"
    asked = run("export", "transcript", "call", "-f", "srt", "--out", named, "-P", project.root)
    assert asked.exit_code == 0 and "00:00:00,000 -->" in named.read_text(encoding="utf-8")
    dash = run("export", "transcript", "call", "--out", "-", "-P", project.root)
    assert dash.exit_code == 0 and "SPEAKER_1: " in dash.output and not Path("-").exists()


def test_export_transcript_pseudonymized_masks_names_and_contacts(project):
    from qualcode.models import Session, Transcript, Utterance

    project.store.add_session(
        Session(name="ryhma"),
        Transcript(
            [
                Utterance("Tervetuloa, Aino ja Mikko.", speaker="Sanna", start=0.0, end=2.0),
                Utterance("Kiitos Sannalle! Meili: aino@example.org", speaker="Aino", start=2.0),
            ]
        ),
    )
    result = run("export", "transcript", "ryhma", "--pseudonymize", "-P", project.root)
    assert result.exit_code == 0, result.output
    out = result.output
    for leaked in ("Sanna", "Aino", "aino@example.org"):
        assert leaked not in out
    assert "P1:" in out and "P2:" in out and "Mikko" in out  # Mikko never spoke: not a participant


def test_export_transcript_carries_the_coders_corrections(project):
    """A unit's text fixed in review ("pitäis" -> "pitäisi") is what the
    exported transcript says; the stored transcript keeps what was heard."""
    from qualcode.models import Session, Transcript, Utterance
    from qualcode.segment import segment_session

    sid = project.store.add_session(
        Session(name="k2"),
        Transcript([Utterance("Meidän pitäis jakaa työtä.", "Aino", 0.0, 2.0)]),
    )
    segment_session(project.store, sid, project)
    [unit] = project.store.segments(sid)
    project.store.edit_segment_text(unit.id, "anna", "Meidän pitäisi jakaa työtä.")
    result = run("export", "transcript", "k2", "--format", "txt", "-P", project.root)
    assert result.exit_code == 0, result.output
    assert "Aino: Meidän pitäisi jakaa työtä." in result.output
    assert project.store.utterances(sid)[0].text == "Meidän pitäis jakaa työtä."


def test_pseudonymized_export_masks_a_name_the_speaker_had_before(project):
    """Renaming Leena to L (a common step) must not let "Leena" in the talk
    out unmasked."""
    from qualcode.models import Session, Transcript, Utterance

    project.store.add_session(
        Session(name="r2"),
        Transcript(
            [
                Utterance("Leena, kerro lisää hallituksesta.", speaker="Sanna", start=0.0),
                Utterance("Hallitus ei päätä mitään.", speaker="Leena", start=2.0),
            ]
        ),
    )
    renamed = run("speakers", "rename", "Leena", "L", "-P", project.root)
    assert renamed.exit_code == 0, renamed.output
    out = run("export", "transcript", "r2", "--pseudonymize", "-P", project.root).output
    assert "Leena" not in out and "Sanna" not in out
    assert "P2, kerro" in out or "P1, kerro" in out


def test_settings_no_file_could_use_are_refused_once(project, tmp_path):
    """--language xx, --threads -1 and --device cuda without a GPU failed
    file by file, each with the engine's own multi-line message."""
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    base = ["transcribe", jfk, jfk, "--speakers", "none", "-P", project.root]
    wrong = run(*base, "--model", "base", "--language", "xx")
    assert wrong.exit_code == 1
    assert wrong.output.count("Whisper does not know it") == 1
    threads = run(*base, *TINY[:2], "--threads", "-1")
    assert threads.exit_code == 2 and "Invalid value for '--threads'" in threads.output
    import ctranslate2

    if ctranslate2.get_cuda_device_count() == 0:
        cuda = run(*base, *TINY, "--device", "cuda")
        assert cuda.exit_code == 1 and "--device cuda: no CUDA GPU is usable here" in cuda.output
    assert project.store.sessions() == []


def test_a_failed_file_is_one_line_in_a_log(project, tmp_path):
    """Piped into a log, each message was wrapped at 80 columns (grep
    found half of it) and stale progress bars were dumped at the end."""
    missing = tmp_path / ("a-recording-with-a-rather-long-descriptive-name-" * 3 + ".wav")
    result = run("transcribe", missing, *TINY, "-P", project.root)
    assert result.exit_code == 1
    [line] = [x for x in result.stdout.splitlines() if x.startswith("failed")]
    assert str(missing) in line and "no such file" in line
    assert "━" not in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "0 done, 0 skipped, 1 failed"


def test_ctrl_c_says_what_was_kept_and_how_to_go_on(project, tmp_path, monkeypatch):
    """Ctrl-C ended the batch with exit 130 and not a word."""
    import qualcode.transcribe as t

    def interrupted(store, files, options, progress=None, segment=None):
        yield t.FileResult(path=Path(files[0]), status="done", session="a", duration=1.0)
        raise KeyboardInterrupt

    monkeypatch.setattr(t, "transcribe_files", interrupted)
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    result = run("transcribe", jfk, jfk, *TINY, "-P", project.root)
    assert result.exit_code == 130
    assert "interrupted: 1 file(s) done and stored" in result.stderr
    assert "run the same command again to go on" in result.stderr
    forced = run("transcribe", jfk, jfk, *TINY, "--force", "-P", project.root)
    assert forced.exit_code == 130 and "run it again without --force to go on" in forced.stderr


def test_a_language_with_a_region_is_given_to_whisper_without_it(project, tmp_path):
    """--language en-US passed the check, then every file failed with
    Whisper's own "'en-US' is not a valid language code"."""
    jfk = shutil.copy(SPEECH / "jfk.flac", tmp_path / "jfk.flac")
    result = run(
        "transcribe",
        jfk,
        *TINY,
        "--language",
        "en-US",
        "--speakers",
        "none",
        "--json",
        "-P",
        project.root,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["language"] == "en"


def test_an_english_only_model_with_the_language_left_to_detection_warns(tmp_path):
    """tiny.en cannot detect a language: Finnish speech came out as English
    text stored as `en`, without a word."""
    from qualcode.project import init_project

    auto = init_project(tmp_path / "auto", codebook=None, language="auto")
    auto.close()
    fi = shutil.copy(SPEECH / "fi-css10-0040.wav", tmp_path / "fi.wav")
    result = run("transcribe", fi, *TINY, "--speakers", "none", "-P", auto.root)
    assert result.exit_code == 0, result.output
    assert "knows only English: with the language left to detection" in result.stderr
