"""Finding, creating and configuring a project."""

from __future__ import annotations

from dataclasses import dataclass, fields
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
from qualcode.segment import SegmentOptions
from qualcode.suggest.options import SuggestOptions


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


def test_a_missing_database_is_not_made_again_empty(tmp_path: Path) -> None:
    """A lost qualcode.db must not be replaced by an empty one: every later
    command would show an empty project or blame the codebook."""
    init_project(tmp_path / "p", codebook="emessi").close()
    for f in (tmp_path / "p").glob("qualcode.db*"):
        f.unlink()
    project = Project(tmp_path / "p")
    with pytest.raises(QualcodeError, match=r"qualcode.db: the project database is missing or"):
        project.store.sessions()
    assert not (tmp_path / "p" / "qualcode.db").exists()
    (tmp_path / "p" / "qualcode.db").touch()  # what a full disk leaves
    with pytest.raises(QualcodeError, match=r"database is missing or empty"):
        Project(tmp_path / "p").store.sessions()
    assert (tmp_path / "p" / "qualcode.db").stat().st_size == 0


def test_a_database_that_cannot_be_opened_for_writing_names_the_file(tmp_path: Path) -> None:
    """A read-only folder or mount (here: the journal's place taken by a
    folder, which SQLite cannot open either) is said as such, with the file."""
    init_project(tmp_path / "p", codebook="emessi").close()
    for name in ("qualcode.db-wal", "qualcode.db-shm"):
        (tmp_path / "p" / name).unlink(missing_ok=True)
        (tmp_path / "p" / name).mkdir()
    with pytest.raises(QualcodeError) as e:
        Project(tmp_path / "p").store.sessions()
    message = str(e.value)
    assert message.startswith(f"{(tmp_path / 'p' / 'qualcode.db').resolve()}: cannot open")
    assert "must be writable" in message and "\n" not in message


def test_a_second_connection_sees_what_the_first_wrote(tmp_path: Path) -> None:
    """Background work (retraining during review) gets its own connection
    to the same store, with the same checks as the main one."""
    from qualcode.models import Session, Transcript, Utterance

    with init_project(tmp_path / "p", codebook="emessi") as p:
        p.store.add_session(Session(name="s1"), Transcript([Utterance("Hei.", "A")]))
        with p.connect() as other:
            assert other is not p.store
            assert [s.name for s in other.sessions()] == ["s1"]
    for f in (tmp_path / "p").glob("qualcode.db*"):
        f.unlink()
    with pytest.raises(QualcodeError, match="database is missing or empty"):
        Project(tmp_path / "p").connect()


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


@dataclass
class _Words:
    """A stand-in with a list-of-words field: no shipped options have one yet."""

    words: frozenset[str] = frozenset({"joo"})
    names: tuple[str, ...] = ()


def _refused(cls, config) -> str:
    with pytest.raises(QualcodeError) as e:
        cls.from_config(config)
    message = str(e.value)
    assert "\n" not in message and message.startswith(f"{CONFIG_NAME}: ")
    return message


@pytest.mark.parametrize("cls", [SegmentOptions, SuggestOptions])
def test_stage_options_defaults_load(cls) -> None:
    assert cls.from_config({}) == cls.from_config(None) == cls()
    own_defaults = {f.name: f.default for f in fields(cls)}
    assert cls.from_config(own_defaults) == cls()


def test_stage_options_accept_valid_values() -> None:
    seg = SegmentOptions.from_config(
        {
            "max_sentences": 1,
            "max_words": 5,
            "min_words": 5,
            "backchannel_words": 0,
            "language": "fi",
        }
    )
    assert (seg.max_words, seg.min_words, seg.language) == (5, 5, "fi")
    sug = SuggestOptions.from_config(
        {
            "threshold": 1,
            "min_score": 0,
            "context_base": 0.1,
            "context_stay": 0.6,
            "coded_units": False,
        }
    )
    # an int where a float is declared is stored as the float
    assert sug.threshold == 1.0 and isinstance(sug.threshold, float)
    assert (sug.context_base, sug.context_stay, sug.coded_units) == (0.1, 0.6, False)
    assert SuggestOptions.from_config({"context_stay": None}).context_stay is None


SEG, SUG = SegmentOptions, SuggestOptions


