"""Importing transcript files into a project: sessions, dedupe, batches."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qualcode.audio import sha256_file
from qualcode.errors import QualcodeError
from qualcode.formats import read_transcript
from qualcode.importer import import_files

T = Path(__file__).parent / "data" / "transcripts"
EXAMPLES = Path(__file__).parent.parent / "examples"


def test_every_real_file_imports_or_fails_clearly(project) -> None:
    files = sorted(T.iterdir())
    results = {r.path.name: r for r in import_files(project, files, group="pilot")}
    assert set(results) == {p.name for p in files}
    failed = {n for n, r in results.items() if r.status == "failed"}
    assert failed == {"invalid_timeframe.vtt", "missing_timeframe.srt"}
    assert "invalid_timeframe.vtt:6:" in results["invalid_timeframe.vtt"].message
    assert "missing_timeframe.srt:6:" in results["missing_timeframe.srt"].message

    teams = results["teams_timeframe.vtt"]
    assert (teams.status, teams.session, teams.n_utterances, teams.n_speakers) == (
        "imported",
        "teams_timeframe",
        2,
        2,
    )
    assert results["qualcoder-3-speakers.txt"].n_speakers == 3
    # sample.srt and sample.vtt share a stem: the second gets a unique name
    assert {results["sample.srt"].session, results["sample.vtt"].session} == {"sample", "sample-2"}

    store = project.store
    sessions = {s.name: s for s in store.sessions()}
    assert len(sessions) == 5
    assert all(s.group == "pilot" for s in sessions.values())
    s = sessions["teams_timeframe"]
    assert s.source_format == "vtt"
    assert s.source_sha256 == sha256_file(T / "teams_timeframe.vtt")
    stored = store.utterances(s.id or 0)
    assert [(u.speaker, u.start, u.end, u.text) for u in stored] == [
        ("Yuri Bakulin", 0.0, 0.57, "There you go."),
        ("Adrian Petrescu", 0.21, 1.13, "Why hello there, Yuri."),
    ]
    assert {p.name for p in store.participants()} >= {"Yuri Bakulin", "Adrian Petrescu", "id1"}
    # segmentation ran: every imported session has coding units covering its turns
    for session in sessions.values():
        units = store.segments(session.id)
        assert units, session.name
        assert {u.utterance_id for u in units} <= {u.id for u in store.utterances(session.id or 0)}


def test_same_file_twice_is_skipped_unless_forced(project, tmp_path: Path) -> None:
    path = T / "qualcoder-3-speakers.txt"
    [first] = import_files(project, [path])
    assert first.status == "imported"
    [again] = import_files(project, [path])
    assert again.status == "skipped"
    assert again.session == "qualcoder-3-speakers"
    assert "already imported as qualcoder-3-speakers" in again.message
    # same bytes under another name are still the same transcript
    copy = tmp_path / "renamed.txt"
    shutil.copyfile(path, copy)
    [renamed] = import_files(project, [copy])
    assert renamed.status == "skipped"
    assert len(project.store.sessions()) == 1
    [forced] = import_files(project, [path], force=True)
    assert (forced.status, forced.session) == ("imported", "qualcoder-3-speakers-2")
    assert len(project.store.sessions()) == 2


def test_session_name_and_one_file_rule(project) -> None:
    [r] = import_files(project, [T / "sample.srt"], session="Ryhmä 1 / kerta 2")
    assert r.session == "Ryhmä 1 / kerta 2"
    assert project.store.get_session("Ryhmä 1 / kerta 2").n_utterances == 5
    with pytest.raises(QualcodeError, match="one session but 2 files"):
        list(import_files(project, [T / "sample.srt", T / "sample.vtt"], session="x"))
    with pytest.raises(QualcodeError, match="unknown format 'rtf'"):
        list(import_files(project, [T / "sample.srt"], format="rtf"))
    with pytest.raises(QualcodeError, match="a session needs a name that is not empty"):
        list(import_files(project, [T / "sample.vtt"], session="  "))
    with pytest.raises(QualcodeError, match="control character"):
        list(import_files(project, [T / "sample.vtt"], session="ryhmä\x1b[31m"))


def test_taken_session_name_fails_that_file_only(project) -> None:
    list(import_files(project, [T / "sample.srt"], session="s1"))
    [r] = import_files(project, [T / "sample.vtt"], session="s1")
    assert r.status == "failed"
    assert "already exists" in r.message
    assert project.store.get_session("s1").source_format == "srt"


def test_batch_continues_past_bad_files(project, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    missing = tmp_path / "nope.vtt"
    results = list(
        import_files(project, [empty, missing, T / "missing_timeframe.srt", T / "sample.vtt"])
    )
    assert [r.status for r in results] == ["failed", "failed", "failed", "imported"]
    assert "no text found" in results[0].message
    assert "no such file" in results[1].message
    assert [s.name for s in project.store.sessions()] == ["sample"]


def test_forced_format(project, tmp_path: Path) -> None:
    path = tmp_path / "captions.data"
    shutil.copyfile(T / "sample.srt", path)
    [r] = import_files(project, [path], format="srt")
    assert (r.status, r.format, r.n_utterances) == ("imported", "srt", 5)


def test_failed_segmentation_leaves_no_session(project, monkeypatch) -> None:
    import qualcode.segment

    def broken(*args, **kwargs):
        raise QualcodeError("segmentation broke")

    monkeypatch.setattr(qualcode.segment, "segment_session", broken)
    [r] = import_files(project, [T / "sample.srt"])
    assert r.status == "failed"
    assert "segmentation broke" in r.message
    assert project.store.sessions() == []


@pytest.mark.parametrize(
    ("name", "min_turns"),
    [("emessi-fi-session1.txt", 25), ("emessi-en-session1.vtt", 25)],
)
def test_examples_import(project, name: str, min_turns: int) -> None:
    path = EXAMPLES / name
    transcript = read_transcript(path)
    [r] = import_files(project, [path], group="example")
    assert r.status == "imported", r.message
    assert r.n_utterances == len(transcript.utterances) >= min_turns
    assert r.n_speakers == 4  # a facilitator and three participants
    stored = project.store.utterances(project.store.get_session(r.session).id or 0)
    assert [u.text for u in stored] == [u.text for u in transcript.utterances]
    assert all(u.speaker for u in stored)


def test_folder_stands_for_its_transcripts(project, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copyfile(T / "sample.srt", folder / "a.srt")
    shutil.copyfile(T / "teams_timeframe.vtt", folder / "b.vtt")
    (folder / "notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "README.txt").write_text("About: these files\n", encoding="utf-8")
    results = list(import_files(project, [folder]))
    assert [(r.path.name, r.status) for r in results] == [
        ("a.srt", "imported"),
        ("b.vtt", "imported"),
    ]


def test_language_from_file_or_option(project) -> None:
    [en] = import_files(project, [EXAMPLES / "emessi-en-session1.vtt"])
    [fi] = import_files(project, [EXAMPLES / "emessi-fi-session1.txt"], language="fi")
    [none] = import_files(project, [T / "sample.srt"])
    store = project.store
    assert [store.get_session(r.session).language for r in (en, fi, none)] == ["en", "fi", None]


def test_group_and_language_options_reach_a_refi_qda_projects_sessions(project) -> None:
    """--group and --language mean the same for a .qdpx as for a transcript:
    MAXQDA's document set and the missing language are overridden."""
    refi = Path(__file__).parent / "data" / "refi-qda" / "maxqda-24-themes.qdpx"
    [r] = import_files(project, [refi], group="G2", language="de")
    assert r.status == "imported", r.message
    sessions = project.store.sessions()
    assert len(sessions) == 10
    assert {(s.group, s.language) for s in sessions} == {("G2", "de")}


