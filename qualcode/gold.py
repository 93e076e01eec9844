"""Coded units in a spreadsheet: the gold CSV read by evaluate and import-coded.

Researchers bring coding from Excel, Taguette, NVivo exports or a colleague's
script, so the reader is lenient where the meaning is clear (comma,
semicolon or tab between columns; a byte-order mark; codes by id or by label
in any case) and strict where a mistake would silently change the data: a
quote left open would swallow the rows after it into one unit, an extra
field would drop text, a duplicated column would hide one of two codings.
Those are refused with the file, the line and what to do.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.errors import FormatError
from qualcode.formats._magic import binary_kind
from qualcode.project import is_language_code, normal_language

if TYPE_CHECKING:
    from qualcode.codebook import Codebook

GOLD_COLUMNS = ("text", "codes")
# optional columns besides lang (which is normalised: "FI" is fi), read as given
_AS_GIVEN = ("id", "session", "speaker", "coder")
# a spreadsheet saved under the wrong name, by formats._magic.binary_kind
_NOT_CSV = {
    "zip": "an Excel workbook (or another zip file)",
    "ole": "an old Excel (.xls) workbook",
    "pdf": "a PDF",
}
_SHOWN_UNKNOWN = 5


@dataclass
class GoldUnit:
    text: str
    codes: list[str]
    line: int
    id: str | None = None
    lang: str | None = None
    session: str | None = None
    speaker: str | None = None
    coder: str | None = None


def code_names(codebook: Codebook) -> dict[str, str]:
    """What a spreadsheet may call each code: its id or one of its labels, in
    any case (``Funding``, ``Toiminnan rahoitus``), mapped to the id."""
    names: dict[str, str] = {}
    for code in codebook.iter_codes():
        for name in (code.id, *code.label.values()):
            names.setdefault(name.strip().casefold(), code.id)
    return names


def _clean(value: str) -> str:
    """A cell as qualcode stores text: control characters and terminal
    escapes removed (as every transcript import does), one Unicode form (a
    Mac may save "ä" as a + combining dots, and the same words must find the
    same unit), no surrounding spaces."""
    from qualcode.formats._text import strip_controls

    return unicodedata.normalize("NFC", strip_controls(value)).strip()


def _delimiter(header: str) -> str:
    """Comma, semicolon (Excel in a Finnish or German locale) or tab, whichever
    the header line uses most."""
    return max((",", ";", "\t"), key=header.count)


def _check_kind(path: Path) -> str:
    """Refuse a workbook or other binary file saved with a .csv name before
    it is misread as text in a wrong encoding; returns the encoding to read
    it in (Excel's "Unicode text" is UTF-16 with a byte-order mark)."""
    if path.is_dir():
        raise FormatError(path, "a folder; give the CSV file in it")
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise FormatError(path, f"cannot read it ({e.strerror})") from e
    kind = binary_kind(head)
    if kind:
        raise FormatError(
            path, f"this is {_NOT_CSV[kind]}, not a CSV file; save it as “CSV UTF-8” and try again"
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FormatError(path, "empty file; expected a header text,codes and coded units")
    # the whole file at once: the csv reader reads ahead in blocks, so a
    # bad byte it meets would be reported at a line before the real one
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise FormatError(
            path,
            f"not UTF-8 text (byte 0x{data[e.start]:02X}; Latin-1 or Windows-1252?); save the CSV "
            "as “CSV UTF-8”",
            line,
        ) from e
    return "utf-8-sig"


def read_gold(
    path: str | Path,
    known_codes: Sequence[str],
    *,
    parents: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> list[GoldUnit]:
    """Rows of a gold CSV; unknown codes, missing or repeated columns, quotes
    left open and rows with more fields than the header are refused with
    their line number. ``names`` (see ``code_names``) lets a row give a code
    by label or in another case."""
    path = Path(path)
    encoding = _check_kind(path)
    known = set(known_codes)
    names = names or {}
    # a long unit (a whole interview answer) is not a broken quote
    csv.field_size_limit(max(csv.field_size_limit(), 10_000_000))
    try:
        handle = path.open(encoding=encoding, newline="")
        delimiter = _delimiter(handle.readline())
        handle.seek(0)
    except OSError as e:
        raise FormatError(path, f"cannot read it ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise FormatError(path, "not UTF-8 text; save the CSV as UTF-8") from e
    # with a comma between columns, a comma inside the (quoted) codes column
    # may belong to a label; it separates codes only where the parts are codes
    separators = re.compile("[;]" if delimiter == "," else "[;,]")
    units: list[GoldUnit] = []
    unknown: dict[str, int] = {}  # unknown code -> first line
    with_children: dict[str, int] = {}  # parent code -> first line
    with handle:
        # strict: a quote left open is an error, not the rest of the file in one field
        reader = csv.DictReader(handle, delimiter=delimiter, strict=True)
        start = 2
        try:
            header = [h.strip().lower() for h in reader.fieldnames or []]
            missing = [c for c in GOLD_COLUMNS if c not in header]
            if missing:
                raise FormatError(
                    path,
                    f"missing column(s) {', '.join(missing)}; the header needs text and codes "
                    "(separated by commas, semicolons or tabs)",
                    1,
                )
            twice = sorted({h for h in header if h and header.count(h) > 1})
            if twice:
                raise FormatError(
                    path, f"column(s) {', '.join(twice)} appear more than once; keep one", 1
                )
            reader.fieldnames = header
            start = reader.line_num + 1
            for row in reader:
                line = start
                start = reader.line_num + 1
                if not any((v or "").strip() for k, v in row.items() if k is not None):
                    continue  # a spreadsheet's empty row (",,")
                if None in row:  # DictReader's place for fields beyond the header
                    raise FormatError(
                        path,
                        f"{len(header) + len(row[None])} fields where the header has "  # type: ignore[index]
                        f"{len(header)}; put text that contains {delimiter!r} in double quotes",
                        line,
                    )
                text = _clean(row.get("text") or "")
                if not text:
                    raise FormatError(path, "empty text; remove the row or fill it in", line)
                # a spreadsheet's "FI" or "En" means fi and en
                given_lang = (row.get("lang") or "").strip()
                lang = normal_language(given_lang)
                if lang and not is_language_code(lang):
                    raise FormatError(
                        path,
                        f"language {given_lang!r} is not a language code such as fi or en",
                        line,
                    )
                codes = []
                for code in _split_codes(row.get("codes") or "", separators, known, names):
                    if code not in known and code not in parents:
                        code = names.get(code.casefold(), code)
                    if code in parents:
                        with_children.setdefault(code, line)
                        continue
                    if code not in known:
                        unknown.setdefault(code, line)
                        continue
                    codes.append(code)
                units.append(
                    GoldUnit(
                        text=text,
                        codes=list(dict.fromkeys(codes)),
                        line=line,
                        lang=lang or None,
                        **{k: _clean(row.get(k) or "") or None for k in _AS_GIVEN},
                    )
                )
        except csv.Error as e:
            raise FormatError(
                path,
                f"not valid CSV ({e}); a quote opened on this line is not closed where it "
                "should be",
                start,
            ) from e
        except UnicodeDecodeError as e:
            raise FormatError(path, "not UTF-8 text; save the CSV as UTF-8", reader.line_num) from e
    if unknown or with_children:
        # every code problem in the file at once, so it is fixed in one go
        parts = [_unknown(unknown, known, names)] if unknown else []
        parts += [
            f"code {code!r} has sub-codes (line {n}); code the unit with one of them"
            if len(with_children) > 1 or unknown
            else f"code {code!r} has sub-codes; code the unit with one of them"
            for code, n in sorted(with_children.items(), key=lambda kv: kv[1])
        ]
        first = min([*unknown.values(), *with_children.values()])
        raise FormatError(path, "; ".join(parts), first)
    if not units:
        raise FormatError(path, "only a header, no rows; add the coded units below it")
    return units


def _split_codes(
    value: str, separators: re.Pattern[str], known: set[str], names: Mapping[str, str]
) -> list[str]:
    """The codes in one cell: split at ``separators``; a part that is no code
    as a whole is split further at commas and bars (``funding, support``,
    ``funding|support``) when every piece of it is a code."""
    out: list[str] = []
    for given in separators.split(value):
        part = given.strip()
        if not part:
            continue
        if part not in known and part.casefold() not in names and re.search("[,|]", part):
            pieces = [p.strip() for p in re.split("[,|]", part) if p.strip()]
            if all(p in known or p.casefold() in names for p in pieces):
                out.extend(pieces)
                continue
        out.append(part)
    return out


def _unknown(unknown: Mapping[str, int], known: set[str], names: Mapping[str, str]) -> str:
    """Every unknown code (the first few, with their first line), each with
    the code it most likely means: a file is fixed in one go."""
    from difflib import get_close_matches

    # a label's words too: 'rahoitus' means "Toiminnan rahoitus" (funding)
    words: dict[str, set[str]] = {}
    for name, cid in names.items():
        for word in re.findall(r"\w{4,}", name):
            words.setdefault(word, set()).add(cid)
    by_word = {w: next(iter(ids)) for w, ids in words.items() if len(ids) == 1}
    parts = []
    for code, line in sorted(unknown.items(), key=lambda kv: kv[1])[:_SHOWN_UNKNOWN]:
        key = code.casefold()
        close = get_close_matches(key, [*known, *names], n=1, cutoff=0.75)
        if close:
            hint = f", did you mean {names.get(close[0], close[0])}?"
        else:
            near = get_close_matches(key, list(by_word), n=1, cutoff=0.8)
            hint = f", did you mean {by_word[near[0]]}?" if near else ""
        parts.append(f"{code!r} (line {line}{hint})")
    more = len(unknown) - _SHOWN_UNKNOWN
    listed = ", ".join(parts) + (f" and {more} more" if more > 0 else "")
    plural = "s" if len(unknown) > 1 else ""
    # "none" or "-" for a unit without a code: the cell is left empty
    empty = {"-", "none", "no code", "ei", "ei koodia", "n/a", "na", "0"}
    note = (
        "; a unit without a code has an empty codes cell"
        if any(code.strip().casefold() in empty for code in unknown)
        else ""
    )
    return f"unknown code{plural} {listed}; known: {', '.join(sorted(known))}{note}"


def read_coded_units(
    path: Path, leaves: Sequence[str], parents: Sequence[str]
) -> tuple[GoldUnit, ...]:
    """``read_gold`` for a codebook's coded units, parsed once per version of
    the file: checking the codebook and learning from it both need them."""
    return _read_gold_once(str(path), path.stat().st_mtime_ns, tuple(leaves), tuple(parents))


@lru_cache(maxsize=4)
def _read_gold_once(
    path: str, mtime_ns: int, leaves: tuple[str, ...], parents: tuple[str, ...]
) -> tuple[GoldUnit, ...]:
    return tuple(read_gold(path, leaves, parents=parents))
