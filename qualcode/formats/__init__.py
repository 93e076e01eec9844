"""Transcript readers and writers, picked by name.

Researchers arrive with transcripts from many tools; each format is one small
module, and everything else (import, export, transcription) goes through
``read_transcript`` / ``write_transcript`` so a new format is one registry
entry. ``qdpx``/``qde`` (REFI-QDA projects) are not single transcripts: the
importer hands them to ``qualcode.exchange``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from qualcode.errors import FormatError, QualcodeError
from qualcode.formats._magic import binary_kind
from qualcode.formats.docx import read_docx
from qualcode.formats.jsonfmt import read_json, write_json
from qualcode.formats.subtitles import read_srt, read_vtt, write_srt, write_vtt
from qualcode.formats.txt import read_txt, write_txt
from qualcode.models import Transcript

READERS: dict[str, Callable[[Path], Transcript]] = {
    "txt": read_txt,
    "srt": read_srt,
    "vtt": read_vtt,
    "docx": read_docx,
    "json": read_json,
}
WRITERS: dict[str, Callable[[Transcript, TextIO], None]] = {
    "txt": write_txt,
    "srt": write_srt,
    "vtt": write_vtt,
    "json": write_json,
}
# project files that hold many sources; imported by qualcode.exchange
PROJECT_FORMATS = ("qdpx",)
IMPORT_FORMATS = (*READERS, *PROJECT_FORMATS)

# recordings someone may hand to import by mistake
AUDIO_SUFFIXES = frozenset(
    ".wav .mp3 .m4a .flac .ogg .opus .aac .wma .mp4 .mkv .webm .mov .avi".split()
)

EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".srt": "srt",
    ".vtt": "vtt",
    ".webvtt": "vtt",
    ".docx": "docx",
    ".json": "json",
    ".qdpx": "qdpx",
    ".qde": "qdpx",
}


# spreadsheets someone may hand to import: a coded-units CSV has its own command
SPREADSHEET_SUFFIXES = frozenset(".csv .tsv .xlsx .xls .ods".split())


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(512)
    except OSError as e:
        raise QualcodeError(f"{path}: cannot read ({e.strerror})") from None


_ZIPPED = {"docx": "a Word document", "xlsx": "a spreadsheet", "qdpx": "a REFI-QDA project"}
_SPREADSHEET = (
    "a spreadsheet, not a transcript; coded units (columns text, codes, coder) come in "
    "with `qualcode import-coded FILE.csv`, a transcript as .txt, .docx, .srt or .vtt"
)


def _zip_kind(path: Path) -> str | None:
    """What a zip file is by the parts inside it: docx, xlsx, qdpx or None."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = {n.lower() for n in z.namelist()}
    except (OSError, zipfile.BadZipFile):
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "project.qde" in names:
        return "qdpx"
    return None


def check_format(path: str | Path, fmt: str) -> str:
    """``fmt`` as given with ``--format``, unless the file plainly is
    something else: a zip read as text would fail on its first byte with
    advice about UTF-8 that does not apply."""
    path = Path(path)
    head = _head(path)
    kind = binary_kind(head)
    inside = _zip_kind(path) if kind == "zip" else None
    if inside == "xlsx":
        raise FormatError(path, _SPREADSHEET)
    if inside is not None and inside != fmt:
        raise FormatError(path, f"{_ZIPPED[inside]}, not {fmt}; leave out --format")
    if kind == "zip" and fmt not in ("docx", "qdpx"):
        raise FormatError(
            path, f"a zip file (a .docx or a REFI-QDA .qdpx), not {fmt}; leave out --format"
        )
    if kind in ("pdf", "ole"):
        return detect_format(path)  # says what it is and what to do
    if fmt == "docx" and kind != "zip":
        raise FormatError(path, "not a .docx (a .docx is a zip file); leave out --format")
    if fmt == "qdpx" and kind != "zip" and not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise FormatError(
            path, "not a REFI-QDA project (a .qdpx is a zip file, a .qde XML); leave out --format"
        )
    return fmt


def detect_format(path: str | Path) -> str:
    """The format name for ``path``: by extension, else by its first bytes."""
    path = Path(path)
    by_ext = EXTENSIONS.get(path.suffix.lower())
    if by_ext is None and path.suffix.lower() in AUDIO_SUFFIXES:
        raise FormatError(path, "a recording, not a transcript; use `qualcode transcribe` for it")
    if by_ext is None and path.suffix.lower() in SPREADSHEET_SUFFIXES:
        raise FormatError(path, _SPREADSHEET)
    if by_ext == "qdpx" or (by_ext and not path.is_file()):
        return by_ext
    head = _head(path)
    kind = binary_kind(head)
    if kind == "zip":
        # what a zip holds, whatever its name: a project mailed as .docx, a
        # Word file saved as .txt, a workbook named .docx
        inside = _zip_kind(path)
        if inside == "xlsx":
            raise FormatError(path, _SPREADSHEET)
        return inside or by_ext or "docx"
    if by_ext:
        return by_ext
    if kind == "pdf":
        raise FormatError(path, "a PDF; export the transcript as .docx or .txt and import that")
    if kind == "ole":
        raise FormatError(
            path, "an old Word .doc (Office 97-2003); save it as .docx and import that"
        )
    text = head.decode("utf-8-sig", errors="ignore").lstrip()
    if text.startswith("WEBVTT"):
        return "vtt"
    if text.startswith("{"):
        return "json"
    first = text.split("\n", 3)
    if len(first) > 1 and first[0].strip().isdigit() and "-->" in first[1]:
        return "srt"
    if head and b"\x00" not in head:
        return "txt"
    raise FormatError(
        path,
        "unknown transcript format; use --format with one of " + ", ".join(IMPORT_FORMATS),
    )


def _check(fmt: str, known: tuple[str, ...] | list[str], what: str) -> None:
    if fmt not in known:
        raise QualcodeError(f"unknown {what} format {fmt!r}; known: {', '.join(known)}")


def read_transcript(path: str | Path, format: str = "auto") -> Transcript:
    """Read one transcript file; ``format`` is a READERS name or ``auto``."""
    path = Path(path)
    fmt = detect_format(path) if format == "auto" else format
    if fmt in PROJECT_FORMATS:
        raise QualcodeError(
            f"{path}: a REFI-QDA project holds many sessions; import it with `qualcode import`"
        )
    _check(fmt, list(READERS), "transcript")
    if not path.is_file():
        raise QualcodeError(f"{path}: no such file")
    return READERS[fmt](path)


def write_transcript(transcript: Transcript, out: str | Path | TextIO, format: str) -> None:
    """Write ``transcript`` as ``format`` (txt, srt, vtt, json) to a path or a
    text stream; paths are written as UTF-8."""
    _check(format, list(WRITERS), "output")
    if isinstance(out, str | Path):
        from qualcode.outfile import replacing

        with replacing(out) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
            WRITERS[format](transcript, f)
        return
    WRITERS[format](transcript, out)


def transcript_to_string(transcript: Transcript, format: str) -> str:
    buf = io.StringIO()
    write_transcript(transcript, buf, format)
    return buf.getvalue()


__all__ = [
    "EXTENSIONS",
    "check_format",
    "IMPORT_FORMATS",
    "READERS",
    "WRITERS",
    "detect_format",
    "read_transcript",
    "transcript_to_string",
    "write_json",
    "write_transcript",
]
