"""REFI-QDA (QDA-XML 1.0) exchange with NVivo, ATLAS.ti, MAXQDA and
QualCoder: project import/export (``.qdpx``) and codebook export/import
(``.qdc``). See ``docs/exchange.md``."""

from __future__ import annotations

from qualcode.exchange.codebook_read import import_codebook
from qualcode.exchange.qdpx_read import ImportOptions, QdpxImport, import_qdpx
from qualcode.exchange.qdpx_write import ExportOptions, export_codebook_qdc, export_qdpx

__all__ = [
    "ExportOptions",
    "ImportOptions",
    "QdpxImport",
    "export_codebook_qdc",
    "export_qdpx",
    "import_codebook",
    "import_qdpx",
]
