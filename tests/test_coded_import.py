"""import-coded: earlier hand coding as units and decisions, a second
coder's file on the same units, a fuller file filling a session's gaps."""

from __future__ import annotations

from pathlib import Path

import pytest

from qualcode.codebook import load_codebook
from qualcode.coded_import import import_coded
from qualcode.errors import FormatError, QualcodeError

DATA = Path(__file__).parent / "data"


def test_import_coded_creates_units_and_decisions(project, tmp_path: Path) -> None:
    path = tmp_path / "coded.csv"
    path.write_text(
        "text,codes,coder,session,speaker\n"
        "Vapaaehtoisia on vaikea saada.,volunteers,anna,ryhmä-1,Aino\n"
        "Avustus loppuu.,funding;prioritisation,anna,ryhmä-1,Ville\n"
        "Kuuluuko ääni?,,ben,ryhmä-2,Aino\n",
        encoding="utf-8",
    )
    book = load_codebook(project.codebook_path)
    report = import_coded(project.store, book, path)
    assert report.sessions == ["ryhmä-1", "ryhmä-2"]
    assert (report.n_units, report.n_decisions) == (3, 3)
    store = project.store
    units = store.segments(store.get_session("ryhmä-1").id)
    assert [u.text for u in units] == ["Vapaaehtoisia on vaikea saada.", "Avustus loppuu."]
    got = {(d.segment_id, d.code_id, d.coder, d.verdict) for d in store.decisions()}
    assert got == {
        (units[0].id, "volunteers", "anna", "added"),
        (units[1].id, "funding", "anna", "added"),
        (units[1].id, "prioritisation", "anna", "added"),
    }
    missing = tmp_path / "nocoder.csv"
    missing.write_text("text,codes\nAvustus loppuu.,funding\n", encoding="utf-8")
    with pytest.raises(FormatError, match="nocoder.csv:2: no coder"):
        import_coded(store, book, missing)
    with pytest.raises(QualcodeError, match="--coder is blank"):
        import_coded(store, book, missing, coder="  ")
    # "Anna" beside the project's "anna" would be a second coder
    with pytest.raises(QualcodeError, match="coder 'Anna' is spelt 'anna' in this project"):
        import_coded(store, book, missing, coder="Anna")
    assert store.coders() == ["anna"]


def test_imported_units_count_as_fully_coded(project, tmp_path: Path) -> None:
    # a hand-coded unit without a code is a "no" for every code: training
    # learns it as a negative, as it does after review
    from qualcode.suggest.engine import suggestable_codes
    from qualcode.suggest.workflow import training_data

    path = tmp_path / "coded.csv"
    path.write_text(
        "text,codes,session\nAvustus loppuu.,funding,s\nKuuluuko ääni?,,s\n", encoding="utf-8"
    )
    book = load_codebook(project.codebook_path)
    import_coded(project.store, book, path, coder="anna")
    codes = [c.id for c in suggestable_codes(book)]
    segments, y, known = training_data(project.store, codes)
    assert [s.text for s in segments] == ["Avustus loppuu.", "Kuuluuko ääni?"]
    assert known.all()
    assert y[0].tolist() == [float(c == "funding") for c in codes] and not y[1].any()


