"""What a path given to ``import`` or ``transcribe`` stands for.

Both take files and folders: a folder is the files directly in it that the
command reads, in name order. A link whose file is gone is kept, so that
it fails aloud (a disk not mounted) instead of the folder silently holding
one file fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path


def files_in_folders(paths: Iterable[Path], wanted: Callable[[Path], bool]) -> list[Path]:
    """Each folder stands for the files in it that ``wanted`` accepts (and
    for links to such files that are gone); a folder holding none stands
    for itself, to be reported; any other path for itself."""
    out: list[Path] = []
    for path in paths:
        if not path.is_dir():
            out.append(path)
            continue
        found = [
            p
            for p in sorted(path.iterdir())
            if (p.is_file() or (p.is_symlink() and not p.exists())) and wanted(p)
        ]
        out.extend(found or [path])
    return out
