"""Errors a researcher can act on.

Every failure that reaches the command line is a ``QualcodeError`` whose
message is one line: which file (and line or position) and what to do. The CLI
turns them into a red one-liner and a non-zero exit in one place.
"""

from __future__ import annotations

from pathlib import Path


class QualcodeError(Exception):
    """A problem with the user's input or project, explained in one line."""


class ProjectNotFound(QualcodeError):
    pass


class FormatError(QualcodeError):
    """A file that cannot be read, with where in it the problem is."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class NotFound(QualcodeError):
    """A session, speaker, code or segment named by the user does not exist."""


class UnitGone(QualcodeError):
    """A coding unit that was re-cut or removed after a command read it (a
    colleague re-imported or re-segmented its session meanwhile)."""

    def __init__(self, segment_id: int) -> None:
        self.segment_id = segment_id
        super().__init__(
            f"unit #{segment_id} is no longer current: its session was re-segmented or "
            "re-imported since it was read, so nothing was written to it"
        )


class AlreadyStored(QualcodeError):
    """The same work was stored by another process meanwhile (``name``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"already stored as session {name!r}")


def not_a_file(path: str | Path, folder_hint: str) -> FormatError:
    """Why ``path`` cannot be read as a file, in words a researcher can act
    on: a folder (``folder_hint`` says what to give instead), a link whose
    file is gone (a moved or unmounted disk), or nothing there."""
    path = Path(path)
    if path.is_dir():
        return FormatError(path, f"is a folder; {folder_hint}")
    if path.is_symlink():
        target = path.readlink()
        return FormatError(
            path, f"is a link to {target}, which is not there; reconnect its disk or fix the link"
        )
    return FormatError(path, "no such file; check the path")
