"""`qualcode review` through the command line (the --plain mode, fed input)."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from qualcode.cli.main import app

runner = CliRunner()


def review(proj, *args: str, input: str):
    return runner.invoke(app, ["review", "--plain", "-P", str(proj.root), *args], input=input)


def test_review_plain_saves_and_resumes(proj):
    result = review(proj, "--order", "chronological", input="a\na\nq\n")
    assert result.exit_code == 0, result.output
    # the coder comes from qualcode.yaml
    assert "Reviewing as anna" in result.output
    assert "anna: 2/" in result.output
    assert len(proj.store.review_statuses("anna")) == 2
    again = review(proj, "--order", "chronological", input="q\n")
    assert "Reviewed 2 of" in again.output
    other = review(proj, "--coder", "ben", input="q\n")
    assert "Reviewing as ben" in other.output and "Reviewed 0 of" in other.output
    # the resume hint reopens the same coder's review, not the default coder's
    assert "Resume with `qualcode review --coder ben --plain`" in other.output
    assert "Resume with `qualcode review --order chronological --plain`" in again.output
    everything = review(proj, "--all", input="q\n")
    assert "Resume with `qualcode review --all --plain`" in everything.output


def test_a_coder_spelt_otherwise_or_blank_is_refused(proj):
    """Amy beside amy would be two coders (half the counts, agreement with
    herself); a blank --coder saved reviews under the name '  '."""
    first = review(proj, "--coder", "amy", "--order", "chronological", input="a\nq\n")
    assert first.exit_code == 0, first.output
    for name, message in (
        ("Amy", "coder 'Amy' is spelt 'amy' in this project"),
        ("  ", "--coder is blank"),
        ("", "--coder is blank"),
    ):
        result = review(proj, "--coder", name, input="a\nq\n")
        assert result.exit_code == 1 and message in result.output, (name, result.output)
    assert proj.store.reviewers() == ["amy"] and proj.store.coders() in ([], ["amy"])
    # one name typed composed on one machine and decomposed on another (a Mac)
    import unicodedata

    for form in ("NFC", "NFD"):
        name = unicodedata.normalize(form, "Päivi")
        result = review(proj, "--coder", name, "--order", "chronological", input="a\nq\n")
        assert result.exit_code == 0, result.output
    assert set(proj.store.reviewers()) == {"amy", unicodedata.normalize("NFC", "Päivi")}
    # a blank coder: in qualcode.yaml
    with proj.config_path.open("a", encoding="utf-8") as f:
        f.write('coder: " "\n')
    blank = review(proj, input="q\n")
    assert blank.exit_code == 1 and re.search(r"qualcode.yaml:\d+: coder: is blank", blank.output)


def test_review_filters(proj):
    session = proj.store.sessions()[1].name
    result = review(proj, "--session", session, "--code", "funding", input="q\n")
    assert result.exit_code == 0, result.output
    assert session in result.output
    # progress counts the session reviewed, not the whole project
    n = len(proj.store.segments(proj.store.get_session(session).id, codable_only=True))
    assert f"0/{n} units reviewed" in result.output
    bad = review(proj, "--code", "nope", input="q\n")
    assert bad.exit_code == 1 and "unknown code 'nope'" in bad.output
    order = review(proj, "--order", "random", input="q\n")
    assert order.exit_code == 1 and "uncertain or chronological" in order.output
    nothing = review(proj, "--disagreements", input="q\n")
    assert nothing.exit_code == 0 and "All units in this queue are reviewed" in nothing.output


def test_review_without_units(tmp_path):
    from qualcode.project import init_project

    init_project(tmp_path / "empty", codebook="emessi").close()
    result = runner.invoke(app, ["review", "--plain", "-P", str(tmp_path / "empty")], input="q\n")
    assert result.exit_code == 1 and "qualcode import" in result.output


def test_units_never_suggested_are_scored_before_review(proj):
    """A session imported after the last `suggest`: review scores it first,
    so no unit is shown without the model's proposal (a quick 'no code' on
    it would teach the model a wrong 'no' for every code)."""
    from review_helpers import DATA

    from qualcode.importer import import_files

    [result] = import_files(proj, [DATA / "emessi-fi-session1.txt"], session="later", force=True)
    assert result.status == "imported"
    later = proj.store.get_session("later").id
    assert len(proj.store.unscored_units(later)) > 0
    out = review(proj, "--session", "later", "--order", "chronological", input="q\n")
    assert out.exit_code == 0, out.output
    n = len(proj.store.segments(later, codable_only=True))
    assert f"scored {n} units that had no suggestions yet" in out.output
    assert proj.store.unscored_units() == []
    again = review(proj, "--session", "later", input="q\n")
    assert "scored" not in again.output


def test_the_review_screen_without_a_terminal_says_to_use_plain(proj):
    result = runner.invoke(app, ["review", "-P", str(proj.root)], input="")
    assert result.exit_code == 1
    assert "needs a terminal; use `qualcode review --plain`" in result.output


def test_review_stops_when_the_codebook_ids_were_edited_in_place(proj):
    path = proj.codebook_path
    text = path.read_text(encoding="utf-8").replace("coded_units: emessi-coded.csv", "")
    path.write_text(text.replace("id: volunteers", "id: volunteering"), "utf-8")
    result = review(proj, input="q\n")
    assert result.exit_code == 1
    assert "qualcode codebook use" in result.output and "volunteering" in result.output
