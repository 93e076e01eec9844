"""Crafted archives: zip-slip, absolute paths, symlinks, zip bombs."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from qualcode.errors import FormatError
from qualcode.exchange.safezip import ZipLimits, extract_all, open_archive


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def test_zip_slip_is_refused_and_nothing_written(tmp_path: Path) -> None:
    bad = _zip(tmp_path / "slip.qdpx", [("project.qde", b"<x/>"), ("../../evil.txt", b"pwned")])
    target = tmp_path / "out" / "inner"
    with pytest.raises(FormatError) as e:
        extract_all(bad, target)
    msg = str(e.value)
    assert "slip.qdpx" in msg and "escape" in msg and "\n" not in msg
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "out" / "evil.txt").exists()
    assert not target.exists()


@pytest.mark.parametrize("name", ["/etc/cron.d/evil", "C:/Windows/evil.txt", "sources\\..\\..\\x"])
def test_absolute_and_backslash_paths_refused(tmp_path: Path, name: str) -> None:
    bad = _zip(tmp_path / "abs.qdpx", [(name, b"x")])
    with pytest.raises(FormatError, match="refused"):
        open_archive(bad)


def test_symlink_entry_refused(tmp_path: Path) -> None:
    info = zipfile.ZipInfo("sources/link.txt")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = _zip(tmp_path / "link.qdpx", [(info, b"/etc/passwd")])
    with pytest.raises(FormatError, match="symbolic link"):
        open_archive(bad)


def test_zip_bomb_refused(tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "bomb.qdpx", [("sources/a.txt", b"\0" * (20 * 1024**2))])
    with pytest.raises(FormatError, match="zip bomb"):
        open_archive(bomb)
    with pytest.raises(FormatError, match="limit"):
        open_archive(bomb, ZipLimits(max_entry_bytes=1024, max_ratio=1e9))


def test_safe_archive_extracts_inside_target(tmp_path: Path) -> None:
    ok = _zip(tmp_path / "ok.qdpx", [("project.qde", b"<x/>"), ("sources/a.txt", b"hello")])
    written = extract_all(ok, tmp_path / "t")
    assert sorted(p.relative_to(tmp_path / "t").as_posix() for p in written) == [
        "project.qde",
        "sources/a.txt",
    ]
    assert (tmp_path / "t" / "sources" / "a.txt").read_text() == "hello"


def test_not_a_zip(tmp_path: Path) -> None:
    f = tmp_path / "x.qdpx"
    f.write_text("not a zip")
    with pytest.raises(FormatError, match="x.qdpx"):
        open_archive(f)
