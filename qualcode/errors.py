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