def test_a_second_coders_file_lands_on_the_same_units(project, tmp_path: Path) -> None:
    store = project.store
    book = load_codebook(project.codebook_path)
    first = tmp_path / "anna.csv"
    first.write_text(
        "text,codes,session\nJoo.,,s\nAvustus loppuu.,funding,s\nJoo.,,s\n", encoding="utf-8"
    )
    second = tmp_path / "ben.csv"
    second.write_text(
        "text,codes,session,coder\nJoo.,,s,ben\nAvustus loppuu.,funding;prioritisation,s,ben\n"
        "Joo.,support,s,ben\nUusi.,,t,ben\n",
        encoding="utf-8",
    )
    assert import_coded(store, book, first, coder="anna").sessions == ["s"]
    report = import_coded(store, book, second)
    assert (report.sessions, report.attached) == (["t"], ["s"])
    units = store.segments(store.get_session("s").id)
    assert [u.text for u in units] == ["Joo.", "Avustus loppuu.", "Joo."]
    # the k-th "Joo." of one coder is the k-th unit with that text
    got = {(d.segment_id, d.code_id, d.coder) for d in store.decisions()}
    assert (units[2].id, "support", "ben") in got and (units[0].id, "support", "ben") not in got
    for coder in ("anna", "ben"):
        assert {u.id for u in units} <= store.coder_unit_ids(coder)
    # the same file again attaches to the same units, and a file whose
    # texts differ from the session's units becomes a session of its own
    assert import_coded(store, book, first, coder="anna").attached == ["s"]
    changed = tmp_path / "changed.csv"
    changed.write_text("text,codes,session\nJoo.,,s\nToinen teksti.,,s\n", encoding="utf-8")
    report = import_coded(store, book, changed, coder="cid")
    assert (report.sessions, report.renamed) == (["s-2"], {"s": "s-2"})
    assert len(store.segments(store.get_session("s").id)) == 3


def test_a_coders_corrected_file_replaces_their_earlier_coding(project, tmp_path: Path) -> None:
    """Importing the same coder's file again (corrected) must not leave the
    old codes beside the new ones, and every change is logged."""
    store = project.store
    book = load_codebook(project.codebook_path)
    path = tmp_path / "anna.csv"
    path.write_text(
        "text,codes,session\nTarvitaan vapaaehtoisia.,volunteers,s\nRaha loppuu.,funding,s\n"
        "Mikä ensin?,prioritisation,s\n",
        encoding="utf-8",
    )
    import_coded(store, book, path, coder="anna")
    path.write_text(
        "text,codes,session\nTarvitaan vapaaehtoisia.,funding,s\nRaha loppuu.,funding,s\n"
        "Mikä ensin?,,s\n",
        encoding="utf-8",
    )
    report = import_coded(store, book, path, coder="anna")
    assert (report.attached, report.recoded, report.n_decisions) == (["s"], 3, 3)
    units = store.segments(store.get_session("s").id)
    given: dict[str, set[str]] = {}
    for d in store.decisions(coder="anna"):
        if d.verdict in ("accepted", "added"):
            given.setdefault(d.segment_id, set()).add(d.code_id)
    assert [given.get(u.id, set()) for u in units] == [{"funding"}, {"funding"}, set()]
    # the changes are one undoable group, and undo restores the earlier coding
    group = store.last_events("anna")
    assert [e.kind for e in group] == ["action", "decision", "decision", "decision"]
    store.undo_last("anna")
    given = {}
    for d in store.decisions(coder="anna"):
        if d.verdict in ("accepted", "added"):
            given.setdefault(d.segment_id, set()).add(d.code_id)
    assert [given.get(u.id, set()) for u in units] == [
        {"volunteers"},
        {"funding"},
        {"prioritisation"},
    ]


def test_a_file_whose_session_name_was_taken_lands_on_its_units_again(
    project, tmp_path: Path
) -> None:
    """Bob's file names session s1, which Amy's file (other talk) took
    first: his rows went to s1-2. Importing his file again (the same, or
    corrected) made s1-3, s1-4…, each counted again."""
    store = project.store
    book = load_codebook(project.codebook_path)
    amy, bob = tmp_path / "amy.csv", tmp_path / "bob.csv"
    amy.write_text(
        "text,codes,coder,session\nMeillä loppui rahat kesken vuoden.,funding,amy,s1\n",
        encoding="utf-8",
    )
    bob.write_text(
        "text,codes,coder,session\nVapaaehtoiset ei tulleet paikalle.,volunteers,bob,s1\n",
        encoding="utf-8",
    )
    import_coded(store, book, amy)
    first = import_coded(store, book, bob)
    assert first.sessions == ["s1-2"]
    again = import_coded(store, book, bob)
    assert (again.sessions, again.attached) == ([], ["s1-2"])
    bob.write_text(
        "text,codes,coder,session\nVapaaehtoiset ei tulleet paikalle.,prioritisation,bob,s1\n",
        encoding="utf-8",
    )
    corrected = import_coded(store, book, bob)
    assert (corrected.sessions, corrected.attached, corrected.recoded) == ([], ["s1-2"], 1)
    assert sorted(s.name for s in store.sessions()) == ["s1", "s1-2"]
    applied = {d.code_id for d in store.decisions(coder="bob") if d.verdict == "added"}
    assert applied == {"prioritisation"}


