"""Codebook loading, validation, the shipped codebooks and switching versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from qualcode.codebook import (
    KEYWORD_RE,
    Codebook,
    Problem,
    load_codebook,
    validate_codebook,
)
from qualcode.codebook_change import use_codebook
from qualcode.errors import FormatError, NotFound
from qualcode.models import Decision, Segment, Session, Transcript, Utterance

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "codebooks"
BAD = Path(__file__).parent / "data" / "codebooks"
EMESSI_LEAVES = {
    "independent_work": ["prioritisation", "support", "work_sharing", "hr_management"],
    "third_sector": ["funding", "volunteers"],
}
WELLBEING = ["competence", "structure", "health_and_coping", "work_community"]


def expectations(path: Path) -> list[tuple[int, str]]:
    """(line, message fragment) for every `# expect: ...` comment in a bad file."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = re.search(r"# expect: (.+)$", line)
        if m:
            out.extend((n, part.strip()) for part in m.group(1).split(" && "))
    return out


# -- validator: each kind of error, with its line ------------------------------


BAD_FILES = sorted(p.name for p in BAD.glob("*.yaml"))


def test_every_error_kind_has_a_bad_file() -> None:
    assert {
        "syntax_error.yaml",
        "unknown_key.yaml",
        "duplicate_id.yaml",
        "bad_id.yaml",
        "bad_color.yaml",
        "missing_label.yaml",
        "wrong_types.yaml",
        "undeclared_language.yaml",
        "missing_codes.yaml",
        "many_problems.yaml",
    } <= set(BAD_FILES)


@pytest.mark.parametrize("name", BAD_FILES)
def test_validator_reports_every_problem_on_its_line(name: str) -> None:
    path = BAD / name
    expected = expectations(path)
    assert expected, f"{name} has no # expect: comments"
    problems = validate_codebook(path)
    # exactly the expected problems: none missed, none invented
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    for line, fragment in expected:
        hits = [p for p in problems if p.line == line and fragment in p.message]
        assert hits, f"{name}:{line}: no problem containing {fragment!r}; got:\n" + "\n".join(
            map(str, problems)
        )
    assert all(p.path == str(path) for p in problems)
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_problem_str_is_path_line_message() -> None:
    assert str(Problem("a.yaml", 3, "bad colour")) == "a.yaml:3: bad colour"
    assert str(Problem("a.yaml", None, "no such file")) == "a.yaml: no such file"


def test_unknown_key_suggests_the_known_one() -> None:
    problems = validate_codebook(BAD / "unknown_key.yaml")
    assert any("did you mean 'color'" in p.message for p in problems)


def test_duplicate_yaml_key_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(
        "name: d\nlanguages: [en]\ncodes:\n  - id: a\n    label: A\n    label: B\n",
        encoding="utf-8",
    )
    problems = validate_codebook(path)
    assert [(p.line, "given twice" in p.message) for p in problems] == [(6, True)]


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    assert "no such file" in validate_codebook(tmp_path / "nope.yaml")[0].message
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert "empty" in validate_codebook(empty)[0].message


def test_load_raises_first_problem_with_count() -> None:
    path = BAD / "many_problems.yaml"
    with pytest.raises(FormatError) as info:
        load_codebook(path)
    err = info.value
    assert err.path == str(path)
    assert err.line == 5
    assert "lowercase snake_case" in str(err)
    assert "and 5 more problems" in str(err)
    assert str(err).startswith(f"{path}:5: ")


def test_load_syntax_error_has_line() -> None:
    with pytest.raises(FormatError) as info:
        load_codebook(BAD / "syntax_error.yaml")
    assert info.value.line == 7
    assert "YAML syntax error" in str(info.value)


# -- model: tree, flat codes, labels --------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flat_codes_depth_first_parents_before_children(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
name: t
version: 3
languages: [fi, en]
codes:
  - id: a
    label: {fi: Aa, en: A}
    children:
      - id: a1
        label: {fi: Aa1}
        children:
          - id: a1x
            label: {en: A1x, fi: Aa1x}
      - id: a2
        label: Both
  - id: b
    label: {fi: Bee, en: B}
    color: "#ABC"
