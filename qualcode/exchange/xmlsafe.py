"""Parsing QDA-XML from other people's files safely and checking it against
the official schema.

XML from outside may declare external entities (``<!ENTITY x SYSTEM
"file:///etc/passwd">``) that read local files or the network, or nest
entities into a "billion laughs" memory bomb. ``defusedxml`` refuses DTDs and
entities outright; a REFI-QDA file never needs them. Validation uses the
schema copies packaged in ``qualcode/schemas`` so nothing is fetched: with
libxml2 (``lxml``, which python-docx already brings) when it is there, as it
validates a 200-session export in a fraction of a second where the
pure-Python ``xmlschema`` takes tens of seconds; ``xmlschema`` otherwise.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from qualcode.errors import FormatError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def parse_xml(data: bytes, path: str | Path) -> Element:
    """Parse with DTDs and entities forbidden; one-line ``FormatError`` on
    any problem."""
    import defusedxml
    from defusedxml import ElementTree as SafeET

    try:
        return SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as e:
        raise FormatError(
            path,
            f"refused: the XML declares a DTD or entities ({type(e).__name__}); "
            "REFI-QDA files never need them and they can read local files",
        ) from e
    except Exception as e:  # ParseError and friends
        position = getattr(e, "position", None)
        line = position[0] if position else None
        # expat says "not well-formed (invalid token): line 1, column 0"
        reason = str(e).split(":")[0].removeprefix("not well-formed").strip(" ()") or str(e)
        raise FormatError(
            path,
            f"not well-formed XML ({reason}); export the file again from the program "
            "that made it (a copy may have been cut short or edited by hand)",
            line,
        ) from e


@cache
def _schema(name: str) -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMA_DIR / name))


def validate(root: Element, path: str | Path, kind: str = "project") -> None:
    """Raise ``FormatError`` naming the first schema violation. ``kind`` is
    ``project`` (Project.xsd) or ``codebook`` (Codebook.xsd)."""
    schema = _schema("Project.xsd" if kind == "project" else "Codebook.xsd")
    for error in schema.iter_errors(root):
        where = f" at {error.path}" if getattr(error, "path", None) else ""
        raise _schema_error(path, kind, f"{error.reason or error.message}{where}")


@cache
def _lxml_schema(name: str) -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name)))


def _schema_error(path: str | Path, kind: str, reason: str, line: int | None = None) -> FormatError:
    return FormatError(
        path,
        f"does not match the REFI-QDA {kind} schema (QDA-XML 1.0): {' '.join(reason.split())}; "
        "export it again from the other tool as REFI-QDA 1.0",
        line,
    )


def validate_fast(data: bytes, path: str | Path, kind: str = "project") -> None:
    """Validate XML bytes that passed ``parse_xml`` (or that qualcode wrote):
    libxml2 when available, else ``xmlschema``."""
    try:
        from lxml import etree
    except ImportError:
        validate(parse_xml(data, path), path, kind)
        return
    schema = _lxml_schema("Project.xsd" if kind == "project" else "Codebook.xsd")
    # entities and DTDs are refused by parse_xml before untrusted bytes get here;
    # this parser would not expand or fetch them anyway
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        doc = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise FormatError(path, f"not well-formed XML ({e.msg})", e.lineno) from e
    if not schema.validate(doc):
        err = schema.error_log[0]
        raise _schema_error(path, kind, err.message, err.line)


def validate_bytes(data: bytes, path: str | Path, kind: str = "project") -> Element:
    """Parse untrusted bytes safely and validate them; the parsed tree."""
    root = parse_xml(data, path)
    validate_fast(data, path, kind)
    return root
