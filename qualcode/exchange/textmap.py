"""Turning another tool's source text into utterances without losing where
its selections point.

REFI-QDA selections are offsets into the source's plain-text file. qualcode
addresses every session by its own plain text (one ``Speaker: text`` line per
utterance, ``\\n`` between lines, see ``qualcode.transcript``), so an import
must map each foreign offset onto that text. Real exports differ from the
standard's "Unicode code points": NVivo 12 writes a UTF-8 byte order mark
(not counted), CRLF line ends (counted as two characters) and counts UTF-16
code units (an emoji counts twice). ``offset_units`` decides between code
points and UTF-16 units by which one puts the selections on word
boundaries; ``build_text`` keeps a table from every source offset to the
session's plain-text offset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qualcode.models import Utterance

BOM = "\ufeff"
_LINE_END = re.compile(r"[\r\n]")
# "Name: text": a name of one to three words (``Anna``, ``Péter Ádám``,
# ``SPEAKER_00``, ``Haastattelija 1``); longer runs before a colon are titles
SPEAKER_RE = re.compile(r"^([^\W\d_][\w.'\-]{0,29}(?: [\w.'\-]{1,30}){0,2}):[ \t]+(?=\S)")


def decode_source(data: bytes) -> str:
    """Source file bytes to text: UTF-8 (the standard) with or without BOM,
    falling back to UTF-16 when a UTF-16 BOM is present."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = data.decode("utf-16")
    else:
        text = data.decode("utf-8", errors="replace")
    return text[1:] if text.startswith(BOM) else text


def utf16_to_codepoints(text: str) -> list[int]:
    """Table from UTF-16 code unit offset to code point offset."""
    table: list[int] = []
    for i, ch in enumerate(text):
        table.append(i)
        if ord(ch) > 0xFFFF:
            table.append(i + 1)  # the second surrogate points after the character
    table.append(len(text))
    return table


def _boundary_score(text: str, spans: Sequence[tuple[int, int]]) -> int:
    score = 0
    n = len(text)
    for start, end in spans:
        if 0 <= start <= end <= n:
            score += start == 0 or not text[start - 1].isalnum()
            score += end == n or not text[end].isalnum()
    return score


def offset_units(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``codepoint`` (the standard) or ``utf16`` (NVivo): which reading of
    the offsets puts the selections' ends on word boundaries more often."""
    if not spans or all(ord(c) <= 0xFFFF for c in text):
        return "codepoint"
    table = utf16_to_codepoints(text)
    last = len(table) - 1
    as_utf16 = [(table[min(s, last)], table[min(e, last)]) for s, e in spans]
    if _boundary_score(text, as_utf16) > _boundary_score(text, spans):
        return "utf16"
    return "codepoint"


@dataclass
class SourceText:
    """A source split into utterances and the offset table.

    utterances: one per non-blank line.
    plain: ``qualcode.transcript.plain_text(utterances)``.
    to_plain: for every code point offset 0..len(source) of the source text
        (BOM removed, line ends as they were), the offset in ``plain``.
    line_starts: offset in ``plain`` where each utterance's line starts.
    """

    utterances: list[Utterance]
    plain: str
    to_plain: list[int]
    line_starts: list[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """A source selection as offsets into ``plain``, trimmed of
        surrounding whitespace (blank lines and line ends are not text)."""
        n, size = len(self.to_plain) - 1, len(self.plain)
        # blank lines after the last utterance map past the end
        s = min(self.to_plain[max(0, min(start, n))], size)
        e = min(self.to_plain[max(0, min(end, n))], size)
        while s < e and self.plain[s].isspace():
            s += 1
        while e > s and self.plain[e - 1].isspace():
            e -= 1
        return s, e


def transcript_speakers(source: str) -> set[str] | None:
    """The ``Name:`` prefixes of ``source`` that look like a transcript's
    speakers: names that start at least two lines, when such lines are a
    quarter or more of its lines. A paper's ``Abstract:`` or a comment
    thread's ``Koronavírus: ...`` titles are not people (and pseudonymizing
    them as names would mask ordinary words everywhere). None: no speakers."""
    from collections import Counter

    lines = [line.strip() for line in _LINE_END.split(source) if line.strip()]
    names = Counter(m.group(1) for line in lines if (m := SPEAKER_RE.match(line)))
    repeated = {name for name, n in names.items() if n >= 2}
    turns = sum(names[name] for name in repeated)
    return repeated if repeated and turns * 4 >= len(lines) else None


def build_text(source: str, *, speakers: bool = True, only: set[str] | None = None) -> SourceText:
    """Split ``source`` (BOM already removed) into utterances, one per
    non-blank line; ``Name: text`` lines get ``Name`` as speaker when
    ``speakers`` (and, when ``only`` is given, the name is in it)."""
    to_plain = [0] * (len(source) + 1)
    utterances: list[Utterance] = []
    line_starts: list[int] = []
    plain_parts: list[str] = []
    plain_len = 0  # length of the plain text so far (no trailing newline)
    pos = 0
    n = len(source)
    while pos <= n:
        found = _LINE_END.search(source, pos)
        nl = found.start() if found else n
        line_end = nl + (2 if source.startswith("\r\n", nl) else 1 if nl < n else 0)
        content = source[pos:nl]
        body = content.strip()
        next_start = plain_len + 1 if utterances else 0
        if not body:
            to_plain[pos:line_end] = [next_start] * (line_end - pos)
        else:
            lead = len(content) - len(content.lstrip())
            speaker, text, skip = None, body, 0
            m = SPEAKER_RE.match(body) if speakers else None
            if m and only is not None and m.group(1) not in only:
                m = None
            if m:
                speaker, skip = m.group(1), m.end()
                text = body[skip:]
            prefix = len(speaker) + 2 if speaker else 0
            start = next_start
            # slices, not a loop per character: sources run to megabytes
            b0, b1 = pos + lead, pos + lead + len(body)
            line_stop = start + prefix + len(text)
            to_plain[pos:b0] = [start] * lead  # leading spaces
            to_plain[b0 : b0 + skip] = [start + min(rel, prefix) for rel in range(skip)]
            to_plain[b0 + skip : b1] = range(start + prefix, line_stop)
            to_plain[b1:line_end] = [line_stop] * (line_end - b1)  # trailing spaces, line end
            utterances.append(Utterance(text=text, speaker=speaker))
            line_starts.append(start)
            plain_parts.append((f"{speaker}: " if speaker else "") + text)
            plain_len = line_stop
        if line_end == pos:  # end of text
            break
        pos = line_end
    to_plain[n] = plain_len
    plain = "\n".join(plain_parts)
    return SourceText(utterances, plain, to_plain, line_starts)