@pytest.mark.parametrize(
    ("cls", "config", "expected"),
    [
        # wrong types
        (SUG, {"threshold": "high"}, "suggest setting threshold: 'high' is not a number; "
         "give a number from 0 to 1 (default 0.5)"),
        (SEG, {"max_words": "many"}, "segment setting max_words: 'many' is not a whole number"),
        (SEG, {"backchannel_words": "abc"}, "backchannel_words: 'abc' is not a whole number"),
        (SEG, {"max_sentences": 1.5}, "max_sentences: 1.5 is not a whole number"),
        (SUG, {"max_suggestions": "x"}, "max_suggestions: 'x' is not a whole number"),
        (SUG, {"retrain_every": "x"}, "retrain_every: 'x' is not a whole number"),
        (SUG, {"context_floor": "x"}, "context_floor: 'x' is not a number"),
        (SUG, {"context_floor": float("nan")}, "context_floor: nan is not a finite number"),
        (SUG, {"coded_units": "no"}, "coded_units: 'no' is text, not true or false; "
         "write true or false without quotes (default true)"),
        (SUG, {"context": "maybe"}, "context: 'maybe' is text, not true or false"),
        (SUG, {"context": 1}, "context: 1 is not true or false; give true or false"),
        (SEG, {"language": False}, "segment setting language: false is not text; "
         "put it in quotes (default null)"),
        # bool where a number is declared (True is an int to Python)
        (SEG, {"max_words": True}, "max_words: true is not a whole number"),
        (SUG, {"threshold": False}, "threshold: false is not a number"),
        # null where not allowed
        (SEG, {"max_words": None}, "max_words: null is not allowed; "
         "give a whole number of at least 1 (default 80)"),
        (SUG, {"context": None}, "context: null is not allowed"),
        # out of range
        (SUG, {"threshold": 2}, "threshold: 2 is out of range; give a number from 0 to 1"),
        (SUG, {"min_score": 5}, "min_score: 5 is out of range"),
        (SUG, {"min_score": -1}, "min_score: -1 is out of range"),
        (SUG, {"max_suggestions": -3}, "max_suggestions: -3 is out of range"),
        (SUG, {"retrain_every": 0}, "retrain_every: 0 is out of range; "
         "give a whole number of at least 1 (default 20)"),
        (SUG, {"retrain_every": -1}, "retrain_every: -1 is out of range"),
        (SUG, {"context_stay": 2}, "context_stay: 2 is out of range; "
         "give a number strictly between 0 and 1, or null (default null)"),
        (SUG, {"context_base": 0}, "context_base: 0 is out of range"),
        (SUG, {"context_floor": 1}, "context_floor: 1 is out of range; give a number of at most 0"),
        (SUG, {"keyword_weight": -1}, "keyword_weight: -1 is out of range"),
        (SEG, {"max_sentences": 0}, "max_sentences: 0 is out of range"),
        (SEG, {"backchannel_words": -1}, "backchannel_words: -1 is out of range"),
        # pairs
        (SEG, {"min_words": 100000}, "min_words: 100000 is more than max_words (80)"),
        (SEG, {"min_words": 6, "max_words": 5}, "min_words: 6 is more than max_words (5)"),
        (SUG, {"min_score": 0.9}, "min_score: 0.9 is more than threshold (0.5)"),
        (SUG, {"context_base": 0.5, "context_stay": 0.3},
         "context_base: 0.5 is not below context_stay (0.3)"),
        # a section that is not a mapping
        (SEG, [1, 2], "segment is [1, 2], not a mapping"),
        (SEG, "hello", "segment is 'hello', not a mapping"),
        (SUG, ["a"], "suggest is ['a'], not a mapping"),
    ],
)  # fmt: skip
def test_stage_options_refuse_wrong_values_in_one_line(cls, config, expected) -> None:
    assert expected in _refused(cls, config)


def test_list_of_words_fields_take_a_yaml_list() -> None:
    from qualcode.settings import options_from_section

    words = options_from_section(_Words, "test", {"words": ["mm", "joo"], "names": ["a"]})
    assert words == _Words(frozenset({"mm", "joo"}), ("a",))
    for bad in ("joo mm", ["joo", 3], None):
        with pytest.raises(QualcodeError, match="test setting words: .* is not"):
            options_from_section(_Words, "test", {"words": bad})


def test_project_config_values_are_checked(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text("name: x\nsegment:\nsuggest: {threshold: 0.3}\n")
    config = ProjectConfig.load(path)  # an empty section is an empty mapping
    assert config.segment == {} and config.suggest == {"threshold": 0.3}
    path.write_text("name: x\nsegment: [1, 2]\n")
    with pytest.raises(QualcodeError, match=r"qualcode.yaml:2: setting segment: \[1, 2\] is not a"):
        ProjectConfig.load(path)
    path.write_text("name: x\nlanguage: no\n")
    with pytest.raises(
        QualcodeError, match="setting language: false is not text; put it in quotes"
    ):
        ProjectConfig.load(path)


def test_cli_refuses_a_bad_setting_in_one_line(project) -> None:
    from typer.testing import CliRunner

    from qualcode.cli.main import app
    from qualcode.models import Session, Transcript, Utterance

    project.store.add_session(Session(name="s1"), Transcript([Utterance("Hei.", "A", 0.0, 1.0)]))
    with project.config_path.open("a", encoding="utf-8") as f:
        f.write("suggest: {threshold: high}\n")
    result = CliRunner().invoke(app, ["suggest", "--project", str(project.root)])
    assert result.exit_code == 1
    # the file's whole path and the line of the section, from any command
    line = (
        project.config_path.read_text(encoding="utf-8")
        .splitlines()
        .index("suggest: {threshold: high}")
    )
    assert (
        f"{project.config_path}:{line + 1}: suggest setting threshold: 'high' is not a number"
        in result.output
    )
    assert len(result.output.strip().splitlines()) == 1
    listing = CliRunner().invoke(app, ["sessions", "--project", str(project.root)])
    assert listing.exit_code == 1 and "is not a number" in listing.output


def test_language_codes_are_read_in_any_case() -> None:
    from qualcode.project import check_language

    assert [check_language(c) for c in ("FI", "en", " sv ", "pt-BR", "auto")] == [
        "fi",
        "en",
        "sv",
        "pt-BR",
        "auto",
    ]
    with pytest.raises(QualcodeError, match="'suomi' is not a language code"):
        check_language("suomi")
