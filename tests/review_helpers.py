"""A small real project for the review tests: the two example sessions
imported, segmented and suggested by the real pipeline. Its fixtures
(``template``, ``proj``) are registered for all tests by ``conftest.py``; a
test module's own ``proj`` fixture takes precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data" / "review"


def make_review_project(root: Path):
    from qualcode.importer import import_files
    from qualcode.project import init_project
    from qualcode.suggest import suggest_segments

    p = init_project(root, codebook="emessi", language="auto")
    p.config.coder = "anna"
    p.save_config()
    results = list(
        import_files(p, [DATA / "emessi-fi-session1.txt", DATA / "emessi-en-session1.vtt"])
    )
    assert all(r.error is None for r in results if hasattr(r, "error")), results
    suggest_segments(p.store, p)
    return p


def copy_project(template: Path, dest: Path):
    """A fresh copy of a template project (building one takes seconds)."""
    import shutil

    from qualcode.project import Project

    shutil.copytree(template, dest)
    return Project(dest)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    root = tmp_path_factory.mktemp("tpl") / "proj"
    make_review_project(root).close()
    return root


@pytest.fixture
def proj(template, tmp_path):
    p = copy_project(template, tmp_path / "proj")
    yield p
    p.close()
