"""The transcription batch: sessions stored whole, skips, resumes, speakers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import jiwer
import pytest

from qualcode.engines import TranscribeOptions
from qualcode.errors import QualcodeError
from qualcode.transcribe import BatchOptions, parse_speakers, transcribe_file, transcribe_files

SPEECH = Path(__file__).parent / "data" / "speech"


def tiny(**kw) -> BatchOptions:
    return BatchOptions(transcribe=TranscribeOptions(model="tiny.en", cpu_threads=2), **kw)


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def count_rows(project, table: str) -> int:
    return int(project.store.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {}
    for name in ("jfk.flac", "fi-css10-0040.wav", "empty.wav", "stereo-two-speakers.wav"):
        out[name] = Path(shutil.copy(SPEECH / name, tmp_path / name))
    cut = tmp_path / "cut.flac"
    cut.write_bytes((SPEECH / "jfk.flac").read_bytes()[:3000])
    out["cut.flac"] = cut
    return out


def test_stores_a_session_with_words_language_and_settings(project, files):
    result = transcribe_file(project.store, files["jfk.flac"], tiny(group="pilot-1"))
    assert result.status == "done" and result.session == "jfk"
    session = project.store.get_session("jfk")
    assert session.group == "pilot-1"
    assert session.language == "en"
    assert session.duration == pytest.approx(11.0, abs=0.05)
    assert session.settings["engine"] == "faster-whisper"
    assert session.settings["model"] == "tiny.en"
    assert session.settings["compute_type"] == "int8"
    assert session.settings["versions"]["faster_whisper"]
    assert session.media_sha256 and len(session.settings_key or "") == 64
    utterances = project.store.utterances(session.id)
    ref = normalize((SPEECH / "jfk.ref.txt").read_text())
    assert jiwer.wer(ref, normalize(" ".join(u.text for u in utterances))) <= 0.1
    assert all(u.words and u.start is not None and u.end is not None for u in utterances)
    assert [u.start for u in utterances] == sorted(u.start for u in utterances)


def test_batch_with_bad_files_goes_on_and_reports_each(project, files):
    paths = [files["cut.flac"], files["jfk.flac"], files["empty.wav"]]
    results = list(transcribe_files(project.store, paths, tiny()))
    assert [r.status for r in results] == ["failed", "done", "failed"]
    for r in (results[0], results[2]):
        assert r.error and "\n" not in r.error and str(r.path) in r.error
    assert [s.name for s in project.store.sessions()] == ["jfk"]


def test_same_settings_are_skipped_unless_forced(project, files):
    first = transcribe_file(project.store, files["jfk.flac"], tiny())
    again = transcribe_file(project.store, files["jfk.flac"], tiny())
    assert again.status == "skipped" and again.session == first.session
    # different settings make a new session beside the old one
    greedy = BatchOptions(transcribe=TranscribeOptions(model="tiny.en", cpu_threads=2, beam_size=1))
    other = transcribe_file(project.store, files["jfk.flac"], greedy)
    assert other.status == "done" and other.session == "jfk-2"
    forced = transcribe_file(project.store, files["jfk.flac"], tiny(force=True))
    assert forced.status == "done" and forced.session == "jfk"
    assert sorted(s.name for s in project.store.sessions()) == ["jfk", "jfk-2"]
    n_utt = sum(s.n_utterances for s in project.store.sessions())
    assert count_rows(project, "utterances") == n_utt  # the replaced one left nothing


def test_session_and_force_redo_that_session_with_other_settings(project, files):
    """What the wrong-language warning tells the coder to run: the session
    itself gets the new transcript, keeping its group; no second session."""
    first = transcribe_file(project.store, files["jfk.flac"], tiny(group="pilot-1"))
    again = transcribe_file(project.store, files["jfk.flac"], tiny())
    assert (again.status, again.utterances) == ("skipped", first.utterances)
    assert again.speakers == first.speakers
    greedy = TranscribeOptions(model="tiny.en", cpu_threads=2, beam_size=1)
    with pytest.raises(QualcodeError, match=r"jfk.flac: a session named 'jfk' already exists"):
        transcribe_file(
            project.store, files["jfk.flac"], BatchOptions(transcribe=greedy, session="jfk")
        )
    redone = transcribe_file(
        project.store, files["jfk.flac"], BatchOptions(transcribe=greedy, session="jfk", force=True)
    )
    assert (redone.status, redone.session) == ("done", "jfk")
    [session] = project.store.sessions()
    assert session.group == "pilot-1" and session.settings["beam_size"] == 1


def test_force_never_gives_a_session_another_recordings_talk(project, files):
    """`--session call1 --force` with another file replaced the call's
    transcript, retired its coding and named JFK's voice after a caller."""
    transcribe_file(project.store, files["jfk.flac"], tiny(session="call1"))
    before = project.store.utterances(project.store.get_session("call1").id)
    for force in (False, True):
        with pytest.raises(QualcodeError, match=r"session 'call1' is the transcript of another"):
            transcribe_file(project.store, files["empty.wav"], tiny(session="call1", force=force))
    assert project.store.utterances(project.store.get_session("call1").id) == before