def test_one_coder_spelt_two_ways_in_one_file_is_refused(project, tmp_path: Path) -> None:
    store = project.store
    book = load_codebook(project.codebook_path)
    path = tmp_path / "mixed.csv"
    path.write_text(
        "text,codes,coder\nRahat loppui.,funding,Eve\nEi ehditä.,prioritisation,eve\n",
        encoding="utf-8",
    )
    with pytest.raises(QualcodeError, match="coder 'eve' is also spelt 'Eve' in this file"):
        import_coded(store, book, path)
    assert store.coders() == [] and store.sessions() == []


def test_a_coders_longer_file_extends_the_session_it_coded_before(project, tmp_path) -> None:
    """part1.csv, then full.csv (part1 plus a row): the rows of part1 land
    on their units, the new row becomes a unit of the same session; no
    second session that would count every unit twice."""
    from qualcode.codebook import project_codebook

    book = project_codebook(project)
    store = project.store
    part = tmp_path / "part1.csv"
    part.write_text(
        "session,speaker,text,codes\n"
        'g,Aino,"Meillä loppuu rahat kesken.",funding\n'
        'g,Ben,"Vapaaehtoisia ei löydy.",volunteers\n',
        encoding="utf-8",
    )
    import_coded(store, book, part, coder="anna")
    before = [(g.id, g.text) for g in store.segments()]
    full = tmp_path / "full.csv"
    full.write_text(
        part.read_text(encoding="utf-8") + 'g,Aino,"Hallitus ei päätä mitään.",hr_management\n',
        encoding="utf-8",
    )
    report = import_coded(store, book, full, coder="anna")
    assert report.sessions == [] and report.attached == ["g"] and not report.renamed
    units = store.segments()
    assert [(g.id, g.text) for g in units[:2]] == before
    assert units[2].text == "Hallitus ei päätä mitään." and units[2].speaker == "Aino"
    assert [s.name for s in store.sessions()] == ["g"]
    coded = {(d.segment_id, d.code_id) for d in store.decisions(coder="anna")}
    assert coded == {
        (before[0][0], "funding"),
        (before[1][0], "volunteers"),
        (units[2].id, "hr_management"),
    }


def test_a_second_coders_fuller_file_fills_the_gaps_of_the_session(project, tmp_path) -> None:
    """anna coded rows 1 and 3 of a session, ben all four: ben's rows land
    on anna's units and the two others join the session where they belong,
    so `agree` compares them on the shared units."""
    from qualcode.codebook import project_codebook

    book = project_codebook(project)
    store = project.store
    rows = [
        ("Aino", "Meillä loppuu rahat kesken.", "funding"),
        ("Ben", "Niin meilläkin.", ""),
        ("Aino", "Vapaaehtoisia ei löydy.", "volunteers"),
        ("Ben", "Hallitus ei päätä mitään.", "hr_management"),
    ]

    def write(name: str, which: list[int]) -> Path:
        path = tmp_path / name
        lines = ["session,speaker,text,codes"] + [
            f'k1,{rows[i][0]},"{rows[i][1]}",{rows[i][2]}' for i in which
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    import_coded(store, book, write("anna.csv", [0, 2]), coder="anna")
    first = {g.text: g.id for g in store.segments()}
    report = import_coded(store, book, write("ben.csv", [0, 1, 2, 3]), coder="ben")
    assert report.attached == ["k1"] and report.sessions == []
    units = store.segments()
    assert [g.text for g in units] == [r[1] for r in rows]
    assert {g.text: g.id for g in units if g.text in first} == first
    assert store.coder_unit_ids("ben") >= set(first.values())
