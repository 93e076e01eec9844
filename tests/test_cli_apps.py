"""What every command shares: one-line errors, the output format rules."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from qualcode.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["evaluate", "gold.csv", "--seed", "x"], "Invalid value for '--seed'"),
        (
            ["evaluate", "gold.csv", "--train-fraction", "abc"],
            "Invalid value for '--train-fraction'",
        ),
        (["report", "--frmat", "csv"], "No such option: --frmat"),
        (["nosuch"], "No such command 'nosuch'"),
        (["report", "--by"], "Option '--by' requires an argument. (see `qualcode report --help`)"),
        (["export", "units", "--out"], "(see `qualcode export units --help`)"),
    ],
)
def test_a_mistyped_option_or_command_is_one_line(args: list[str], says: str) -> None:
    """Typer drew a box of four or five lines around these; every other
    error is one line naming what to do."""
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0]
    assert "--help`)" in lines[0] and "╭" not in result.stderr


def test_help_still_works_and_exits_0() -> None:
    result = runner.invoke(app, ["report", "--help"])
    assert result.exit_code == 0 and "report [OPTIONS]" in result.stdout


@pytest.mark.parametrize("args", [[], ["export"], ["codebook"]])
def test_a_group_alone_prints_its_help_not_an_empty_error(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert "Usage:" in result.stdout and "Error" not in result.output