def test_force_with_a_new_session_name_points_to_the_session_it_is(project, files):
    """The file is already a session (jfk): --session newname --force made
    nothing called newname and said nothing, or (later) a second copy that
    every count read twice."""
    transcribe_file(project.store, files["jfk.flac"], tiny())
    with pytest.raises(QualcodeError, match="as session 'jfk'; redo that one with --session jfk"):
        transcribe_file(project.store, files["jfk.flac"], tiny(session="newname", force=True))
    assert [s.name for s in project.store.sessions()] == ["jfk"]


def test_force_never_gives_an_imported_transcript_a_recording(project, files):
    from qualcode.models import Session, Transcript, Utterance

    project.store.add_session(
        Session(name="t1", source_sha256="abc", source_format="txt"),
        Transcript([Utterance("Anna: rahat loppuu.", "Anna")]),
    )
    with pytest.raises(QualcodeError, match="session 't1' was imported from a transcript"):
        transcribe_file(project.store, files["jfk.flac"], tiny(session="t1", force=True))


def test_a_run_killed_before_segmenting_is_finished_by_running_it_again(project, files):
    from qualcode.segment import segment_session

    def segment(session_id: int) -> int:
        return segment_session(project.store, session_id, project).n_codable

    # no segment step: the state a kill between the two steps leaves
    first = transcribe_file(project.store, files["jfk.flac"], tiny())
    assert first.units is None
    again = transcribe_file(project.store, files["jfk.flac"], tiny(), segment=segment)
    assert again.status == "done" and again.units and "interrupted run" in (again.note or "")
    assert again.warning is None
    third = transcribe_file(project.store, files["jfk.flac"], tiny(), segment=segment)
    assert third.status == "skipped" and third.units is None


def test_two_runs_at_once_store_a_file_once(project, files):
    """Another qualcode run stores the same file while this one transcribes:
    this one reports it skipped instead of adding a duplicate; with other
    settings it takes the next free name instead of failing at the end."""
    greedy = BatchOptions(transcribe=TranscribeOptions(model="tiny.en", cpu_threads=2, beam_size=1))

    def other_run(options):
        def progress(event):
            if event.stage == "storing":  # this run is done transcribing, not stored yet
                with project.connect() as other:
                    assert transcribe_file(other, files["jfk.flac"], options).status == "done"

        return progress

    same = transcribe_file(project.store, files["jfk.flac"], tiny(), other_run(tiny()))
    assert (same.status, same.session) == ("skipped", "jfk") and same.utterances
    assert [s.name for s in project.store.sessions()] == ["jfk"]
    beam2 = BatchOptions(transcribe=TranscribeOptions(model="tiny.en", cpu_threads=2, beam_size=2))
    # both runs picked the name jfk-2 before either stored
    other = transcribe_file(project.store, files["jfk.flac"], greedy, other_run(beam2))
    assert (other.status, other.session) == ("done", "jfk-3")
    assert sorted(s.name for s in project.store.sessions()) == ["jfk", "jfk-2", "jfk-3"]


