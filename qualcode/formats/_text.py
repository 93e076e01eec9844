"""Helpers shared by the text-based readers: decoding, control characters,
timestamps, speaker prefixes.

Transcripts come from Word, Teams, Zoom, subtitle editors and hand typing, so
the same small quirks (a byte-order mark, Windows line ends, ``0:0:0.210``,
terminal colour codes pasted from a console) turn up in every format; they
are handled once here.
"""

from __future__ import annotations

import re
from pathlib import Path

from qualcode.errors import FormatError
from qualcode.models import Utterance

# Terminal escape sequences (colour codes pasted from a console log) go as a
# whole: removing only ESC would leave "[31m" in the text. CSI (ESC [ or the
# one-byte C1 form), OSC ended by BEL or ESC \, and two-byte escapes.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)"
    r"|\x1b[ -/]*[0-~]"
)
# C0 and C1 controls but tab and newline. Excel files refuse most of them,
# terminals act on them, and no transcript means them as text.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
# vertical tab, form feed and NEL break lines or pages; a space keeps the
# words apart without shifting the line numbers that errors report
_BREAKS = str.maketrans("\x0b\x0c\x85", "   ")

# A timestamp as transcripts write it: [h:]mm:ss with an optional fraction
# after "." or ",". Components may be unpadded (Teams writes 0:0:0.210).
TIME = r"(?:\d{1,3}:)?\d{1,2}:\d{1,2}(?:[.,]\d{1,3})?"
_TIME_RE = re.compile(rf"^{TIME}$")

# `SPEAKER_00: text`, `Aino Virtanen: text`, `Haastattelija (H): text`.
# A speaker name starts with a letter, is at most 40 characters and 4 words.
_COLON_PREFIX = re.compile(r"^(?P<name>[^\W\d_][^:\n]{0,39}?)\s*:(?:\s+|$)(?P<rest>.*)$", re.S)
_BRACKET_PREFIX = re.compile(r"^\[(?P<name>[^\]\n]{1,40})\]\s*(?P<rest>.*)$", re.S)
# `[00:01:02]`, `(00:01:02)` or a bare `00:01:02` before the speaker
_TIME_PREFIX = re.compile(
    rf"^(?P<open>[\[(]?)(?P<time>{TIME})[\])]?\s*(?:[-–—]\s*)?(?P<rest>.*)$", re.S
)
# Otter-style heading line: `Speaker 1  0:03`, `Aino (00:01:02)`
_NAME_TIME = re.compile(rf"^(?P<name>[^\W\d_][^:\n]{{0,39}}?)\s+[\[(]?(?P<time>{TIME})[\])]?$")
_NAME_CHARS = re.compile(r"^[\w .'’()&/-]+$")

# bracketed words at a paragraph start that annotate speech, not speakers
_ANNOTATIONS = frozenset(
    """
    laughs laughter laughing inaudible unclear crosstalk pause silence music noise
    naurua naurahtaa nauraa epäselvä epäselvää tauko hiljaisuus päällekkäin päällekkäistä
    taukoa musiikkia
    """.split()
)


def read_text(path: Path) -> str:
    """The file's text with a byte-order mark and control characters removed
    and line ends as ``\\n``."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise FormatError(
                path,
                f"not UTF-8 text (byte {e.start}); save the file as UTF-8 and import it again",
                line,
            ) from None
    return strip_controls(text)


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters;
    tabs and line ends (as ``\\n``) stay, every printable character too."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", _ESCAPES.sub("", text).translate(_BREAKS))


def parse_time(value: str) -> float | None:
    """Seconds from ``[h:]m:s[.fff]``; None when ``value`` is not a timestamp."""
    value = value.strip()
    if not _TIME_RE.match(value):
        return None
    value = value.replace(",", ".")
    main, _, frac = value.partition(".")
    parts = [int(p) for p in main.split(":")]
    if len(parts) == 2:
        parts.insert(0, 0)
    h, m, s = parts
    if m >= 60 or s >= 60:
        return None
    millis = int(frac.ljust(3, "0")) if frac else 0
    return h * 3600 + m * 60 + s + millis / 1000


def split_time(text: str) -> tuple[float | None, str]:
    """A leading timestamp (``[00:01:02] Name: ...``) and the rest. A bare
    time without brackets counts only before a speaker prefix, so that
    "10:30 we met" stays text."""
    m = _TIME_PREFIX.match(text)
    if m:
        seconds = parse_time(m["time"])
        if seconds is not None and (m["open"] or split_speaker(m["rest"])[0]):
            return seconds, m["rest"]
    return None, text


def _plausible_name(name: str) -> bool:
    name = name.strip()
    return (
        0 < len(name) <= 40
        and len(name.split()) <= 4
        and bool(_NAME_CHARS.match(name))
        and name.lower() not in _ANNOTATIONS
    )


def split_speaker(text: str) -> tuple[str | None, str]:
    """A candidate speaker prefix (``Name:`` or ``[id1]``) and the rest.

    Callers decide whether the candidate is believed (see ``txt.py``)."""
    m = _BRACKET_PREFIX.match(text)
    if m and _plausible_name(m["name"]) and parse_time(m["name"]) is None:
        return m["name"].strip(), m["rest"].strip()
    m = _COLON_PREFIX.match(text)
    if m and _plausible_name(m["name"]):
        return m["name"].strip(), m["rest"].strip()
    return None, text


def split_heading(text: str) -> tuple[str, float] | None:
    """``Speaker 1  0:03`` (a speaker and a time alone on a line, as Otter and
    some services write above each turn): the name and the time."""
    m = _NAME_TIME.match(text)
    if m and _plausible_name(m["name"]):
        seconds = parse_time(m["time"])
        if seconds is not None:
            return m["name"].strip(), seconds
    return None


_CUE_TIMING = re.compile(rf"^(?P<start>{TIME})\s*-->\s*(?P<end>{TIME})$")


def split_cue_timing(text: str) -> tuple[float, float] | None:
    """``0:0:0.0 --> 0:0:5.250`` alone on a line: start and end."""
    m = _CUE_TIMING.match(text)
    if m:
        start, end = parse_time(m["start"]), parse_time(m["end"])
        if start is not None and end is not None and end >= start:
            return start, end
    return None


def is_name_line(text: str) -> bool:
    """A line that could be just a speaker's name (no sentence punctuation)."""
    return _plausible_name(text) and not text.rstrip().endswith((".", "!", "?", ","))


def clean(text: str) -> str:
    """Control characters removed (see ``strip_controls``) and runs of white
    space (line wraps inside a turn, tabs) collapsed to one space."""
    return " ".join(strip_controls(text).split())


def fill_ends(utterances: list[Utterance]) -> list[Utterance]:
    """A transcript that stamps only when each turn starts (``[00:25]``):
    a turn lasts until the next one starts, so units get an end and a
    duration (the report's minutes). The last turn's end stays unknown."""
    for u, nxt in zip(utterances, utterances[1:], strict=False):
        if u.start is not None and u.end is None and nxt.start is not None and nxt.start >= u.start:
            u.end = nxt.start
    return utterances
