"""`qualcode review` through the command line (the --plain mode, fed input)."""

from __future__ import annotations

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


def test_review_filters(proj):
    session = proj.store.sessions()[1].name
    result = review(proj, "--session", session, "--code", "funding", input="q\n")
    assert result.exit_code == 0, result.output
    assert session in result.output
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
