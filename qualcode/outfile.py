"""Files written whole or not at all.

A report, export, chart or settings file cut off by a full disk or a kill
looks complete to the next program that opens it (Excel shows half the
rows, a colleague's NVivo imports half a project, qualcode reads a broken
qualcode.yaml). So every file qualcode writes for someone else is written
beside its target under a temporary name and renamed over it only when
complete; a failure removes the partial file and names the target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from qualcode.errors import QualcodeError


@contextmanager
def replacing(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same extension, so writers
    that go by it still work); when the block ends it replaces ``path``
    (the file a link points to, keeping its permissions). On an error the
    temporary file is removed; an ``OSError`` (disk full, no permission, no
    such folder) becomes a one-line error naming ``path``."""
    target = Path(path)
    try:
        # a link (a report linked into a shared folder) stays a link
        real = target.resolve() if target.is_symlink() else target
    except (OSError, RuntimeError) as e:  # a loop of links
        raise QualcodeError(f"{target}: a link that leads nowhere ({e}); give another name") from e
    if real.exists() and not real.is_file():
        # a device or a pipe (/dev/null, a fifo): written as it is, never replaced
        with _one_line_errors(target):
            yield real
        return
    tmp: Path | None = None
    try:
        with _one_line_errors(target):
            # a name of its own: two commands writing one file do not collide
            fd, name = tempfile.mkstemp(
                dir=real.parent, prefix=f".{real.stem}.", suffix=f".partial{real.suffix}"
            )
            os.close(fd)
            tmp = Path(name)
            yield tmp
            os.chmod(tmp, _mode(real))  # after writing: a read-only file is replaced too
            tmp.replace(real)
    except BaseException:
        _remove(tmp)
        raise


@contextmanager
def _one_line_errors(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as e:
        raise QualcodeError(
            f"{target}: cannot write the file there ({e.strerror or e}); check that its folder "
            "exists, is writable and has space"
        ) from e


def _mode(path: Path) -> int:
    """The permissions the file has, or a new file would get (mkstemp's are
    owner-only)."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _remove(tmp: Path | None) -> None:
    # its folder may be what failed (missing, a file, read-only)
    if tmp is not None:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    """``Path.write_text`` (UTF-8), whole or not at all."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
