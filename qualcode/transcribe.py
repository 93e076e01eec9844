"""Recordings in, speaker-attributed sessions out: the transcription batch.

A researcher drops a folder of recordings on this and walks away, so a bad
file must not stop the batch, a re-run must not transcribe again what is
already in the project (same media sha256 and same settings), and an
interrupted run must leave nothing half-stored: each file is decoded,
transcribed and diarized in memory and then written with one
``Store.add_session`` transaction.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from qualcode.audio import NO_RECORDINGS, expand_folders
from qualcode.engines import EngineResult, TranscribeOptions, get_engine, resolve_device
from qualcode.errors import AlreadyStored, FormatError, QualcodeError, not_a_file
from qualcode.models import Session, Transcript, Utterance
from qualcode.transcribe_notes import language_warning, thin_speakers
from qualcode.transcript import carry_speaker_names, separate_speaker_labels
from qualcode.turns import split_at_silences

Status = Literal["done", "skipped", "failed"]


@dataclass
class BatchOptions:
    """What to do with each file.

    engine: ``faster-whisper`` (default) or ``openai-whisper``.
    transcribe: engine options (model, language, device, ...).
    speakers: ``none`` (Whisper segments, no speaker), ``auto`` (diarize,
        number of speakers found), ``channels`` (one speaker per channel) or
        a number of speakers as a string (``"3"``).
    session: session name (only with one file; default: the file name).
    group: group the sessions belong to (a replaced session keeps its own
        unless this is given).
    force: transcribe again even when the same file was transcribed with the
        same settings; with ``session``, give that existing session the new
        transcript (e.g. made with the right language). The old session
        keeps its id, group and speaker names; segmenting it carries
        decisions over to units whose text is unchanged.
    """

    engine: str = "faster-whisper"
    transcribe: TranscribeOptions = field(default_factory=TranscribeOptions)
    speakers: str = "none"
    session: str | None = None
    group: str | None = None
    force: bool = False
    # the project folder as given (-P), for the commands a warning suggests
    project: str | None = None


@dataclass
class FileProgress:
    """Passed to the progress callback: seconds of audio done in this file."""

    path: Path
    stage: str  # decoding, transcribing, diarizing, storing, segmenting
    done: float
    total: float | None


@dataclass
class FileResult:
    path: Path
    status: Status
    session: str | None = None
    error: str | None = None
    duration: float | None = None
    language: str | None = None
    utterances: int = 0
    speakers: int = 0
    wall_seconds: float = 0.0
    # coding units cut from the session (None: not segmented)
    units: int | None = None
    # the transcript is stored but something after it went wrong
    warning: str | None = None
    # worth saying, nothing wrong (an interrupted run finished)
    note: str | None = None


MAX_SPEAKERS = 20


def parse_speakers(value: str) -> str:
    value = value.strip().lower()
    if value in ("none", "auto", "channels"):
        return value
    if value.isdigit() and int(value) > MAX_SPEAKERS:
        # 100 asked of 11 s of one voice gave 15 "speakers" without a word
        raise QualcodeError(
            f"--speakers {value}: voices cannot be told apart reliably past {MAX_SPEAKERS} in "
            f"one recording; give {MAX_SPEAKERS} or fewer, or auto"
        )
    if value.isdigit() and int(value) >= 1:
        return str(int(value))
    raise QualcodeError(
        f"--speakers {value!r}: use auto, channels, none or a number of speakers (e.g. 3)"
    )


def settings_key(media_sha256: str, options: BatchOptions) -> str:
    """What decides that a file was already transcribed "the same way": the
    media and every option that changes the transcript (not threads or names)."""
    t = options.transcribe
    device = resolve_device(t.device)
    compute = t.compute_type
    if compute is None:
        compute = {"faster-whisper": "int8", "openai-whisper": "float32"}.get(options.engine)
        if device == "cuda":
            compute = "float16"
    relevant = {
        "engine": options.engine,
        "model": t.model,
        "language": t.forced_language,
        "compute_type": compute,
        "beam_size": t.beam_size,
        "vad": t.vad,
        "batched": t.batched,
        "speakers": options.speakers,
    }
    return hashlib.sha256(
        (media_sha256 + json.dumps(relevant, sort_keys=True)).encode("utf-8")
    ).hexdigest()


def _distinct_channels(channels) -> list[int]:
    """Indexes of the channels that are not a copy of an earlier one (mono
    recordings are often saved as identical stereo channels)."""
    import numpy as np

    def same(a, b) -> bool:
        # near-perfect correlation: the same signal, maybe re-encoded (jfk.flac: 0.9996;
        # two people on two channels: about 0)
        if float(a.std()) == 0.0 or float(b.std()) == 0.0:
            return bool(np.array_equal(a, b))
        return float(np.corrcoef(a, b)[0, 1]) > 0.98

    keep: list[int] = []
    for i, channel in enumerate(channels):
        if not any(same(channel, channels[j]) for j in keep):
            keep.append(i)
    return keep


def _transcribe_channels(engine, audio, options: BatchOptions, report) -> EngineResult:
    """One speaker per channel: each channel is transcribed on its own and its
    segments are that speaker's turns, merged in time order.

    Transcribing the mix and then asking which channel is loudest per word
    (``diarize.diarize_channels``) loses words wherever people talk over each
    other: on the stereo test recording the mix came out garbled while each
    channel alone was word-perfect. VAD skips each channel's silences, so
    this costs about as much as one pass over the mix."""
    import numpy as np

    n = audio.n_channels
    distinct = _distinct_channels(audio.channels)
    total = len(distinct) * audio.duration
    results: list[EngineResult] = []
    for done_channels, i in enumerate(distinct):
        channel = audio.channels[i]
        offset = done_channels * audio.duration
        r = engine.transcribe(
            np.ascontiguousarray(channel),
            options.transcribe,
            lambda done, offset=offset: report("transcribing", offset + done, total),
        )
        for u in r.segments:
            u.speaker = f"SPEAKER_{i + 1}"
        results.append(r)
    spoken = max(results, key=lambda r: len(r.words))
    segments = sorted((u for r in results for u in r.segments), key=lambda u: u.start or 0.0)
    return EngineResult(
        segments=segments,
        language=spoken.language,
        language_probability=spoken.language_probability,
        settings={**spoken.settings, "channels": n},
        heard_language=spoken.heard_language,
        heard_probability=spoken.heard_probability,
    )


def _diarize(
    speakers: str, audio, result: EngineResult, path: Path
) -> tuple[list[Utterance], str | None]:
    """Speaker turns from words labelled by the diarization stage, and a
    note when the number of speakers found was a close call."""
    words = result.words
    if speakers in ("none", "channels") or not words:
        # channels: speakers were set per channel while transcribing
        return split_at_silences(result.segments), None
    if speakers == "1":
        for u in result.segments:
            u.speaker = "SPEAKER_1"
        return split_at_silences(result.segments), None
    try:
        # the diarization stage is optional (it needs torch and resemblyzer)
        diarize = importlib.import_module("qualcode.diarize")
    except ImportError as e:
        raise QualcodeError(
            f"{path}: speaker diarization is not available ({e}); use --speakers none"
        ) from None
    try:
        n = None if speakers == "auto" else int(speakers)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", diarize.UncertainSpeakerCount)
            labels = diarize.diarize_words(audio.samples, words, n)
    except ImportError as e:
        raise QualcodeError(
            f"{path}: --speakers {speakers} needs resemblyzer ({e}); install it with "
            "`pip install 'qualcode[diarize]'` or use --speakers channels or none"
        ) from None
    close = [
        str(w.message) for w in caught if issubclass(w.category, diarize.UncertainSpeakerCount)
    ]
    return diarize.words_to_turns(words, labels), (close[0] if close else None)


def transcribe_file(
    store,
    path: str | Path,
    options: BatchOptions,
    progress: Callable[[FileProgress], None] | None = None,
    segment: Callable[[int], int] | None = None,
) -> FileResult:
    """Transcribe one file into ``store`` (a ``qualcode.store.Store``), then
    ``segment(session_id)`` (returning the number of coding units) cuts the
    session into units. Raises ``QualcodeError`` for the file's problems; a
    failed segmentation keeps the stored transcript and is a warning."""
    from qualcode.audio import load_audio, sha256_file

    began = time.perf_counter()
    path = Path(path)
    speakers = parse_speakers(options.speakers)

    def report(stage: str, done: float, total: float | None) -> None:
        if progress is not None:
            progress(FileProgress(path, stage, done, total))

    if not path.is_file():
        raise not_a_file(path, NO_RECORDINGS)
    media_sha = sha256_file(path)
    key = settings_key(media_sha, options)
    existing = store.find_session_by_settings_key(key)
    if existing is not None and not options.force:
        return _already_done(store, path, existing.name, segment)
    named = store.find_session(options.session) if options.session else None
    if named is not None and named.media_sha256 and named.media_sha256 != media_sha:
        # --force redoes a session from its own recording: another recording's
        # talk under its name would take over its speakers and coding
        source = Path(named.media_path).name if named.media_path else "another recording"
        raise QualcodeError(
            f"{path}: session {named.name!r} is the transcript of another recording "
            f"({source}); choose another --session for this one"
        )
    if named is not None and named.media_sha256 is None and named.source_sha256:
        # a transcript someone imported (and coded): replaced by this
        # recording's talk it would lose its text and its units' coding
        raise QualcodeError(
            f"{path}: session {named.name!r} was imported from a transcript, not transcribed "
            "from a recording; choose another --session for this one (a corrected transcript "
            f"replaces it with `qualcode import FILE --session {named.name} --force`)"
        )
    if existing is not None and options.session and named is None:
        # --force with a new name would count the same recording twice
        raise QualcodeError(
            f"{path}: already transcribed with these settings as session {existing.name!r}; "
            f"redo that one with --session {existing.name} --force"
        )
    if named is not None and not options.force:
        # said before minutes of decoding, not after
        raise QualcodeError(
            f"{path}: a session named {named.name!r} already exists; choose another --session, "
            f"or add --force to give {named.name!r} this new transcript (decisions on units "
            "whose text is unchanged are kept)"
        )
    engine = get_engine(options.engine)  # unknown engine fails before decoding
    report("decoding", 0.0, None)
    audio = load_audio(path, keep_channels=speakers == "channels")
    if speakers == "channels" and audio.n_channels < 2:
        raise FormatError(
            path,
            "has one channel, so --speakers channels cannot tell speakers apart; "
            "use --speakers auto",
        )
    if speakers == "channels" and len(_distinct_channels(audio.channels)) < 2:
        raise FormatError(
            path,
            f"has {audio.n_channels} channels carrying the same sound (a mono recording "
            "saved as stereo), so --speakers channels cannot tell speakers apart; "
            "use --speakers auto",
        )
    if speakers == "channels":
        result = _transcribe_channels(engine, audio, options, report)
    else:
        report("transcribing", 0.0, audio.duration)
        result = engine.transcribe(
            audio.samples,
            options.transcribe,
            lambda done: report("transcribing", done, audio.duration),
        )
    if not result.segments:
        raise FormatError(
            path,
            f"no speech found in {audio.duration:.1f} s; check the recording "
            "(or force the right --language)",
        )
    report("diarizing", audio.duration, audio.duration)
    utterances, speakers_note = _diarize(speakers, audio, result, path)
    speakers_note = speakers_note or thin_speakers(speakers, utterances)

    # --force replaces the session named by --session, else the one these
    # settings made (other settings, e.g. another language, make a new one);
    # a --session not taken yet is a new session of that name
    old = named if options.session else existing
    if old is not None:
        name = old.name
        carry_speaker_names(utterances, store.utterances(old.id or 0))
    elif options.session:
        name = options.session
    else:
        name = store.unique_session_name(path.stem)
    separate_speaker_labels(utterances, store.speaker_names_elsewhere(name))
    settings = {
        **result.settings,
        "language_requested": options.transcribe.language or "auto",
        "language_probability": result.language_probability,
        "language_heard": result.heard_language,
        "speakers": speakers,
    }
    session = Session(
        name=name,
        group=options.group if options.group is not None or old is None else old.group,
        recorded_at=old.recorded_at if old is not None else None,
        media_path=str(path.resolve()),
        media_sha256=media_sha,
        source_format=path.suffix.lstrip(".").lower() or None,
        language=result.language,
        duration=audio.duration,
        settings=settings,
        settings_key=key,
    )
    transcript = Transcript(
        utterances=utterances,
        language=result.language,
        duration=audio.duration,
        source_format=session.source_format,
        metadata=settings,
    )
    report("storing", audio.duration, audio.duration)
    free_name = old is None and not options.session
    if free_name:
        session.name = path.stem  # the free name is chosen as it is stored
    try:
        session_id = store.add_session(
            session, transcript, replace=options.force, free_name=free_name, once=not options.force
        )
    except AlreadyStored as e:  # another qualcode run stored it meanwhile (and cuts it)
        return _already_done(store, path, e.name, None)
    name = session.name
    units, warning = None, None
    if segment is not None:
        report("segmenting", audio.duration, audio.duration)
        try:
            units = segment(session_id)
        except Exception as e:  # noqa: BLE001 - the transcript is stored: keep it, say so
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            warning = (
                f"{path}: transcribed into session {name!r}, but cutting it into coding units "
                f"failed ({message}); run qualcode segment --session {name}"
            )
    for extra in (audio.warning, language_warning(path, name, result, options)):
        if extra:
            warning = f"{warning} {extra}" if warning else extra
    return FileResult(
        path,
        "done",
        session=name,
        duration=audio.duration,
        language=result.language,
        utterances=len(utterances),
        speakers=len({u.speaker for u in utterances if u.speaker}),
        wall_seconds=time.perf_counter() - began,
        units=units,
        warning=warning,
        note=f"{path}: {speakers_note}" if speakers_note else None,
    )


def _already_done(store, path: Path, name: str, segment: Callable[[int], int] | None) -> FileResult:
    """The result for a file done before with the same settings: skipped,
    unless a run killed before segmenting left its session without units
    (then they are cut now, or it would never be suggested or counted)."""
    done = store.get_session(name)  # with its counts
    unfinished = segment is not None and not store.has_units(done.id or 0)
    return FileResult(
        path,
        "done" if unfinished else "skipped",
        session=done.name,
        duration=done.duration,
        language=done.language,
        utterances=done.n_utterances,
        speakers=done.n_speakers,
        units=segment(done.id or 0) if segment is not None and unfinished else None,
        note=f"{done.name!r} was stored without coding units (an interrupted run, or one "
        "still finishing): cut now"
        if unfinished
        else None,
    )


def transcribe_files(
    store,
    paths: Iterable[str | Path],
    options: BatchOptions,
    progress: Callable[[FileProgress], None] | None = None,
    segment: Callable[[int], int] | None = None,
) -> Iterator[FileResult]:
    """Transcribe each file, yielding its result as it finishes. A file's
    error becomes a ``failed`` result and the batch goes on; an interrupt
    (Ctrl-C) stops the batch with every finished file stored and no half one."""
    files = expand_folders([Path(p) for p in paths])
    if options.session is not None:
        from qualcode.project import check_session_name

        check_session_name(options.session)
    if options.session and len(files) > 1:
        raise QualcodeError("--session names one session; give one file, or leave it out")
    if files:
        from qualcode.whisper_models import resolve_model

        # a model that cannot be had is a setting, not a file's fault: said
        # once, before any file is decoded
        resolve_model(options.transcribe.model, allow_download=options.transcribe.allow_download)
    for path in files:
        began = time.perf_counter()
        try:
            yield transcribe_file(store, path, options, progress, segment)
        except QualcodeError as e:
            yield FileResult(path, "failed", error=str(e), wall_seconds=time.perf_counter() - began)
        except Exception as e:  # noqa: BLE001 - one broken file must not end the batch
            yield FileResult(
                path,
                "failed",
                error=f"{path}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                wall_seconds=time.perf_counter() - began,
            )


def result_json(r: FileResult) -> dict:
    """The stable ``--json`` shape of one file's result."""
    data = asdict(r)
    data["path"] = str(r.path)
    data["wall_seconds"] = round(r.wall_seconds, 3)
    return data
