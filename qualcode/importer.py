"""Bring existing transcript files into a project as sessions.

Researchers often have transcripts already (typed, from Teams, from a
service) and re-run imports as folders grow, so importing is a batch that
never stops at one bad file, never duplicates a file it has seen (sha256 of
the bytes), and stores each session in one transaction followed by
segmentation, so every imported session is immediately codable.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from qualcode.audio import sha256_file
from qualcode.errors import AlreadyStored, FormatError, QualcodeError, not_a_file
from qualcode.formats import (
    EXTENSIONS,
    IMPORT_FORMATS,
    PROJECT_FORMATS,
    check_format,
    detect_format,
    read_transcript,
)
from qualcode.inputs import files_in_folders
from qualcode.models import Session
from qualcode.project import check_session_name
from qualcode.store import StoreConflict, StoreDamaged
from qualcode.transcript import carry_names_by_text, separate_speaker_labels

if TYPE_CHECKING:
    from qualcode.project import Project

Status = Literal["imported", "skipped", "failed"]


@dataclass
class ImportResult:
    """What happened to one file.

    path: the file as given.
    status: ``imported``, ``skipped`` (already in the project) or ``failed``.
    session: the session it became (or already is); None when it failed.
    message: one line for people: why it was skipped or failed.
    format: the format it was read as.
    n_utterances, n_speakers: of the stored session.
    shared_speakers: its speakers who also speak in another group's sessions
        (the same person, or two people with one name: ``speakers_note``).
    """

    path: Path
    status: Status
    session: str | None = None
    message: str = ""
    format: str | None = None
    n_utterances: int = 0
    n_speakers: int = 0
    # speakers who also speak in another group's sessions -> those sessions
    shared_speakers: dict[str, list[str]] = field(default_factory=dict)
    # what of an imported file was left out and why (a .qdpx source without
    # plain text, selections outside their text), one line each
    warnings: list[str] = field(default_factory=list)


def import_files(
    project: Project,
    paths: Iterable[str | Path],
    *,
    session: str | None = None,
    group: str | None = None,
    format: str = "auto",
    force: bool = False,
    language: str | None = None,
) -> Iterator[ImportResult]:
    """Import each file (a folder: the transcript files in it); yields one
    result per file, in order, and carries on past files that fail.
    ``session`` names the session (one file only); ``force`` imports a file
    again as a new session even when its content is already in the project.
    ``language`` (``fi``, ``en``) overrides the transcript's own; without
    either, later stages use the project's default language."""
    paths_list = [Path(p) for p in paths]
    files = _expand(paths_list)
    if session is not None:
        check_session_name(session)
    if session is not None and len(files) != 1:
        given = (
            f"{len(files)} files were given"
            if len(paths_list) == len(files) or len(paths_list) > 1
            else f"{paths_list[0]} holds {len(files)} transcript files"
        )
        raise QualcodeError(
            f"--session names one session but {given}; "
            "import them one at a time or leave out --session"
        )
    if format != "auto" and format not in IMPORT_FORMATS:
        raise QualcodeError(f"unknown format {format!r}; known: auto, {', '.join(IMPORT_FORMATS)}")
    for path in files:
        try:
            yield _import_one(
                project,
                path,
                session=session,
                group=group,
                fmt=format,
                force=force,
                language=language,
            )
        except QualcodeError as e:
            yield ImportResult(path=path, status="failed", message=str(e))
        except StoreConflict as e:
            yield ImportResult(
                path=path,
                status="failed",
                message=f"{path}: could not be imported ({e}); please report this file",
            )
        except StoreDamaged:
            raise  # the database, not this file: every later file would fail the same way
        except OSError as e:
            yield ImportResult(
                path=path, status="failed", message=f"{path}: cannot read ({e.strerror or e})"
            )
        except Exception as e:  # a reader bug must not end a long batch
            yield ImportResult(
                path=path,
                status="failed",
                message=f"{path}: could not be imported ({type(e).__name__}: {e}); "
                "please report this file",
            )


def _expand(paths: list[Path]) -> list[Path]:
    """Folders stand for the transcript files in them, by extension (see
    ``qualcode.inputs``; a README is documentation, not a session); a
    folder without any stands for itself, to be reported (a folder of
    CSVs imported "0 files" and said nothing)."""
    return files_in_folders(
        paths,
        lambda p: p.suffix.lower() in EXTENSIONS and not p.name.lower().startswith("readme"),
    )