""",
    )
    book = load_codebook(path)
    assert isinstance(book, Codebook)
    assert book.version == "3"
    flat = book.flat_codes()
    assert [c.id for c in flat] == ["a", "a1", "a1x", "a2", "b"]
    assert [c.parent_id for c in flat] == [None, "a", "a1", "a", None]
    assert [c.position for c in flat] == [0, 1, 2, 3, 4]
    # English label when there is one, else the first language given
    assert [c.label for c in flat] == ["A", "Aa1", "A1x", "Both", "B"]
    # a plain-string label is stored under every declared language
    assert flat[3].labels == {"fi": "Both", "en": "Both"}
    assert flat[4].color == "#abc"
    assert [c.id for c in book.leaves()] == ["a1x", "a2", "b"]
    assert book.get("a1").label_for("fi") == "Aa1"
    assert book.get("a1").label_for("en") == "Aa1"  # falls back
    assert book.get("b").label_for("fi") == "Bee"
    with pytest.raises(NotFound):
        book.get("zzz")


def test_plain_list_keywords_apply_to_every_language(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: t\nlanguages: [fi, en]\ncodes:\n  - id: a\n    label: A\n"
        "    keywords: [STEA, grant*]\n    description: Money.\n",
    )
    code = load_codebook(path).get("a")
    assert code.keywords == {"fi": ["STEA", "grant*"], "en": ["STEA", "grant*"]}
    assert code.description_for("fi") == "Money."


@pytest.mark.parametrize(
    ("word", "ok"),
    [
        ("vapaaehtoi*", True),
        ("deadline", True),
        ("saying no", True),
        ("to-do list", True),
        ("STEA", True),
        ("don't know how", True),
        ("*unteer", False),
        ("vapaa*ehtoinen", False),
        ("grant**", False),
        ("", False),
        ("ends with space ", False),
    ],
)
def test_keyword_forms(word: str, ok: bool) -> None:
    assert bool(KEYWORD_RE.match(word)) is ok


# -- the shipped codebooks -------------------------------------------------------


@pytest.mark.parametrize("name", ["emessi", "wellbeing"])
def test_shipped_codebook_validates_clean(name: str) -> None:
    path = SHIPPED / f"{name}.yaml"
    assert validate_codebook(path) == []
    book = load_codebook(path)
    assert book.name == name
    assert book.languages == ["fi", "en"]
    colors = [c.color for c in book.iter_codes()]
    assert all(colors) and len(set(colors)) == len(colors), "colours must be distinct"
    for code in book.iter_codes():
        assert set(code.label) == {"fi", "en"}, code.id
        assert set(code.description) == {"fi", "en"}, code.id


def test_emessi_has_exactly_the_domain_ids() -> None:
    book = load_codebook(SHIPPED / "emessi.yaml")
    assert [c.id for c in book.codes] == list(EMESSI_LEAVES)
    for parent, leaves in EMESSI_LEAVES.items():
        assert [c.id for c in book.get(parent).children] == leaves
    assert book.get("independent_work").label["fi"] == "Itsenäisen työn hallinta"
    assert book.get("third_sector").label["fi"] == "Kolmannen sektorin työn erityispiirteet"


def test_wellbeing_has_the_four_areas() -> None:
    book = load_codebook(SHIPPED / "wellbeing.yaml")
    assert [c.id for c in book.codes] == WELLBEING
    assert all(c.parent_id is None and c.is_leaf for c in book.codes)
    assert book.get("competence").label["fi"] == "Osaaminen"


@pytest.mark.parametrize(
    ("name", "min_keywords", "max_keywords", "min_examples"),
    [("emessi", 25, 90, 8), ("wellbeing", 20, 45, 5)],
)
def test_shipped_leaves_are_rich(
    name: str, min_keywords: int, max_keywords: int, min_examples: int
) -> None:
    book = load_codebook(SHIPPED / f"{name}.yaml")
    for leaf in book.leaves():
        for lang in ("fi", "en"):
            kws = leaf.keywords.get(lang, [])
            exs = leaf.examples.get(lang, [])
            # enough to be found, few enough to stay specific to the code
            assert min_keywords <= len(kws) <= max_keywords, (leaf.id, lang, len(kws))
            assert len(set(k.casefold() for k in kws)) == len(kws), (leaf.id, lang, "duplicates")
            assert len(exs) >= min_examples, (leaf.id, lang, len(exs))
            # examples are utterances, not keyword lists
            for ex in exs:
                assert len(ex.split()) >= 6 and ex[-1] in ".?!", (leaf.id, ex)
    fi_stems = [k for leaf in book.leaves() for k in leaf.keywords["fi"] if k.endswith("*")]
    assert len(fi_stems) >= 10 * len(book.leaves()), "Finnish needs wildcard stems"


def test_shipped_keywords_avoid_redundant_and_generic_words() -> None:
    generic = {"työ", "work", "yksin", "alone", "asia", "thing", "ihmiset", "people", "kiitos"}
    for name in ("emessi", "wellbeing"):
        book = load_codebook(SHIPPED / f"{name}.yaml")
        for leaf in book.leaves():
            for lang, kws in leaf.keywords.items():
                assert not generic & {k.casefold() for k in kws}, (leaf.id, lang)
                stems = [k[:-1].casefold() for k in kws if k.endswith("*")]
                for k in kws:
                    if " " in k:
                        continue
                    covered = [
                        s for s in stems if k.casefold().startswith(s) and k.casefold() != s + "*"
                    ]
                    assert not covered, f"{leaf.id} {lang}: {k} is already matched by {covered}"


def test_example_utterances_hit_their_own_keywords() -> None:
    """The suggestion stage starts from keywords: each leaf's own examples
    should mostly contain one of its keywords (prefix match on words here)."""
    for name in ("emessi", "wellbeing"):
        book = load_codebook(SHIPPED / f"{name}.yaml")
        for leaf in book.leaves():
            for lang, exs in leaf.examples.items():
                kws = [k.casefold() for k in leaf.keywords[lang]]
                hits = sum(1 for ex in exs if _matches(ex, kws))
                assert hits / len(exs) >= 0.5, (name, leaf.id, lang, hits, len(exs))


def _matches(text: str, keywords: list[str]) -> bool:
    words = re.findall(r"[\w'-]+", text.casefold())
    joined = " ".join(words)
    for k in keywords:
        if " " in k:
            if k.rstrip("*") in joined:
                return True
        elif k.endswith("*"):
            if any(w.startswith(k[:-1]) for w in words):
                return True
        elif k in words or any(w.startswith(k) and len(w) - len(k) <= 3 for w in words):
            return True
    return False


# -- switching a project to a new codebook version -------------------------------


def _decide(project, code_id: str, coder: str = "aino") -> None:
    store = project.store
    sid = store.add_session(
        Session(name=f"s-{code_id}-{coder}"),
        Transcript([Utterance("Vapaaehtoisia ei saa mukaan.", speaker="Aino")]),
    )
    text = "Aino: Vapaaehtoisia ei saa mukaan."
    [seg] = store.replace_segments(
        sid, [Segment(session_id=sid, seq=0, text=text, char_start=0, char_end=len(text))]
    )
    store.record_decision(Decision(segment_id=seg, code_id=code_id, coder=coder, verdict="added"))


def _new_version(tmp_path: Path) -> Path:
    data = yaml.safe_load((SHIPPED / "emessi.yaml").read_text(encoding="utf-8"))
    data["version"] = 2
    del data["coded_units"]  # coded with the old ids; this version goes without
    third = data["codes"][1]
    volunteers = third["children"][1]
    assert volunteers["id"] == "volunteers"
    volunteers["id"] = "volunteer_work"  # renamed: same Finnish label
    volunteers["label"]["en"] = "Volunteer work"
    third["children"][0]["label"]["en"] = "Funding and grants"  # relabelled
    data["codes"][0]["children"] = [
        c for c in data["codes"][0]["children"] if c["id"] != "hr_management"
    ]  # removed without a replacement
    data["codes"].append({"id": "digital_tools", "label": {"fi": "Digityökalut", "en": "Tools"}})
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "emessi.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_use_codebook_keeps_decisions_and_reports_changes(project, tmp_path: Path) -> None:
    _decide(project, "volunteers")
    _decide(project, "volunteers", coder="ben")
    _decide(project, "funding")
    before = project.store.decisions()
    new = _new_version(tmp_path / "v2")
    old_text = (project.root / "codebooks" / "emessi.yaml").read_text(encoding="utf-8")

    change = use_codebook(project, new)

    assert change.applied and change.version == "2"
    assert change.added == ["volunteer_work", "digital_tools"]
    assert change.removed == {"hr_management": 0, "volunteers": 2}
    assert change.renamed == [("volunteers", "volunteer_work")]
    assert change.relabelled == {"funding": {"en": ["Funding", "Funding and grants"]}}
    assert change.restored == [] and change.moved == {}
    # nothing dropped: same decisions, removed codes kept inactive
    assert project.store.decisions() == before
    codes = {c.id: c for c in project.store.codes(include_inactive=True)}
    assert codes["volunteers"].active is False and codes["hr_management"].active is False
    assert codes["volunteer_work"].active and codes["funding"].label == "Funding and grants"
    assert "volunteers" not in {c.id for c in project.store.codes()}
    # the file travels with the project; the replaced version is kept beside it
    copied = project.root / "codebooks" / "emessi.yaml"
    assert copied.read_text(encoding="utf-8") == new.read_text(encoding="utf-8")
    backup = project.root / "codebooks" / "emessi.previous-1.yaml"
    assert backup.read_text(encoding="utf-8") == old_text
    assert project.config.codebook == "codebooks/emessi.yaml"
    reloaded = yaml.safe_load(project.config_path.read_text(encoding="utf-8"))
    assert reloaded["codebook"] == "codebooks/emessi.yaml"


def test_use_codebook_back_restores_codes(project, tmp_path: Path) -> None:
    _decide(project, "volunteers")
    use_codebook(project, _new_version(tmp_path / "v2"))
    change = use_codebook(project, SHIPPED / "emessi.yaml")
    assert set(change.restored) == {"volunteers", "hr_management"}
    assert change.removed == {"volunteer_work": 0, "digital_tools": 0}
    assert change.renamed == []  # restored codes are not "added"
    assert {c.id for c in project.store.codes()} >= {"volunteers", "hr_management"}


def test_use_codebook_dry_run_changes_nothing(project, tmp_path: Path) -> None:
    new = _new_version(tmp_path / "v2")
    codes_before = project.store.codes(include_inactive=True)
    config_before = project.config_path.read_text(encoding="utf-8")
    change = use_codebook(project, new, dry_run=True)
    assert not change.applied
    assert "digital_tools" in change.added
    assert project.store.codes(include_inactive=True) == codes_before
    assert project.config_path.read_text(encoding="utf-8") == config_before
    assert not (project.root / "codebooks" / "emessi.previous-1.yaml").exists()


def test_use_codebook_same_file_is_unchanged(project) -> None:
    change = use_codebook(project, project.root / "codebooks" / "emessi.yaml")
    assert change.unchanged
    # the codebook and its coded units, copied in when the project was made
    assert sorted((project.root / "codebooks").iterdir()) == [
        project.root / "codebooks" / "emessi-coded.csv",
        project.root / "codebooks" / "emessi.yaml",
    ]


def test_coded_units_travel_with_the_codebook(project, tmp_path: Path) -> None:
    book = load_codebook(project.root / "codebooks" / "emessi.yaml")
    assert book.coded_units == project.root / "codebooks" / "emessi-coded.csv"
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "emessi.yaml").write_bytes((SHIPPED / "emessi.yaml").read_bytes())
    (other / "emessi-coded.csv").write_text(
        "text,codes,lang\nVapaaehtoiset jaksaa.,volunteers,fi\n", encoding="utf-8"
    )
    before = (project.root / "codebooks" / "emessi-coded.csv").read_bytes()
    use_codebook(project, other / "emessi.yaml")
    copied = project.root / "codebooks" / "emessi-coded.csv"
    assert copied.read_text(encoding="utf-8").startswith("text,codes,lang")
    # the coded units it replaced (a team's earlier coding) are kept beside it
    kept = project.root / "codebooks" / "emessi-coded.previous-1.csv"
    assert kept.read_bytes() == before != copied.read_bytes()


def test_coded_units_must_be_a_csv_next_to_the_codebook(tmp_path: Path) -> None:
    text = (SHIPPED / "emessi.yaml").read_text(encoding="utf-8")
    path = tmp_path / "emessi.yaml"
    path.write_text(text, encoding="utf-8")
    line = 1 + text.splitlines().index("coded_units: emessi-coded.csv")
    [missing] = validate_codebook(path)
    assert missing.line == line
    assert "no file" in missing.message and "emessi-coded.csv" in missing.message
    path.write_text(text.replace("emessi-coded.csv", "../x/coded.csv"), encoding="utf-8")
    [outside] = validate_codebook(path)
    assert "must name a .csv file next to the codebook" in outside.message
    # its codes must be the codebook's: the problem names the CSV line
    path.write_text(text, encoding="utf-8")
    (tmp_path / "emessi-coded.csv").write_text(
        "text,codes\nRahat loppuu.,funding\nKuka hoitaa?,grants\n", encoding="utf-8"
    )
    [unknown] = validate_codebook(path)
    assert unknown.path == str(tmp_path / "emessi-coded.csv") and unknown.line == 3
    assert "grants" in unknown.message


def test_use_codebook_invalid_file_changes_nothing(project) -> None:
    before = project.store.codes(include_inactive=True)
    with pytest.raises(FormatError):
        use_codebook(project, BAD / "bad_color.yaml")
    assert project.store.codes(include_inactive=True) == before
    assert project.config.codebook == "codebooks/emessi.yaml"


# everyday words of these groups that no code's keywords may fire on; each
# was once caught by a too-short stem, often inside a compound
EVERYDAY_FI = [
    "ensisijaisesti",  # sijai*
    "huolehtia",  # ehti*
    "mielenkiintoinen",  # lenki*
    "kansalaiset",  # alaise*
    "kansalaistoiminta",  # alaist*
    "käytännössä",  # käytäntö*
    "tasavertainen",  # vertais*
    "nuorisotyöntekijä",  # työntekij* (the speakers' own job title)
    "kiitos",
    "työ",
]


def _fires(word: str, keyword: str) -> bool:
    """Prefix keywords as the suggestion stage matches them: at the start of a
    word, or (Finnish compounds) anywhere after its first three letters."""
    word, keyword = word.casefold(), keyword.casefold()
    if keyword.endswith("*"):
        stem = keyword[:-1]
        return word.startswith(stem) or (len(stem) >= 4 and stem in word[3:])
    return word == keyword


@pytest.mark.parametrize("name", ["emessi", "wellbeing"])
def test_keywords_do_not_fire_on_everyday_words(name: str) -> None:
    book = load_codebook(SHIPPED / f"{name}.yaml")
    for leaf in book.leaves():
        for kw in leaf.keywords["fi"]:
            fired = [w for w in EVERYDAY_FI if " " not in kw and _fires(w, kw)]
            assert not fired, f"{leaf.id}: {kw} fires on {fired}"


def test_init_over_a_lost_config_keeps_the_edited_codebook(tmp_path: Path) -> None:
    """qualcode.yaml deleted, codebooks/ still there with the team's edits:
    init copies the shipped codebook in but keeps the edited one beside it."""
    from qualcode.project import init_project

    first = init_project(tmp_path / "p", codebook="emessi", language="fi")
    first.close()
    edited = tmp_path / "p" / "codebooks" / "emessi.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# our edits\n", encoding="utf-8")
    mine = edited.read_bytes()
    (tmp_path / "p" / "qualcode.yaml").unlink()
    again = init_project(tmp_path / "p", codebook="emessi", language="fi")
    again.close()
    assert edited.read_bytes() == (SHIPPED / "emessi.yaml").read_bytes()
    assert (tmp_path / "p" / "codebooks" / "emessi.previous-1.yaml").read_bytes() == mine
    # the unchanged coded units are not copied aside
    assert not list((tmp_path / "p" / "codebooks").glob("emessi-coded.previous-*"))
