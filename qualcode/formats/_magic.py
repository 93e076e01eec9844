"""What a binary file saved under a text file's name really is.

People save a workbook as ``.csv``, a Word 97 document as ``.docx``, a PDF as
``.txt``. A decoder would only report an invalid byte; naming the kind from
the file's first bytes lets the error say what to do (save it as CSV UTF-8,
as .docx, export the text).
"""

from __future__ import annotations

_MAGIC = (
    (b"PK\x03\x04", "zip"),  # .docx, .xlsx, .qdpx
    (b"\xd0\xcf\x11\xe0", "ole"),  # Office 97-2003: .doc, .xls
    (b"%PDF", "pdf"),
)


def binary_kind(head: bytes) -> str | None:
    """``zip``, ``ole`` or ``pdf`` for a file that starts with ``head``, else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    return None
