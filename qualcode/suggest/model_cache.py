"""The codebook-only model, kept on disk between commands and projects.

Fitting the suggester on a codebook and its coded units takes seconds (the
emessi codebook's 8,147 coded units: about 8 s on two cores), and every new
project's first ``suggest``, every ``evaluate`` from the codebook alone and
every demo did it again for the same codebook. What comes out depends only
on the codebook's codes and coded units (the fingerprint), the suggest
options, the code that fits it and the libraries it uses, so a file named by
all of those is reused wherever they are the same. A project's own trained
model lives in its store, never here.

It is only a cache: a missing, damaged or unwritable file costs the fit,
never a result. It lives beside the word cache (``$QUALCODE_CACHE`` or
``~/.cache/qualcode``), which is the user's own: loading a pickle from it
trusts no one else.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from qualcode.suggest.text import lemma_cache_path, write_cache_file

if TYPE_CHECKING:
    from qualcode.suggest.engine import Suggester

# a model is tens of MB: keep the few codebooks (or versions of one) in use
KEEP = 4
_PREFIX = "codebook-model-"
# what the fitted model's content depends on besides this package's source
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "simplemma", "snowballstemmer")


@lru_cache(maxsize=1)
def _code_version() -> str:
    """This package's source and its libraries' versions: a change to either
    may change what a fit returns (or what a pickle means)."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    for dist in _LIBRARIES:
        try:
            digest.update(f"{dist}={version(dist)}".encode())
        except PackageNotFoundError:
            digest.update(f"{dist}=none".encode())
    return digest.hexdigest()


def model_path(fingerprint: str, options: str) -> Path:
    """The file for a codebook model with this fingerprint and options."""
    key = hashlib.sha256(f"{fingerprint}\0{options}\0{_code_version()}".encode()).hexdigest()
    return lemma_cache_path().parent / f"{_PREFIX}{key[:24]}.pickle"


def load(fingerprint: str, options: str) -> Suggester | None:
    """The cached model, or None when there is none or it cannot be read."""
    path = model_path(fingerprint, options)
    try:
        with path.open("rb") as f:
            model = pickle.load(f)
    except Exception:  # missing, cut short, or from an incompatible library
        return None
    if getattr(model, "fingerprint_", None) != fingerprint:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return model  # type: ignore[no-any-return]


def save(model: Suggester, options: str) -> None:
    """Keep ``model`` for the next command (written whole, then renamed, so a
    process reading it never sees half a file); drop the least recently used
    beyond ``KEEP``."""
    path = model_path(model.fingerprint_, options)
    if write_cache_file(path, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)):
        _prune(path.parent)


def _prune(folder: Path) -> None:
    def used(p: Path) -> float:
        try:
            return p.stat().st_mtime
        except OSError:
            return 0.0

    models = sorted(folder.glob(f"{_PREFIX}*.pickle"), key=used, reverse=True)
    for old in models[KEEP:]:
        old.unlink(missing_ok=True)
