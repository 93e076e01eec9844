"""What a folder given to import or transcribe stands for."""

from __future__ import annotations

from pathlib import Path

from qualcode.inputs import files_in_folders


def test_a_folder_is_its_wanted_files_and_broken_links(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "b.wav").write_bytes(b"x")
    (folder / "a.wav").write_bytes(b"x")
    (folder / "notes.txt").write_text("not wanted", encoding="utf-8")
    (folder / "gone.wav").symlink_to(tmp_path / "unmounted" / "gone.wav")
    (folder / "sub.wav").mkdir()  # a folder, whatever its name
    empty = tmp_path / "empty"
    empty.mkdir()
    alone = tmp_path / "alone.wav"
    wanted = lambda p: p.suffix == ".wav"  # noqa: E731
    assert files_in_folders([folder, empty, alone], wanted) == [
        folder / "a.wav",
        folder / "b.wav",
        folder / "gone.wav",
        empty,
        alone,
    ]
