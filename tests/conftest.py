"""Shared fixtures: a fresh project on the shipped emessi codebook."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["review_helpers"]

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def emessi():
    """The shipped emessi codebook, loaded once (tests read it, never change it)."""
    from qualcode.codebook import load_codebook

    return load_codebook(Path(__file__).parent.parent / "codebooks" / "emessi.yaml")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture
def project(tmp_path: Path) -> Iterator:
    from qualcode.project import init_project

    p = init_project(tmp_path / "proj", codebook="emessi", language="fi")
    yield p
    p.close()


@pytest.fixture
def store(tmp_path: Path) -> Iterator:
    """A bare store that knows a few emessi codes: units and decisions without
    a project around them (segmenting, carrying coders' work)."""
    from qualcode.models import Code
    from qualcode.store import open_store

    s = open_store(tmp_path / "t.db")
    codes = ("volunteers", "funding", "prioritisation", "support")
    s.sync_codes([Code(id=c, label=c) for c in codes])
    yield s
    s.close()
