"""The layering rules of docs/architecture.md that a test can check."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import qualcode

UI_FREE_EXCLUDED = ("qualcode.tui", "qualcode.cli.review")


def all_modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages(qualcode.__path__, "qualcode.")
        if not m.name.startswith(UI_FREE_EXCLUDED)
    ]
    assert "qualcode.review" in names and "qualcode.plain_review" in names
    return names


def loaded_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_core_never_imports_the_tui():
    modules = all_modules()
    loaded = loaded_after("\n".join(f"import {m}" for m in modules))
    assert set(modules) <= loaded
    assert "textual" not in loaded
    assert not [m for m in loaded if m.startswith("qualcode.tui")]


def test_cli_main_stays_light():
    loaded = loaded_after("import qualcode.cli.main")
    heavy = {"torch", "faster_whisper", "ctranslate2", "spacy", "sklearn", "textual"}
    assert not heavy & loaded, heavy & loaded


def test_tui_is_imported_only_by_the_review_command():
    import pathlib

    root = pathlib.Path(qualcode.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if any(
            f"{kw} qualcode.tui" in path.read_text(encoding="utf-8") for kw in ("import", "from")
        )
        and path.parent.name != "tui"
        and path.relative_to(root) != pathlib.Path("cli/review.py")
    ]
    assert offenders == []


def test_only_the_store_speaks_sql():
    """Teams will share a PostgreSQL database: no module outside
    qualcode/store/ may use the SQLite driver or write SQL."""
    from pathlib import Path

    root = Path(qualcode.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "store" not in path.relative_to(root).parts
        and (
            "sqlite3" in path.read_text(encoding="utf-8")
            or ".execute(" in path.read_text(encoding="utf-8")
        )
    ]
    assert offenders == []


def test_only_the_project_opens_the_store():
    """Where the database lives is the project's business (a shared server
    later): other modules ask ``Project.store`` or ``Project.connect()``."""
    from pathlib import Path

    root = Path(qualcode.__file__).parent
    offenders = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "store" not in path.relative_to(root).parts
        and path.name not in ("project.py", "evaluate.py")  # evaluate: its own scratch store
        and "open_store(" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []
