"""The coding commands through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from qualcode.cli.main import app
from qualcode.models import Session, Transcript, Utterance

runner = CliRunner()
DATA = Path(__file__).parent / "data"


def _session(project) -> None:
    project.store.add_session(
        Session(name="s1", language="fi"),
        Transcript(
            [
                Utterance("Vapaaehtoisten kiittäminen jää usein. Se harmittaa.", "Aino", 0.0, 6.0),
                Utterance("Joo.", "Ville", 6.0, 6.5),
                Utterance("Avustus loppuu ensi vuonna.", "Ville", 6.5, 9.0),
            ]
        ),
    )


def _run(project, *args: str):
    return runner.invoke(app, [*args, "--project", str(project.root)])


def test_segment_and_suggest_json(project) -> None:
    _session(project)
    result = _run(project, "segment", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out[0]["session"] == "s1" and out[0]["units"] == 3 and out[0]["codable"] == 2
    # both codable units have a code at the threshold (volunteers, funding)
    assert (out[0]["suggested_units"], out[0]["suggested_codes"]) == (2, 2)
    assert out[0]["sentences"].startswith("spacy_fi_experimental_web_md ")
    again = json.loads(_run(project, "segment", "--no-suggest", "--json").output)
    assert again[0]["units"] == 3
    assert [again[0][k] for k in ("suggestions", "suggested_units", "suggested_codes")] == [
        None
    ] * 3

    result = _run(project, "suggest", "--session", "s1", "--top", "1", "--json")
    assert result.exit_code == 0, result.output
    units = json.loads(result.output)
    assert [u["text"] for u in units] == [
        "Vapaaehtoisten kiittäminen jää usein. Se harmittaa.",
        "Avustus loppuu ensi vuonna.",
    ]
    assert units[0]["suggestions"][0]["code"] == "volunteers"
    assert "vapaaehtoisten" in units[0]["suggestions"][0]["rationale"]
    assert units[1]["suggestions"][0]["code"] == "funding"
    assert all(len(u["suggestions"]) <= 1 for u in units)
    assert units[0]["start"] == 0.0 and units[0]["speaker"] == "Aino"

    plain = _run(project, "suggest")
    assert plain.exit_code == 0 and "volunteers" in plain.output and "matched:" in plain.output
    assert "2 units scored: 2 with a suggested code (2 codes scoring 0.5 or more" in plain.output
    # stored only: the counts, not every unit
    quiet = _run(project, "suggest", "--no-show", "--json")
    assert json.loads(quiet.output) == {
        "scored": 2,
        "suggested_units": 2,
        "suggested_codes": 2,
        "threshold": 0.5,
    }
    quiet = _run(project, "suggest", "--no-show")
    assert quiet.output.strip().splitlines() == [plain.output.strip().splitlines()[-1]]


def test_import_coded_train_and_evaluate(project, tmp_path: Path) -> None:
    coded = tmp_path / "coded.csv"
    lines = ["text,codes,session"]
    for i in range(4):
        lines.append(f"Vapaaehtoiset tulivat talkoisiin {i} kertaa.,volunteers,c")
        lines.append(f"Avustus riittää {i} kuukaudeksi.,funding,c")
        lines.append(f"Kahvi oli hyvää {i} kertaa.,,c")
    coded.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(project, "import-coded", str(coded), "--coder", "anna")
    assert result.exit_code == 0, result.output
    assert "12 coded units with 8 decisions" in result.output
    # the same coder's file again replaces, it does not invite a comparison
    again = _run(project, "import-coded", str(coded), "--coder", "anna")
    assert again.exit_code == 0, again.output
    assert "12 of these units were coded before by the same coder" in again.output
    assert "agree" not in again.output
    other = tmp_path / "other.csv"
    other.write_text("text,codes,session\nToinen teksti.,,c\n", encoding="utf-8")
    renamed = _run(project, "import-coded", str(other), "--coder", "anna")
    assert "session c already exists with other unit texts: these rows became session c-2" in (
        renamed.output
    )

    result = _run(project, "train", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["version"] == 1 and report["decisions"] == 8
    assert report["coded_units"] == 8147
    # codes nobody has said yes to yet: no precision or recall of 0 that means nothing
    assert report["codes"]["prioritisation"] == {
        "precision": None,
        "recall": None,
        "f1": None,
        "support": 0,
        "measured": False,
    }
    assert report["codes"]["volunteers"]["measured"] is True
    measured = [q for q in report["codes"].values() if q["measured"]]
    assert {"volunteers", "funding"} <= {
        c for c, q in report["codes"].items() if q["measured"]
    } and all(q["f1"] is not None for q in measured)
    text = _run(project, "train").output
    # the fit's time and the whole command's (cross-validation, scoring again)
    assert re.search(r"in \d+\.\d s \(\d+\.\d s with cross-validation and scoring", text)
    assert re.search(r"prioritisation\s+–\s+–\s+–\s+0\s+\(too few 'yes' decisions", text)
    assert re.search(r"volunteers\s+\d\.\d{3}\s+\d\.\d{3}", text)

    result = _run(
        project, "evaluate", str(DATA / "emessi-eval.csv"), "--train-fraction", "0.25", "--json"
    )
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert 0.0 < scores["micro_f1"] <= 1.0 and scores["n_train"] == 57
    fields = {"precision", "recall", "f1", "kappa", "support", "predicted"}
    assert set(scores["codes"]["volunteers"]) == fields
    plain = _run(project, "evaluate", str(DATA / "emessi-holdout.csv"))
    assert plain.exit_code == 0 and "micro-F1" in plain.output
    shipped = _run(project, "evaluate", str(DATA / "emessi-holdout.csv"), "--json")
    lexical = _run(
        project,
        "evaluate",
        str(DATA / "emessi-holdout.csv"),
        "--without-coded-units",
        "--json",
    )
    with_units = json.loads(shipped.output)["micro_f1"]
    assert with_units > json.loads(lexical.output)["micro_f1"] and with_units >= 0.77


def test_errors_are_one_line(project, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("text,codes\nHei,nonexistent\n", encoding="utf-8")
    result = _run(project, "evaluate", str(bad))
    assert result.exit_code == 1
    assert "bad.csv:2: unknown code 'nonexistent'" in result.output
    result = _run(project, "evaluate", str(bad), "--train-fraction", "1.5")
    assert result.exit_code == 1 and "--train-fraction" in result.output
    result = _run(project, "suggest", "--session", "nope")
    assert result.exit_code == 1 and "no session named 'nope'" in result.output


def test_two_coders_files_imported_then_compared(project) -> None:
    first = _run(project, "import-coded", str(DATA / "emessi-holdout5.csv"), "--coder", "writer")
    assert first.exit_code == 0 and "new sessions" in first.output, first.output
    second = DATA / "second-coder" / "emessi-holdout5.csv"
    result = _run(project, "import-coded", str(second), "--coder", "second")
    assert result.exit_code == 0, result.output
    assert "new sessions" not in result.output and "qualcode agree" in result.output
    agree = _run(project, "agree", "--coders", "writer", "second", "--json")
    assert agree.exit_code == 0, agree.output
    data = json.loads(agree.output)
    assert data["units"] == 240 and 0.0 < data["kappa"] < 1.0


def test_suggest_in_an_empty_project_says_what_to_do(project) -> None:
    result = _run(project, "suggest")
    assert result.exit_code == 1
    assert "no sessions; add some with `qualcode import FILE`" in result.output


def test_segment_leaves_a_coders_imported_passages_as_they_are(project, tmp_path) -> None:
    """Units from a coded CSV (or a .qdpx's selections) are a coder's
    passages: cut by sentences, their coding would drop out of the counts."""
    coded = tmp_path / "coded.csv"
    coded.write_text(
        "session,speaker,text,codes\n"
        "old1,Aino,Avustus loppuu. Kukaan ei tiedä. Mitä sitten? Hallitus miettii. Ehkä.,funding\n"
        "old1,Ville,Vapaaehtoiset väsyy. Uusia ei löydy. Kuka auttaa? Ei kukaan.,volunteers\n",
        encoding="utf-8",
    )
    assert _run(project, "import-coded", str(coded), "--coder", "anna").exit_code == 0
    before = {(d.segment_id, d.code_id) for d in project.store.decisions()}
    result = _run(project, "segment", "--json")
    assert result.exit_code == 0, result.output
    [out] = json.loads(result.output)
    assert (out["session"], out["recut"], out["units"]) == ("old1", False, 2)
    assert {(d.segment_id, d.code_id) for d in project.store.decisions()} == before
    assert all(project.store.is_current(seg) for seg, _ in before)
    assert "kept as imported" in _run(project, "segment").output


def test_segment_cuts_a_qdpx_source_nobody_coded(project, tmp_path) -> None:
    _session(project)
    out = tmp_path / "uncoded.qdpx"
    assert _run(project, "export", "qdpx", str(out)).exit_code == 0
    from qualcode.project import init_project

    other = init_project(tmp_path / "other", codebook="emessi", language="fi")
    r = runner.invoke(app, ["import", str(out), "--project", str(other.root)])
    assert r.exit_code == 0, r.output
    [s] = other.store.sessions()
    assert not other.store.has_units(s.id)
    result = runner.invoke(app, ["segment", "--json", "--no-suggest", "--project", str(other.root)])
    [item] = json.loads(result.output)
    assert item["recut"] is True and item["codable"] == 2
    other.close()


def test_train_shows_a_dash_where_its_json_has_null() -> None:
    """A measured code the model never suggested has no precision: the text
    printed 0.000 where the JSON has null."""
    from qualcode.cli.coding import _quality_json
    from qualcode.suggest.workflow import CodeQuality

    never = CodeQuality(0.0, 0.0, 0.0, support=3, n_positive=3, n_negative=147, n_predicted=0)
    assert _quality_json(never) == {
        "precision": None,
        "recall": 0.0,
        "f1": 0.0,
        "support": 3,
        "measured": True,
    }
    few = CodeQuality(1.0, 1.0, 1.0, support=1, n_positive=1, n_negative=11, n_predicted=1)
    assert _quality_json(few)["f1"] is None and not few.measured