def _no_transcripts(folder: Path) -> FormatError:
    """What a folder without transcripts holds, and where it goes instead."""
    kinds = " ".join(sorted(set(EXTENSIONS)))
    others = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    if not others:
        return FormatError(folder, f"an empty folder; give a folder of transcripts ({kinds})")
    if all(p.is_dir() for p in others):
        # folders are not searched inside: the one holding the transcripts is given
        inside = " ".join(str(folder / p.name) for p in others[:3])
        return FormatError(folder, f"holds only folders; give the ones with transcripts: {inside}")
    names = [p.name + ("/" if p.is_dir() else "") for p in others]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    hint = (
        "; coded units in a .csv come in with `qualcode import-coded FILE.csv`"
        if any(p.suffix.lower() == ".csv" for p in others)
        else ""
    )
    return FormatError(folder, f"holds no transcripts ({kinds}), only {shown}{hint}")


def _import_one(
    project: Project,
    path: Path,
    *,
    session: str | None,
    group: str | None,
    fmt: str,
    force: bool,
    language: str | None,
) -> ImportResult:
    if path.is_dir():
        raise _no_transcripts(path)
    if not path.is_file():
        raise not_a_file(path, "give the transcripts in it, or the folder itself")
    fmt = detect_format(path) if fmt == "auto" else check_format(path, fmt)
    if fmt in PROJECT_FORMATS:
        if session is not None:
            # its sources name their sessions; --force would add them all again
            raise QualcodeError(
                f"{path}: a REFI-QDA project brings its own sessions; leave out --session"
            )
        return _import_project_file(project, path, force, group=group, language=language)
    store = project.store
    sha = sha256_file(path)
    existing = store.find_session_by_source(sha)
    if existing is not None and not force:
        done = store.get_session(existing.name)  # with its counts
        if not store.has_units(done.id or 0):
            # the import was killed between storing the transcript and
            # cutting it (kill -9, a power cut): finish it, or the session
            # would never be suggested, reviewed or counted
            _segment(project, done.id or 0, done.name)
            return ImportResult(
                path=path,
                status="imported",
                session=done.name,
                format=fmt,
                message=f"{done.name} was stored without coding units (an interrupted import, or "
                "one still running): cut now",
                n_utterances=done.n_utterances,
                n_speakers=done.n_speakers,
            )
        return _skipped(path, fmt, done)
    transcript = read_transcript(path, fmt)
    if not transcript.utterances:
        raise FormatError(path, f"no text found (read as {fmt}); is this a transcript?")
    old = store.find_session(session) if session is not None else None
    if old is not None and not force:
        raise QualcodeError(
            f"{path}: a session named {session!r} already exists; choose another name with "
            f"--session, or add --force to give {session!r} this transcript (decisions on "
            "units whose text is unchanged are kept)"
        )
    name = session if session is not None else store.unique_session_name(path.stem)
    if old is not None:
        # the session's speakers keep the names given to them since
        carry_names_by_text(transcript.utterances, store.utterances(old.id or 0))
    separate_speaker_labels(transcript.utterances, store.speaker_names_elsewhere(name))
    record = Session(
        name=name,
        group=group if group is not None or old is None else old.group,
        source_path=str(path.resolve()),
        source_sha256=sha,
        source_format=fmt,
        language=language or transcript.language or (old.language if old else None),
        duration=transcript.duration,
    )
    if old is not None:
        # a corrected transcript of a recording is still that recording's:
        # playback, its sync points and `transcribe`'s "already done" stay
        record.media_path, record.media_sha256 = old.media_path, old.media_sha256
        record.recorded_at, record.settings = old.recorded_at, old.settings
        record.settings_key = old.settings_key
        if record.duration is None:
            record.duration = old.duration
    if old is not None:
        session_id = store.add_session(record, transcript, replace=True)
        message = _resegment(project, path, session_id, name)
    else:
        if session is None:
            record.name = path.stem  # the free name is chosen as it is stored
        try:
            # checked as it is stored: another import of the same file may run
            session_id = store.add_session(
                record, transcript, free_name=session is None, once=not force
            )
        except AlreadyStored as e:
            return _skipped(path, fmt, store.get_session(e.name))
        name, message = record.name, ""
        # cut outside the storing transaction: spaCy takes seconds to a minute
        # on a long transcript, and colleagues' reviews must not wait for it
        _segment(project, session_id, name)
        earlier = store.find_session_by_path(str(path.resolve()), but=name)
        if earlier is not None and earlier.source_sha256 != sha:
            message = (
                f"{path.name} was imported before as {earlier.name}; to give {earlier.name} this "
                f"version instead (keeping decisions on unchanged units): qualcode import "
                f"{shlex.quote(str(path))} --session {shlex.quote(earlier.name)} --force"
            )
    speakers = {u.speaker for u in transcript.utterances if u.speaker}
    return ImportResult(
        path=path,
        status="imported",
        session=name,
        format=fmt,
        message=message,
        n_utterances=len(transcript.utterances),
        n_speakers=len(speakers),
        shared_speakers=store.speakers_in_other_groups(name),
    )


