"""SubRip (.srt) and WebVTT (.vtt) transcripts, read and written.

Meeting tools (Teams, Zoom) and subtitle editors export these; they carry
the timing a coder needs to play the audio behind a unit. Real exports bend
the specs (a byte-order mark, ``0:0:0.210`` timestamps, ``Name: text`` in
cues instead of voice tags), so the readers are lenient about those and
strict only where guessing would misplace text: a cue without a readable
timing line is an error naming the line.

Speakers: a WebVTT voice tag (``<v Name>``) names the speaker; otherwise a
``Name:`` prefix at the start of a cue does, when the file uses that name as a
prefix in at least two cues or at least half of the cues start with a prefix
(so one caption starting "Note: ..." does not invent a speaker). In a file
that marks speakers, an unmarked cue continues the previous speaker (captions
split long turns across cues).
Every cue stays its own utterance so its times are kept.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path
from typing import TextIO

from qualcode.errors import FormatError
from qualcode.formats._text import clean, parse_time, read_text, split_speaker
from qualcode.formats.txt import blocks_from_text
from qualcode.models import Transcript, Utterance

_TIMING = re.compile(r"^(?P<start>\S+)\s+-->\s+(?P<end>\S+)(?:\s.*)?$")
# a timestamp's digits in the right places, whatever their values
_SHAPE = re.compile(r"(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?")
_VOICE = re.compile(r"(<v(?:\.[^\s>]*)?(?:\s+[^>]*)?>)")
_VOICE_NAME = re.compile(r"^<v(?:\.[^\s>]*)?(?:\s+(?P<name>[^>]*))?>$")
_TAG = re.compile(r"<[^>\n]*>")
# SubRip has no escaping, so only the formatting tags players know are
# removed there ("<kaikki>" in a transcript stays text)
_SRT_TAG = re.compile(r"</?(?:i|b|u|s|font)(?:\s[^>\n]*)?>|\{\\[^}\n]*\}", re.I)
# a dash some subtitlers put before each speaker's line
_DASH = re.compile(r"^[-–—]\s*")

Cue = tuple[float, float, list[tuple[str | None, str]], int]


def _timing(path: Path, line_no: int, line: str, example: str) -> tuple[float, float]:
    m = _TIMING.match(line)
    if not m:
        raise FormatError(
            path, f"expected a cue timing line like {example}, found {line[:60]!r}", line_no
        )
    times = []
    for value in (m["start"], m["end"]):
        seconds = parse_time(value)
        if seconds is None:
            # the shape may be right with minutes or seconds past 59
            shaped = _SHAPE.fullmatch(value.strip())
            why = "minutes and seconds go up to 59" if shaped else "expected hh:mm:ss.mmm"
            raise FormatError(path, f"bad timestamp {value!r} in cue timing; {why}", line_no)
        times.append(seconds)
    if times[1] < times[0]:
        raise FormatError(path, f"cue ends ({m['end']}) before it starts ({m['start']})", line_no)
    return times[0], times[1]


def _parts(lines: list[str], *, srt: bool = False) -> list[tuple[str | None, str]]:
    """(voice, text) pieces of a cue payload; voice None where no <v> tag."""
    parts: list[tuple[str | None, str]] = []
    voice: str | None = None
    for piece in _VOICE.split("\n".join(lines)):
        m = _VOICE_NAME.match(piece)
        if m:
            voice = (m["name"] or "").strip() or None
            continue
        if srt:
            text = clean(_SRT_TAG.sub("", piece))
        else:
            text = clean(
                html.unescape(_TAG.sub("", piece)).replace("\u200e", "").replace("\u200f", "")
            )
        if text:
            parts.append((voice, text))
    return parts


def _utterances(cues: list[Cue]) -> list[Utterance]:
    # prefixes count as speakers only when the file repeats them
    counts: Counter[str] = Counter()
    for _s, _e, parts, _n in cues:
        for voice, text in parts:
            if voice is None:
                name, _ = split_speaker(_DASH.sub("", text))
                if name:
                    counts[name] += 1
    # ... or when most cues start with one (a file that marks speakers so)
    n_prefixed = sum(counts.values())
    n_parts = sum(len(parts) for _s, _e, parts, _n in cues)
    everywhere = n_prefixed >= 2 and 2 * n_prefixed >= n_parts
    marked = False
    speaker: str | None = None
    out: list[Utterance] = []
    for start, end, parts, _n in cues:
        for voice, text in parts:
            if voice is None:
                name, body = split_speaker(_DASH.sub("", text))
                if name and (counts[name] >= 2 or everywhere):
                    voice, text = name, body
            if voice is not None:
                marked = True
                speaker = voice
            if text:
                out.append(
                    Utterance(text=text, speaker=speaker if marked else None, start=start, end=end)
                )
    return out


def _transcript(cues: list[Cue], fmt: str) -> Transcript:
    utterances = _utterances(cues)
    duration = max((u.end for u in utterances if u.end is not None), default=None)
    return Transcript(utterances=utterances, duration=duration, source_format=fmt)


def read_vtt(path: Path) -> Transcript:
    text = read_text(path)
    first = text.split("\n", 1)[0]
    if not (first == "WEBVTT" or first.startswith(("WEBVTT ", "WEBVTT\t"))):
        raise FormatError(path, "not a WebVTT file: the first line must be WEBVTT", 1)
    cues: list[Cue] = []
    blocks = blocks_from_text(text)
    # YouTube and others put `Language: fi` in the header block
    language = next(
        (
            line.split(":", 1)[1].strip() or None
            for _n, line in blocks[0][1:]
            if line.lower().startswith("language:")
        ),
        None,
    )
    for block in blocks[1:]:  # the first block is the header
        head = block[0][1]
        if head.split(" ", 1)[0] in ("NOTE", "STYLE", "REGION") and "-->" not in head:
            continue
        at = 0 if "-->" in head else 1  # an optional cue identifier line
        if at >= len(block):
            raise FormatError(
                path,
                f"cue {head[:40]!r} has no timing line (00:00:01.000 --> 00:00:04.000)",
                block[0][0],
            )
        n, line = block[at]
        start, end = _timing(path, n, line, "00:00:01.000 --> 00:00:04.000")
        cues.append((start, end, _parts([t for _, t in block[at + 1 :]]), n))
    transcript = _transcript(cues, "vtt")
    transcript.language = language
    return transcript


def read_srt(path: Path) -> Transcript:
    text = read_text(path)
    cues: list[Cue] = []
    example = "00:00:01,000 --> 00:00:04,000"
    for block in blocks_from_text(text):
        at = 0
        head = block[0][1]
        if head.isdigit():
            at = 1
            if len(block) < 2:
                raise FormatError(path, f"cue {head} has no timing line ({example})", block[0][0])
        elif "-->" not in head:
            raise FormatError(
                path,
                f"expected a cue number or a timing line like {example}, found {head[:60]!r}",
                block[0][0],
            )
        n, line = block[at]
        if "-->" not in line:
            raise FormatError(
                path,
                f"cue {head} has no timing line: expected {example}, found {line[:60]!r}",
                n,
            )
        start, end = _timing(path, n, line, example)
        cues.append((start, end, _parts([t for _, t in block[at + 1 :]], srt=True), n))
    if not cues and text.strip():
        raise FormatError(path, "no subtitle cues found; is this an .srt file?", 1)
    return _transcript(cues, "srt")


# -- writing -----------------------------------------------------------------


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _timed(transcript: Transcript) -> list[tuple[float, float, Utterance]]:
    """Every utterance with times: subtitles need them, so untimed ones get
    the previous end and an estimate of 0.4 s per word (at least 1 s)."""
    out = []
    clock = 0.0
    items = transcript.utterances
    for i, u in enumerate(items):
        start = u.start if u.start is not None else clock
        end = u.end
        if end is None or end < start:
            nxt = next((v.start for v in items[i + 1 :] if v.start is not None), None)
            guess = start + max(1.0, 0.4 * len(u.text.split()))
            end = nxt if nxt is not None and start < nxt <= guess else guess
        out.append((start, end, u))
        clock = end
    return out


def write_srt(transcript: Transcript, out: TextIO) -> None:
    """Numbered cues, ``Speaker: text`` lines."""
    for i, (start, end, u) in enumerate(_timed(transcript), start=1):
        who = f"{u.speaker}: " if u.speaker else ""
        out.write(f"{i}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{who}{u.text}\n\n")


def write_vtt(transcript: Transcript, out: TextIO) -> None:
    """WebVTT with a ``<v Speaker>`` voice tag per cue."""
    out.write("WEBVTT\n")
    if transcript.language:  # a header the reader (and YouTube) understands
        out.write(f"Language: {transcript.language}\n")
    out.write("\n")
    for start, end, u in _timed(transcript):
        text = html.escape(u.text, quote=False)
        if u.speaker:
            name = u.speaker.replace(">", "").replace("\n", " ")
            text = f"<v {name}>{text}</v>"
        out.write(f"{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text}\n\n")


__all__ = ["read_srt", "read_vtt", "write_srt", "write_vtt"]
