"""`qualcode codebook validate | show | use` through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from qualcode.cli.main import app
from qualcode.models import Decision, Segment, Session, Transcript, Utterance
from qualcode.project import Project

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
EMESSI = ROOT / "codebooks" / "emessi.yaml"
WELLBEING = ROOT / "codebooks" / "wellbeing.yaml"
BAD = Path(__file__).parent / "data" / "codebooks"


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    result = runner.invoke(app, ["init", str(root), "--codebook", "emessi", "--language", "fi"])
    assert result.exit_code == 0, result.output
    return root


def test_validate_ok() -> None:
    result = runner.invoke(app, ["codebook", "validate", str(EMESSI)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 8 codes")


def test_validate_lists_every_problem_and_fails() -> None:
    path = BAD / "many_problems.yaml"
    result = runner.invoke(app, ["codebook", "validate", str(path)])
    assert result.exit_code == 1
    lines = [x for x in result.output.splitlines() if x.startswith(str(path))]
    assert [int(x.split(":")[1]) for x in lines] == [5, 7, 8, 9, 10, 12]


def test_validate_batch_keeps_going() -> None:
    result = runner.invoke(
        app, ["codebook", "validate", str(BAD / "bad_color.yaml"), str(WELLBEING)]
    )
    assert result.exit_code == 1
    assert "OK: 4 codes" in result.output
    assert f"{BAD / 'bad_color.yaml'}:7:" in result.output
    assert "1 of 2 codebooks have problems" in result.output


def test_show_project_tree(proj: Path) -> None:
    result = runner.invoke(app, ["codebook", "show", "--project", str(proj)])
    assert result.exit_code == 0, result.output
    # the project language is fi, so Finnish labels
    assert "Priorisointi (prioritisation)" in result.output
    assert "Vapaaehtoisten kanssa toimiminen (volunteers)" in result.output
    result = runner.invoke(app, ["codebook", "show", "--project", str(proj), "--lang", "en"])
    assert "Working with volunteers (volunteers)" in result.output
    assert "keywords" in result.output and "examples" in result.output
    result = runner.invoke(app, ["codebook", "show", "--project", str(proj), "--lang", "EN"])
    assert "Working with volunteers (volunteers)" in result.output
    result = runner.invoke(app, ["codebook", "show", "--project", str(proj), "--lang", "sv"])
    assert result.exit_code == 1 and "--lang sv: the codebook has labels in fi, en" in result.output


def test_show_file_without_project(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
    result = runner.invoke(app, ["codebook", "show", str(WELLBEING), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["name"] == "wellbeing"
    assert [c["id"] for c in data["codes"]] == [
        "competence",
        "structure",
        "health_and_coping",
        "work_community",
    ]
    assert data["inactive"] == [] and data["coded_units"] is None
    shutil.copy(WELLBEING, tmp_path / "wb.yaml")
    relative = runner.invoke(app, ["codebook", "show", "wb.yaml", "--json"])
    assert json.loads(relative.output)["path"] == str((tmp_path / "wb.yaml").resolve())


def test_show_json_shape(proj: Path) -> None:
    result = runner.invoke(app, ["codebook", "show", "--project", str(proj), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) == {
        "name",
        "version",
        "languages",
        "path",
        "description",
        "coded_units",
        "codes",
        "inactive",
    }
    assert data["version"] == "1" and data["languages"] == ["fi", "en"]
    assert data["coded_units"].endswith("codebooks/emessi-coded.csv")
    parent = data["codes"][0]
    assert set(parent) == {
        "id",
        "parent_id",
        "label",
        "description",
        "color",
        "keywords",
        "examples",
        "children",
    }
    assert parent["id"] == "independent_work" and parent["parent_id"] is None
    leaf = parent["children"][0]
    assert leaf["id"] == "prioritisation" and leaf["parent_id"] == "independent_work"
    assert leaf["label"] == {"fi": "Priorisointi", "en": "Prioritisation"}
    assert "priorisoi*" in leaf["keywords"]["fi"]
    assert leaf["children"] == []


def test_show_without_project_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QUALCODE_PROJECT", raising=False)
    result = runner.invoke(app, ["codebook", "show"])
    assert result.exit_code == 1
    assert "qualcode init" in result.output


def test_use_reports_and_keeps_decisions(proj: Path, tmp_path: Path) -> None:
    with Project(proj) as p:
        sid = p.store.add_session(
            Session(name="s1"), Transcript([Utterance("Rahoitus loppuu.", speaker="Aino")])
        )
        text = "Aino: Rahoitus loppuu."
        [seg] = p.store.replace_segments(
            sid, [Segment(session_id=sid, seq=0, text=text, char_start=0, char_end=len(text))]
        )
        p.store.record_decision(
            Decision(segment_id=seg, code_id="funding", coder="aino", verdict="added")
        )
    data = yaml.safe_load(EMESSI.read_text(encoding="utf-8"))
    data["version"] = 2
    data["codes"][1]["children"][0]["id"] = "grants"  # funding renamed, same labels
    del data["coded_units"]  # coded with the old ids; a new version goes without
    new = tmp_path / "new" / "emessi.yaml"
    new.parent.mkdir()
    new.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    dry = runner.invoke(
        app, ["codebook", "use", str(new), "--dry-run", "--json", "--project", str(proj)]
    )
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["applied"] is False

    result = runner.invoke(app, ["codebook", "use", str(new), "--project", str(proj)])
    assert result.exit_code == 0, result.output
    assert "Now using codebook emessi version 2" in result.output
    assert "Added: grants" in result.output
    assert "Removed: funding (1 decision)" in result.output
    assert "Decisions on removed codes are kept" in result.output
    assert "Likely renamed: funding -> grants" in result.output
    with Project(proj) as p:
        assert [(d.code_id, d.coder) for d in p.store.decisions()] == [("funding", "aino")]

    shown = runner.invoke(app, ["codebook", "show", "--project", str(proj), "--json"])
    inactive = json.loads(shown.output)["inactive"]
    assert inactive == [
        {"id": "funding", "label": {"fi": "Toiminnan rahoitus", "en": "Funding"}, "decisions": 1}
    ]
    tree = runner.invoke(app, ["codebook", "show", "--project", str(proj)])
    assert "Toiminnan rahoitus (funding) · 1 decision\n" in tree.output

    # it was a rename: the researcher moves the decisions
    assert "qualcode codebook merge funding grants" in result.output
    args = ["codebook", "merge", "funding", "grants", "--project", str(proj)]
    dry = runner.invoke(app, [*args, "--dry-run"])
    assert dry.exit_code == 0 and "Would move 1 decision from funding to grants." in dry.output
    with Project(proj) as p:
        assert [d.code_id for d in p.store.decisions()] == ["funding"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0 and "Moved 1 decision from funding to grants." in done.output
    with Project(proj) as p:
        assert [(d.code_id, d.coder, d.verdict) for d in p.store.decisions()] == [
            ("grants", "aino", "added")
        ]
    refused = runner.invoke(app, ["codebook", "merge", "grants", "support", "--project", str(proj)])
    assert refused.exit_code == 1 and "'grants' is still in the codebook" in refused.output
    refused = runner.invoke(app, ["codebook", "merge", "nosuch", "grants", "--project", str(proj)])
    assert refused.exit_code == 1 and "no code 'nosuch'" in refused.output


def test_use_invalid_codebook_fails_with_line(proj: Path) -> None:
    result = runner.invoke(
        app, ["codebook", "use", str(BAD / "duplicate_id.yaml"), "--project", str(proj)]
    )
    assert result.exit_code == 1
    assert f"{BAD / 'duplicate_id.yaml'}:10:" in result.output


def test_a_change_reads_as_sentences() -> None:
    from qualcode.cli.codebook import describe_change
    from qualcode.codebook_change import CodebookChange

    change = CodebookChange(
        "emessi",
        "2",
        "codebooks/emessi.yaml",
        relabelled={"funding": {"en": [None, "Funding"], "fi": ["Rahoitus", None]}},
        removed={"support": 1, "volunteers": 0},
    )
    text = "\n".join(describe_change(change))
    assert "Relabelled funding: en label added 'Funding'; fi label removed (was 'Rahoitus')" in text
    assert "Removed: support (1 decision), volunteers (0 decisions)" in text
    assert "None" not in text


def test_a_codebook_edited_in_place_is_applied_with_use_not_mistaken_for_damage(
    proj: Path,
) -> None:
    """A researcher renames a code id in the project's YAML (and its coded
    units) by hand: suggest says to apply the change, nothing is written, and
    `codebook use` of the same file makes it the project's codebook."""
    from qualcode.codebook_change import check_in_use
    from qualcode.project import Project

    for name in ("emessi.yaml", "emessi-coded.csv"):
        path = proj / "codebooks" / name
        path.write_text(
            path.read_text(encoding="utf-8").replace("hr_management", "staff_management"),
            encoding="utf-8",
        )
    p = Project(proj)
    try:
        s = p.store.add_session(
            Session(name="s1"), Transcript(utterances=[Utterance(text="Palkkaus on vaikeaa.")])
        )
        [unit] = p.store.replace_segments(s, [Segment(s, 0, "Palkkaus on vaikeaa.", 0, 20)])
        p.store.record_decisions([Decision(unit, "hr_management", "anna", "added")])
    finally:
        p.close()
    result = runner.invoke(app, ["suggest", "--project", str(proj)])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "codebooks/emessi.yaml: its codes changed since the project started using it" in message
    assert "new: staff_management; not in the file: hr_management (1 decision)" in message
    # a path that works from any folder (a relative one failed with -P)
    assert f"qualcode codebook use {(proj / 'codebooks' / 'emessi.yaml').resolve()}" in message
    assert "damaged" not in message
    result = runner.invoke(
        app, ["codebook", "use", str(proj / "codebooks" / "emessi.yaml"), "--project", str(proj)]
    )
    assert result.exit_code == 0, result.output
    p = Project(proj)
    try:
        from qualcode.codebook import project_codebook

        check_in_use(p, project_codebook(p))  # in step now
        assert [d.code_id for d in p.store.decisions()] == ["hr_management"]  # kept, inactive
    finally:
        p.close()


def test_codes_a_qdpx_brought_point_to_codebook_import(tmp_path):
    """After importing an NVivo project into a project with the emessi
    codebook, review and suggest listed 152 imported codes as "gone"."""
    proj = tmp_path / "p"
    assert runner.invoke(app, ["init", str(proj)]).exit_code == 0
    nvivo = Path(__file__).parent / "data" / "refi-qda" / "nvivo-12-oltas.qdpx"
    assert runner.invoke(app, ["import", str(nvivo), "--project", str(proj)]).exit_code == 0
    result = runner.invoke(app, ["suggest", "--project", str(proj)])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert "the project has codes that are not in its codebook file" in message
    assert "and 144 more" in message and "gone" not in message
    assert f"qualcode codebook import {nvivo}" in message
