"""Word (.docx) transcripts.

Many research teams transcribe in Word. Two layouts are read, in document
order: paragraphs with speaker prefixes (the plain-text rules of ``txt.py``,
each Word paragraph being a paragraph), and tables with a speaker column and
a text column (optionally a time column), which transcription services
deliver. A header row (``Speaker | Text``, ``Puhuja | Teksti``) is skipped.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from qualcode.errors import FormatError
from qualcode.formats._magic import binary_kind
from qualcode.formats._text import clean, fill_ends, parse_time, strip_controls
from qualcode.formats.txt import Block, parse_blocks
from qualcode.models import Transcript, Utterance

_HEADER_WORDS = frozenset(
    "speaker name who text utterance transcript time start puhuja nimi teksti puheenvuoro "
    "aika litterointi".split()
)


def _open(path: Path) -> Any:
    import docx  # python-docx

    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            old_doc = binary_kind(f.read(8)) == "ole"
        hint = " (an old .doc? save it as .docx)" if old_doc else ""
        raise FormatError(path, f"not a Word .docx file{hint}")
    try:
        return docx.Document(str(path))
    except Exception as e:  # python-docx raises several unrelated types
        raise FormatError(
            path, f"cannot read the Word document ({e}); open it in Word and save it again as .docx"
        ) from None


_TIME_AND_NAME = re.compile(r"^[\[(]?(\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)[\])]?\s+(\S.*)$")


def _row(cells: list[str]) -> Utterance | None:
    cells = [clean(c) for c in cells]
    # merged cells repeat their text; keep the first of each run
    deduped = [c for i, c in enumerate(cells) if i == 0 or c != cells[i - 1]]
    if len(deduped) < 2:
        return Utterance(text=deduped[0]) if deduped and deduped[0] else None
    start = None
    rest = []
    for c in deduped:
        t = parse_time(c.strip("[]()"))
        if t is not None and start is None:
            start = t
        else:
            rest.append(c)
    if not rest:
        return None
    text = rest[-1]
    # the cell before the text names the speaker (a blank one: unknown)
    speaker = rest[-2] if len(rest) > 1 and rest[-2] else None
    if speaker and start is None:
        # a time and a name in one (merged) cell: "00:01:00 Aino"
        m = _TIME_AND_NAME.match(speaker)
        if m and (t := parse_time(m[1])) is not None:
            start, speaker = t, m[2]
    if not text:
        return None
    return Utterance(text=text, speaker=speaker, start=start)


def read_docx(path: Path) -> Transcript:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    doc = _open(path)
    utterances: list[Utterance] = []
    pending: list[Block] = []  # paragraphs since the last table
    n = 0  # paragraph counter, reported as the "line" in errors

    def flush() -> None:
        if pending:
            utterances.extend(parse_blocks(pending, source_format="docx").utterances)
            pending.clear()

    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            n += 1
            # before the speaker prefix is looked for, as read_text does for .txt
            text = strip_controls(Paragraph(child, doc).text)
            lines = [(n, line.strip()) for line in text.split("\n") if line.strip()]
            if lines:
                pending.append(lines)
        elif tag == "tbl":
            flush()
            for i, row in enumerate(Table(child, doc).rows):
                u = _row([cell.text for cell in row.cells])
                if u is None:
                    continue
                if i == 0 and {u.text.lower(), (u.speaker or "").lower()} <= _HEADER_WORDS | {""}:
                    continue
                utterances.append(u)
    flush()
    return Transcript(utterances=fill_ends(utterances), source_format="docx")
