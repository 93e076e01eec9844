"""Plain-text transcripts: what researchers type, or save from Word or a
transcription service, with speaker prefixes.

Recognised at the start of a paragraph or line: ``Name: text``,
``[id1] text``, ``SPEAKER_00: text``, optionally after a timestamp
(``[00:01:02] Name: text``). Rules, chosen so that ordinary prose is not
mistaken for speaker names:

- Blank lines separate paragraphs; a paragraph is an utterance. A line inside
  a paragraph starts a new utterance only when it begins with a speaker
  prefix that the file uses at least twice, or with a timestamp, or (in a
  file whose prefixes repeat) with any prefix after a line that ends a
  sentence or before a capital: someone who speaks once in a
  one-turn-per-line file is still a speaker, while a wrapped line
  ``... and`` / ``Note: the ...`` stays part of the paragraph.
- A prefix is a name of at most 40 characters and 4 words, starting with a
  letter; only at the start of a paragraph or line, never mid-sentence.
  Bracketed annotations such as ``[laughs]`` or ``[tauko]`` are not speakers.
- A paragraph without a prefix continues the previous speaker (a long turn
  typed as several paragraphs) as a new utterance; before any prefix the
  speaker is unknown.
- ``Name:`` alone on a line names the speaker of the lines that follow; so
  does ``Name  0:03`` (a name and a time, as Otter exports), which also sets
  the start time.
- A paragraph that starts with a cue timing line (``0:0:0.0 --> 0:0:5.2``,
  as Teams' Word transcripts do) is one utterance with those times; a short
  name alone on the next line, used so at least twice in the file, is its
  speaker.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from qualcode.formats._text import (
    clean,
    fill_ends,
    is_name_line,
    read_text,
    split_cue_timing,
    split_heading,
    split_speaker,
    split_time,
)
from qualcode.models import Transcript, Utterance

Block = list[tuple[int, str]]  # (line number, line) of one paragraph
_SENTENCE_END = re.compile(r"[.?!…][\"'”’)\]]*$")


def blocks_from_text(text: str) -> list[Block]:
    blocks: list[Block] = []
    current: Block = []
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            current.append((n, line.strip()))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


@dataclass
class _Line:
    start: float | None = None
    end: float | None = None
    name: str | None = None  # a candidate speaker
    body: str = ""  # the text when the name is believed
    rest: str = ""  # the text when it is not
    cue_speaker: bool = False  # a name alone under a cue timing line


def _lines(block: Block) -> list[_Line]:
    out = []
    for i, (_n, line) in enumerate(block):
        cue = split_cue_timing(line) if i == 0 else None
        if cue:
            out.append(_Line(start=cue[0], end=cue[1]))
            continue
        if i == 1 and out[0].end is not None and len(block) > 2 and is_name_line(line):
            out.append(_Line(name=line, rest=line, cue_speaker=True))
            continue
        heading = split_heading(line)
        if heading:
            out.append(_Line(start=heading[1], name=heading[0], rest=line))
            continue
        start, rest = split_time(line)
        name, body = split_speaker(rest)
        out.append(_Line(start=start, name=name, body=body, rest=rest))
    return out


def parse_blocks(blocks: Iterable[Block], *, source_format: str = "txt") -> Transcript:
    """Utterances from paragraphs of lines (shared with the .docx reader)."""
    parsed = [_lines(block) for block in blocks]
    counts: Counter[str] = Counter(x.name for lines in parsed for x in lines if x.name)

    # a file with speaker prefixes: a line after a finished sentence that
    # starts with a name is a new turn even when that person speaks once
    speakers_file = any(n >= 2 for n in counts.values())
    utterances: list[Utterance] = []
    speaker: str | None = None
    for lines in parsed:
        current: Utterance | None = None
        for i, x in enumerate(lines):
            # (or before a capital, as speech recognizers write a new turn
            # without a full stop; "..., and" / "Note: the board" runs on)
            prev = lines[i - 1].rest.rstrip() if i > 0 else ""
            after_sentence = (
                i > 0
                and speakers_file
                and (
                    bool(_SENTENCE_END.search(prev))
                    or (x.body[:1].isupper() and not prev.endswith(","))
                )
            )
            believed = x.name is not None and (
                counts[x.name] >= 2 or (after_sentence and not x.cue_speaker)
                if x.cue_speaker or i > 0
                else True
            )
            if believed:
                speaker = x.name
            if x.cue_speaker and believed and current is not None:
                current.speaker = speaker
                continue
            text = x.body if believed else x.rest
            if current is None or (believed and not x.cue_speaker) or x.start is not None:
                current = Utterance(text="", speaker=speaker, start=x.start, end=x.end)
                utterances.append(current)
            current.text = clean(f"{current.text} {text}")
    return Transcript(
        utterances=[u for u in utterances if u.text],
        source_format=source_format,
    )


def read_txt(path: Path) -> Transcript:
    transcript = parse_blocks(blocks_from_text(read_text(path)))
    fill_ends(transcript.utterances)
    return transcript


def _clock(seconds: float) -> str:
    total = int(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def write_txt(transcript: Transcript, out: TextIO) -> None:
    """``[hh:mm:ss] Speaker: text`` paragraphs; times to the second, omitted
    when unknown. ``read_txt`` reads it back."""
    first = True
    for u in transcript.utterances:
        if not first:
            out.write("\n")
        first = False
        stamp = f"[{_clock(u.start)}] " if u.start is not None else ""
        who = f"{u.speaker}: " if u.speaker else ""
        out.write(f"{stamp}{who}{u.text}\n")
