"""Reading a ``.qdpx`` safely: it is a zip archive from someone else.

A crafted archive can name entries ``../../.bashrc`` or ``/etc/passwd``
(zip-slip), hide symlinks, or expand to gigabytes from a few kilobytes (a zip
bomb). Every entry is checked before anything is read or written, and the
whole archive is refused at the first bad entry, so nothing half-extracted is
left behind.
"""

from __future__ import annotations

import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qualcode.errors import FormatError


@dataclass
class ZipLimits:
    """Limits on what an archive may contain.

    max_entries: number of entries.
    max_entry_bytes: uncompressed size of one entry (media can be large).
    max_total_bytes: uncompressed size of all entries together.
    max_ratio: uncompressed/compressed size of one entry above 1 MiB; text
        compresses about 10:1, zip bombs 1000:1 and more.
    """

    max_entries: int = 100_000
    max_entry_bytes: int = 4 * 1024**3
    max_total_bytes: int = 16 * 1024**3
    max_ratio: float = 200.0


def _bad(path: Path, name: str, why: str) -> FormatError:
    return FormatError(path, f"refused: archive entry {name!r} {why}; the file may be malicious")


def check_archive(zf: zipfile.ZipFile, path: Path, limits: ZipLimits | None = None) -> None:
    """Raise ``FormatError`` at the first entry that could escape the target
    folder (absolute path, drive letter, ``..``), is a symlink, or breaks a
    size limit."""
    limits = limits or ZipLimits()
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise FormatError(path, f"refused: {len(infos)} entries (limit {limits.max_entries})")
    total = 0
    for info in infos:
        name = info.filename
        posix = name.replace("\\", "/")
        parts = PurePosixPath(posix).parts
        if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
            raise _bad(path, name, "has an absolute path")
        if ".." in parts:
            raise _bad(path, name, "would escape the target folder (..)")
        if "\x00" in name:
            raise _bad(path, name, "has a NUL byte in its name")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise _bad(path, name, "is a symbolic link")
        if info.file_size > limits.max_entry_bytes:
            raise _bad(path, name, f"is {info.file_size} bytes (limit {limits.max_entry_bytes})")
        if info.file_size > 1024**2 and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise _bad(path, name, "expands more than a real file would (zip bomb?)")
        total += info.file_size
        if total > limits.max_total_bytes:
            raise FormatError(path, f"refused: expands to over {limits.max_total_bytes} bytes")


def open_archive(path: str | Path, limits: ZipLimits | None = None) -> zipfile.ZipFile:
    """Open and check an archive; raise ``FormatError`` if it is not a zip or
    not safe."""
    path = Path(path)
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise FormatError(
            path,
            f"not a readable .qdpx (zip) archive ({e}); export the project again from the "
            "other program (a copy may have been cut short)",
        ) from e
    try:
        check_archive(zf, path, limits)
    except BaseException:
        zf.close()
        raise
    return zf


def read_entry(zf: zipfile.ZipFile, path: Path, name: str, limit: int | None = None) -> bytes:
    """Read one entry, never more than its checked size (a lying header must
    not let it grow)."""
    info = zf.getinfo(name)
    cap = info.file_size if limit is None else min(limit, info.file_size)
    with zf.open(info) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise _bad(path, name, "is larger than its header says")
    return data


def find_entry(zf: zipfile.ZipFile, name: str) -> str | None:
    """The archive's name for ``name``, ignoring case and ``\\`` vs ``/``:
    MAXQDA writes ``sources/``, NVivo ``Sources/``, the standard says
    ``sources``."""
    wanted = name.replace("\\", "/").lower()
    for entry in zf.namelist():
        if entry.replace("\\", "/").lower() == wanted:
            return entry
    return None


def extract_all(
    path: str | Path, target: str | Path, limits: ZipLimits | None = None
) -> list[Path]:
    """Extract a checked archive under ``target``; every written path is
    verified to stay inside it."""
    path, target = Path(path), Path(target).resolve()
    out = []
    with open_archive(path, limits) as zf:
        for info in zf.infolist():
            dest = (target / info.filename.replace("\\", "/")).resolve()
            if not dest.is_relative_to(target):
                raise _bad(path, info.filename, "would escape the target folder")
            if info.is_dir():
                dest.mkdir(parents=True, exist_ok=True)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(read_entry(zf, path, info.filename))
            out.append(dest)
    return out
