"""Finding, creating and configuring a project."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.errors import ProjectNotFound, QualcodeError
from qualcode.project import (
    CONFIG_NAME,
    DB_NAME,
    Project,
    ProjectConfig,
    find_project,
    init_project,
    resolve_codebook,
)


def test_init_creates_config_db_and_copies_codebook(tmp_path: Path) -> None:
    with init_project(tmp_path / "p", codebook="emessi", language="fi") as p:
        assert (tmp_path / "p" / CONFIG_NAME).is_file() and (tmp_path / "p" / DB_NAME).is_file()
        assert p.config.language == "fi" and p.config.name == "p"
        assert p.codebook_path == (tmp_path / "p" / "codebooks" / "emessi.yaml").resolve()
        ids = {c.id for c in p.store.codes()}
    assert {
        "prioritisation",
        "support",
        "work_sharing",
        "hr_management",
        "funding",
        "volunteers",
        "independent_work",
        "third_sector",
    } <= ids
    with pytest.raises(QualcodeError, match="already exists"):
        init_project(tmp_path / "p")


def test_project_is_found_upwards_like_git(tmp_path: Path, monkeypatch) -> None:
    init_project(tmp_path / "p").close()
    deep = tmp_path / "p" / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
    assert find_project(deep) == (tmp_path / "p").resolve()
    with pytest.raises(ProjectNotFound, match="qualcode init"):
        find_project(tmp_path)
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path / "p"))
    assert find_project(tmp_path) == tmp_path / "p"
    with pytest.raises(ProjectNotFound, match="not a qualcode project"):
        find_project(explicit=tmp_path / "nowhere")


def test_config_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text("name: x\ncolour: blue\n")
    with pytest.raises(QualcodeError, match=r"unknown setting\(s\) colour"):
        ProjectConfig.load(path)
    path.write_text("name: [unclosed\n")
    with pytest.raises(QualcodeError, match=rf"{CONFIG_NAME}:\d+: not valid YAML") as e:
        ProjectConfig.load(path)
    assert "\n" not in str(e.value) and "fix that line" in str(e.value)  # one line


def test_config_round_trips(tmp_path: Path) -> None:
    with init_project(tmp_path / "p", codebook="wellbeing") as p:
        p.config.lead_coder = "anna"
        p.save_config()
    again = Project(tmp_path / "p")
    assert again.config.lead_coder == "anna" and again.config.codebook == "codebooks/wellbeing.yaml"


def test_unknown_codebook_lists_shipped_ones(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(QualcodeError, match="emessi"):
        resolve_codebook("nosuchbook")
    # beside a project folder called emessi, "emessi" is still the shipped codebook
    monkeypatch.chdir(tmp_path)
    (tmp_path / "emessi").mkdir()
    (tmp_path / "notes").mkdir()
    assert resolve_codebook("emessi").name == "emessi.yaml"
    assert resolve_codebook("emessi").parent != tmp_path / "emessi"
    with pytest.raises(QualcodeError, match="notes: a folder, not a codebook"):
        resolve_codebook("notes")


def test_stage_options_from_config_name_unknown_keys() -> None:
    from qualcode.suggest.engine import SuggestOptions

    assert SuggestOptions.from_config({"retrain_every": 5}).retrain_every == 5
    with pytest.raises(QualcodeError, match="unknown suggest setting\\(s\\) colour"):
        SuggestOptions.from_config({"colour": "blue"})