def _skipped(path: Path, fmt: str, done: Session) -> ImportResult:
    """A file whose content is already the session ``done``."""
    return ImportResult(
        path=path,
        status="skipped",
        session=done.name,
        format=fmt,
        message=f"already imported as {done.name} (use --force to import it again)",
        n_utterances=done.n_utterances,
        n_speakers=done.n_speakers,
    )


def _resegment(project: Project, path: Path, session_id: int, name: str) -> str:
    """Cut a session that got a new transcript into units again, keeping the
    decisions on units whose text is unchanged; what happened, in a line.
    A failure keeps the new transcript (the old units keep their decisions
    until segmenting succeeds)."""
    from qualcode.segment import segment_session

    try:
        report = segment_session(project.store, session_id, project)
    except Exception as e:  # noqa: BLE001 - the transcript is stored: keep it, say so
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return (
            f"{path}: the transcript of {name!r} was replaced, but cutting it into coding units "
            f"failed ({first}); run qualcode segment --session {name}"
        )
    retired = len(report.orphaned)
    return f"replaced the transcript of {name}: decisions kept on {report.n_kept} unit(s)" + (
        f"; {retired} retired unit(s) of the session keep theirs (see qualcode segment)"
        if retired
        else ""
    )


def _segment(project: Project, session_id: int, name: str) -> None:
    """Cut the new session into coding units; on failure remove the session
    again, so that a failed import leaves nothing half done."""
    from qualcode.segment import segment_session

    try:
        segment_session(project.store, session_id, project)
    except BaseException:
        project.store.delete_session(name)
        raise


def _import_project_file(
    project: Project, path: Path, force: bool, *, group: str | None, language: str | None
) -> ImportResult:
    from qualcode.exchange import import_qdpx
    from qualcode.exchange.qdpx_read import ImportOptions, qdpx_key

    existing = project.store.find_session_by_settings_key(qdpx_key(path))
    if existing is not None and not force:
        # its codings would come twice and double every count
        return ImportResult(
            path=path,
            status="skipped",
            session=existing.name,
            format="qdpx",
            message=f"already imported (session {existing.name} and the others from it); "
            "use --force to import it again",
        )
    try:
        options = ImportOptions(group=group, language=language, again=force)
        result = import_qdpx(project, path, options)
    except AlreadyStored as e:  # another import of the file finished first
        return ImportResult(
            path=path,
            status="skipped",
            session=e.name,
            format="qdpx",
            message=f"already imported (session {e.name} and the others from it)",
        )
    session = ", ".join(result.sessions) or None
    return ImportResult(
        path=path,
        status="imported",
        session=session,
        format="qdpx",
        message=(
            f"{len(result.sessions)} session(s), {result.n_codes} code(s), "
            f"{result.n_codings} coding(s) by {', '.join(result.coders) or 'no coder'}"
            + (f", {result.n_memos} memo(s)" if result.n_memos else "")
            + (
                f", {result.n_notes_skipped} note(s) not imported (not on a text selection "
                "or source)"
                if result.n_notes_skipped
                else ""
            )
        ),
        n_utterances=result.n_utterances,
        n_speakers=result.n_speakers,
        warnings=result.problems,
    )


def speakers_note(session: str, shared: dict[str, list[str]]) -> list[str]:
    """Lines telling the researcher which speakers of ``session`` are taken
    for people of other groups' sessions, and how to split them when not."""
    lines = []
    for name, sessions in shared.items():
        more = f" and {len(sessions) - 3} more" if len(sessions) > 3 else ""
        listed = ", ".join(sessions[:3]) + more
        lines.append(
            f"  {name!r} in {session} is taken for the {name!r} of {listed} (another group); "
            f"if they are two people: qualcode speakers rename {shlex.quote(name)} "
            f"{shlex.quote(name + ' (' + session + ')')} --session {shlex.quote(session)}"
        )
    return lines