def test_a_folder_stands_for_the_recordings_in_it(project, files, tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    shutil.copy(files["jfk.flac"], folder / "jfk.flac")
    (folder / "notes.txt").write_text("not a recording", encoding="utf-8")
    (folder / "gone.wav").symlink_to(tmp_path / "unmounted" / "gone.wav")
    empty = tmp_path / "empty"
    empty.mkdir()
    results = list(transcribe_files(project.store, [folder, empty], tiny()))
    assert [(r.path.name, r.status) for r in results] == [
        ("gone.wav", "failed"),
        ("jfk.flac", "done"),
        ("empty", "failed"),
    ]
    assert "is a link to" in (results[0].error or "") and "which is not there" in (
        results[0].error or ""
    )
    assert (results[2].error or "").startswith(f"{empty}: is a folder; it holds no recordings (")


def test_interrupted_batch_resumes_without_duplicates(project, files):
    paths = [files["jfk.flac"], files["fi-css10-0040.wav"]]

    def interrupt_second(event):
        # Ctrl-C while the real engine works on the second file
        if event.path == paths[1] and event.stage == "transcribing":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        list(transcribe_files(project.store, paths, tiny(), interrupt_second))
    assert [s.name for s in project.store.sessions()] == ["jfk"]
    resumed = list(transcribe_files(project.store, paths, tiny()))
    assert [r.status for r in resumed] == ["skipped", "done"]
    sessions = project.store.sessions()
    assert sorted(s.name for s in sessions) == ["fi-css10-0040", "jfk"]
    assert count_rows(project, "utterances") == sum(s.n_utterances for s in sessions)


def test_interrupt_while_storing_leaves_no_half_session(project, files, monkeypatch):
    store = project.store
    original = store._insert_utterances

    def insert_then_die(session_id, utterances):
        original(session_id, utterances)  # rows are written ...
        raise KeyboardInterrupt  # ... and the process is stopped before commit

    monkeypatch.setattr(store, "_insert_utterances", insert_then_die)
    with pytest.raises(KeyboardInterrupt):
        list(transcribe_files(store, [files["jfk.flac"]], tiny()))
    assert store.sessions() == []
    assert count_rows(project, "utterances") == 0
    monkeypatch.undo()
    assert [r.status for r in transcribe_files(store, [files["jfk.flac"]], tiny())] == ["done"]


def test_speakers_channels_gives_one_speaker_per_channel(project, files):
    result = transcribe_file(
        project.store, files["stereo-two-speakers.wav"], tiny(speakers="channels")
    )
    assert result.speakers == 2
    utterances = project.store.utterances(project.store.get_session(result.session).id)
    by_speaker = {}
    for u in utterances:
        by_speaker.setdefault(u.speaker, []).append(u.text)
    assert set(by_speaker) == {"SPEAKER_1", "SPEAKER_2"}
    ref = dict(
        line.split(": ", 1)
        for line in (SPEECH / "stereo-two-speakers.ref.txt").read_text().splitlines()
    )
    left = normalize(" ".join(by_speaker["SPEAKER_1"]))
    right = normalize(" ".join(by_speaker["SPEAKER_2"]))
    assert jiwer.wer(normalize(ref["LEFT"]), left) <= 0.1, left
    assert jiwer.wer(normalize(ref["RIGHT"]), right) <= 0.1, right


def test_speakers_channels_refuses_mono_and_copied_channels(project, files):
    with pytest.raises(QualcodeError, match="one channel"):
        transcribe_file(project.store, files["fi-css10-0040.wav"], tiny(speakers="channels"))
    # jfk.flac is a mono recording saved as two identical channels
    with pytest.raises(QualcodeError, match="same sound"):
        transcribe_file(project.store, files["jfk.flac"], tiny(speakers="channels"))


def test_parse_speakers():
    assert parse_speakers("AUTO") == "auto"
    assert parse_speakers("3") == "3"
    with pytest.raises(QualcodeError, match="number of speakers"):
        parse_speakers("many")
    with pytest.raises(QualcodeError, match="number of speakers"):
        parse_speakers("0")
    assert parse_speakers("20") == "20"
    with pytest.raises(QualcodeError, match="--speakers 100: voices cannot be told apart"):
        parse_speakers("100")


def test_session_name_needs_one_file(project, files):
    with pytest.raises(QualcodeError, match="one file"):
        list(
            transcribe_files(
                project.store, [files["jfk.flac"], files["empty.wav"]], tiny(session="x")
            )
        )


def test_speakers_auto_separates_the_two_callers(project):
    # real two-person call; needs the diarization stage (resemblyzer)
    result = transcribe_file(project.store, SPEECH / "two-speakers.wav", tiny(speakers="auto"))
    assert result.speakers == 2
    utterances = project.store.utterances(project.store.get_session(result.session).id)
    speaker_of = {}
    for u in utterances:
        for w in u.words:
            speaker_of.setdefault(normalize(w.word), u.speaker)
    # "This is Diane in New Jersey." / "And I'm Sheila in Texas": two people
    assert speaker_of["diane"] != speaker_of["sheila"]
    assert {u.speaker for u in utterances} == {"SPEAKER_1", "SPEAKER_2"}


def test_a_close_call_on_the_speakers_is_a_note_on_the_file(project, files, monkeypatch):
    import warnings

    from qualcode import diarize

    real = diarize.diarize_words

    def close(audio, words, n=None, options=None):
        warnings.warn(diarize.UncertainSpeakerCount("a close call (found 1)"), stacklevel=1)
        return real(audio, words, 1)

    monkeypatch.setattr(diarize, "diarize_words", close)
    done = transcribe_file(project.store, files["jfk.flac"], tiny(speakers="auto"))
    assert done.status == "done" and done.warning is None
    assert done.note is not None and "jfk.flac: a close call (found 1)" in done.note


def test_more_speakers_than_the_recording_holds_is_a_note(project, files):
    """--speakers 8 on 11 s of one voice split it into many "speakers"
    without a word."""
    done = transcribe_file(project.store, files["jfk.flac"], tiny(speakers="8"))
    assert done.status == "done" and done.warning is None
    assert done.note is not None and "speakers asked for say under 3 s" in done.note
    two = transcribe_file(project.store, files["jfk.flac"], tiny(speakers="1", session="one"))
    assert two.note is None