def test_an_import_killed_before_segmenting_is_finished_by_running_it_again(project) -> None:
    """kill -9 between storing the transcript and cutting it leaves a session
    without units: the rerun cuts it instead of skipping it for good."""
    from qualcode.models import Session

    path = EXAMPLES / "emessi-en-session1.vtt"
    transcript = read_transcript(path)
    store = project.store
    # exactly what the import has committed when the kill comes
    store.add_session(
        Session(name="emessi-en-session1", source_sha256=sha256_file(path)), transcript
    )
    [r] = import_files(project, [path])
    assert r.status == "imported" and "was stored without coding units" in r.message
    sid = store.get_session("emessi-en-session1").id
    assert store.segments(sid, codable_only=True)
    assert r.n_utterances == len(transcript.utterances)
    [again] = import_files(project, [path])
    assert again.status == "skipped" and again.n_utterances == len(transcript.utterances)


def test_a_broken_link_in_a_folder_fails_aloud(project, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(EXAMPLES / "emessi-en-session1.vtt", folder / "a.vtt")
    (folder / "b.vtt").symlink_to(tmp_path / "moved" / "b.vtt")
    results = list(import_files(project, [folder]))
    assert [(r.path.name, r.status) for r in results] == [
        ("a.vtt", "imported"),
        ("b.vtt", "failed"),
    ]
    assert f"{folder / 'b.vtt'}: is a link to" in (results[1].message or "")


def test_two_imports_of_one_file_at_once_store_it_once(project, monkeypatch) -> None:
    """Another process imports the same file while this one reads it: this
    one reports it skipped instead of adding a second session."""
    import qualcode.importer as importer
    from qualcode.project import Project

    path = EXAMPLES / "emessi-en-session1.vtt"
    real_read = importer.read_transcript

    def read_while_another_imports(p, fmt="auto"):
        monkeypatch.setattr(importer, "read_transcript", real_read)
        with Project(project.root) as other:  # a second process's connection
            [first] = import_files(other, [path])
            assert first.status == "imported"
        return real_read(p, fmt)

    monkeypatch.setattr(importer, "read_transcript", read_while_another_imports)
    [r] = import_files(project, [path])
    assert (r.status, r.session) == ("skipped", "emessi-en-session1"), r.message
    assert [s.name for s in project.store.sessions()] == ["emessi-en-session1"]


def test_two_imports_of_one_qdpx_at_once_store_it_once(project, monkeypatch) -> None:
    import qualcode.exchange.qdpx_read as qdpx_read
    from qualcode.project import Project

    path = Path(__file__).parent / "data" / "refi-qda" / "maxqda-24-themes.qdpx"
    real_read = qdpx_read.read_project

    def read_while_another_imports(p):
        monkeypatch.setattr(qdpx_read, "read_project", real_read)
        with Project(project.root) as other:
            assert [r.status for r in import_files(other, [path])] == ["imported"]
        return real_read(p)

    monkeypatch.setattr(qdpx_read, "read_project", read_while_another_imports)
    [r] = import_files(project, [path])
    assert r.status == "skipped" and "already imported" in r.message
    assert len(project.store.sessions()) == 10


def test_machine_speaker_labels_of_two_files_are_two_people(project, tmp_path: Path) -> None:
    """WhisperX/pyannote label every file's speakers SPEAKER_00, SPEAKER_01...;
    the second file's are other people, named Aino where the coder says so."""
    one, two = tmp_path / "s1.txt", tmp_path / "s2.txt"
    one.write_text("SPEAKER_00: Hei.\n\nSPEAKER_01: Moi.\n\nAino: Terve.\n", encoding="utf-8")
    two.write_text("SPEAKER_01: Kiitos.\n\nSPEAKER_00: Ole hyvä.\n\nAino: Hei hei.\n", "utf-8")
    assert [r.status for r in import_files(project, [one, two])] == ["imported", "imported"]
    by_name = {p.name: p.sessions for p in project.store.participants()}
    assert by_name == {
        "SPEAKER_00": ["s1"],
        "SPEAKER_01": ["s1"],
        "SPEAKER_02": ["s2"],  # s2's SPEAKER_01, the first to speak there
        "SPEAKER_03": ["s2"],
        "Aino": ["s1", "s2"],  # a name the researcher gave is one person
    }
    s2 = project.store.get_session("s2").id
    assert [u.speaker for u in project.store.utterances(s2)] == ["SPEAKER_02", "SPEAKER_03", "Aino"]


def test_a_name_in_another_groups_sessions_is_pointed_out(project, tmp_path: Path) -> None:
    """Finnish groups share first names: a name heard in another group's
    sessions is one speaker until the researcher says otherwise, so the
    import says so and how to split them; within one group it is quiet."""
    from qualcode.importer import speakers_note

    files = []
    for name in ("r1-a", "r1-b", "r2-a"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"Sanna: Meillä ei ole rahaa ({name}).\n\nVille: Niin.\n", "utf-8")
        files.append(path)
    first = import_files(project, files[:2], group="ryhma1")
    assert [r.shared_speakers for r in first] == [{}, {}]
    [other] = import_files(project, files[2:], group="ryhma2")
    assert other.shared_speakers == {"Sanna": ["r1-a", "r1-b"], "Ville": ["r1-a", "r1-b"]}
    [line, _] = speakers_note("r2-a", other.shared_speakers)
    assert "'Sanna' in r2-a is taken for the 'Sanna' of r1-a, r1-b (another group)" in line
    assert line.endswith("qualcode speakers rename Sanna 'Sanna (r2-a)' --session r2-a")


def test_a_corrected_transcript_replaces_its_session_keeping_decisions(
    project, tmp_path: Path
) -> None:
    """A transcript corrected after coding began: imported again with
    --session and --force it replaces the session's text; decisions on
    unchanged units stay. Without --force the import says how; a new name
    says which session came from the same file before."""
    from qualcode.models import Decision

    path = tmp_path / "talk.txt"
    path.write_text(
        "Aino: Rahat loppuu aina kesken vuotta.\n\nVille: Vapaaehtoisia ei löydy.\n", "utf-8"
    )
    [first] = import_files(project, [path], group="ryhma1")
    store = project.store
    sid = store.get_session("talk").id
    kept, changed = [g.id for g in store.segments(sid, codable_only=True)]
    store.record_decisions(
        [
            Decision(kept, "funding", "anna", "added"),
            Decision(changed, "volunteers", "anna", "added"),
        ]
    )
    path.write_text(
        "Aino: Rahat loppuu aina kesken vuotta.\n\nVille: Vapaaehtoisia ei löydy mistään.\n",
        "utf-8",
    )
    [again] = import_files(project, [path])
    assert again.session == "talk-2"
    assert (
        "--session talk --force" in again.message and "was imported before as talk" in again.message
    )
    store.delete_session("talk-2")
    [taken] = import_files(project, [path], session="talk")
    assert taken.status == "failed" and str(path) in taken.message and "--force" in taken.message
    [replaced] = import_files(project, [path], session="talk", force=True)
    assert replaced.status == "imported" and replaced.session == "talk"
    assert "decisions kept on 1 unit(s); 1 retired unit(s) of the session keep" in replaced.message
    assert store.get_session("talk").id == sid and store.get_session("talk").group == "ryhma1"
    texts = {g.id: g.text for g in store.segments(sid)}
    assert texts[kept] == "Rahat loppuu aina kesken vuotta."
    assert any(t.endswith("mistään.") for t in texts.values())
    assert {d.segment_id: d.code_id for d in store.decisions(coder="anna")}[kept] == "funding"


def test_a_locked_database_stops_the_batch_instead_of_blaming_each_file(
    project, tmp_path: Path, monkeypatch
) -> None:
    from qualcode.store import StoreError

    files = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"Aino: Teksti {name}.\n", encoding="utf-8")
        files.append(path)

    def locked(*args, **kwargs):
        raise StoreError("database is locked")

    monkeypatch.setattr(type(project.store), "add_session", locked)
    results = import_files(project, files)
    with pytest.raises(StoreError, match="locked"):
        next(results)


