"""Output files are written whole or not at all."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.errors import QualcodeError
from qualcode.outfile import replacing, write_text


def test_a_finished_file_replaces_the_old_one(tmp_path: Path) -> None:
    out = tmp_path / "counts.csv"
    out.write_text("old", encoding="utf-8")
    write_text(out, "new")
    assert out.read_text(encoding="utf-8") == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["counts.csv"]


def test_a_full_disk_leaves_the_old_file_and_no_partial_one(tmp_path: Path) -> None:
    out = tmp_path / "units.xlsx"
    out.write_text("yesterday's export", encoding="utf-8")
    with pytest.raises(QualcodeError) as e, replacing(out) as tmp:
        assert tmp.suffix == ".xlsx" and tmp.parent == tmp_path
        tmp.write_text("half of it", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert str(e.value).startswith(f"{out}: cannot write the file there (No space left on device)")
    assert out.read_text(encoding="utf-8") == "yesterday's export"
    assert [p.name for p in tmp_path.iterdir()] == ["units.xlsx"]


def test_an_interrupt_leaves_no_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    with pytest.raises(KeyboardInterrupt), replacing(out) as tmp:
        tmp.write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_cli_exports_into_a_missing_folder_name_the_file(tmp_path: Path) -> None:
    from qualcode.cli.main import app
    from qualcode.project import init_project

    init_project(tmp_path / "p", codebook="emessi").close()
    out = tmp_path / "no-such-folder" / "units.csv"
    r = CliRunner().invoke(
        app, ["export", "units", "--out", str(out), "--project", str(tmp_path / "p")]
    )
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert f"{out}: cannot write the file there" in r.output.replace("\n", "")


def test_a_link_stays_a_link_and_permissions_stay(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "report.md"
    real.write_text("old", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "report.md"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"
    assert real.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in shared.iterdir()) == ["report.md"]


def test_odd_targets_loop_device_and_read_only(tmp_path: Path) -> None:
    loop = tmp_path / "a.csv"
    loop.symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(loop)
    with pytest.raises(QualcodeError, match=r"a.csv: a link that leads nowhere"):
        write_text(loop, "x")
    write_text("/dev/null", "thrown away")  # a device is written to, never replaced
    assert Path("/dev/null").is_char_device()
    locked = tmp_path / "locked.csv"
    locked.write_text("old", encoding="utf-8")
    locked.chmod(0o444)
    write_text(locked, "new")
    assert locked.read_text(encoding="utf-8") == "new" and locked.stat().st_mode & 0o777 == 0o444