def test_session_with_a_folder_names_the_folder(project, tmp_path: Path) -> None:
    folder = tmp_path / "talks"
    folder.mkdir()
    for name in ("a", "b"):
        (folder / f"{name}.txt").write_text(f"Aino: {name}.\n", encoding="utf-8")
    with pytest.raises(QualcodeError, match=r"talks holds 2 transcript files; import them one"):
        list(import_files(project, [folder], session="x"))


def test_a_corrected_transcript_keeps_the_recording_and_the_names_given(
    project, tmp_path: Path
) -> None:
    """Importing a corrected export of a transcribed session over it keeps
    what the transcript file cannot say: the recording, its duration, the
    transcription settings (so `transcribe` still skips it) and the names
    the speakers were given since (a split "Sanna (t1)")."""
    from qualcode.models import Session, Transcript, Utterance
    from qualcode.transcript import rename_speaker

    store = project.store
    sid = store.add_session(
        Session(
            name="t1",
            media_path="/data/t1.wav",
            media_sha256="ab" * 32,
            duration=30.0,
            settings={"engine": "faster-whisper"},
            settings_key="transcribe:xyz",
        ),
        Transcript([Utterance("Rahat loppuu.", "Sanna", 0, 2), Utterance("Niin.", "Ville", 2, 3)]),
    )
    rename_speaker(store, "Sanna", "Sanna (t1)")
    path = tmp_path / "t1.txt"
    path.write_text("Sanna: Rahat loppuu.\n\nVille: Niin on.\n", encoding="utf-8")
    [r] = import_files(project, [path], session="t1", force=True)
    assert r.status == "imported", r.message
    s = store.get_session("t1")
    assert (s.id, s.media_path, s.duration, s.settings_key) == (
        sid,
        "/data/t1.wav",
        30.0,
        "transcribe:xyz",
    )
    assert [u.speaker for u in store.utterances(sid)] == ["Sanna (t1)", "Ville"]
    assert "Sanna" not in {p.name for p in store.participants()}
