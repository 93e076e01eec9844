"""Theme counts checked by hand on a tiny two-coder project."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qualcode.errors import QualcodeError
from qualcode.models import Decision, Segment, Session, Transcript, Utterance
from qualcode.report import (
    build_cooccurrence,
    build_crosstab,
    build_report,
    decision_view,
    write,
)
from qualcode.store.reports import View

# (session, group, speaker, start, end, codable)
UNITS = {
    "u1": ("s1", "A", "Aino", 0.0, 10.0, True),
    "u2": ("s1", "A", "Bert", 10.0, 40.0, True),
    "u3": ("s1", "A", "Aino", 40.0, 50.0, True),
    "u4": ("s1", "A", "Bert", 50.0, 51.0, False),
    "u5": ("s2", "B", "Aino", None, None, True),
    "u6": ("s2", "B", "Cara", 0.0, 60.0, True),
    "u7": ("s2", "B", "Bert", 60.0, 90.0, True),
}
# (unit, code, coder, verdict)
DECISIONS = [
    ("u1", "support", "ann", "accepted"),
    ("u1", "funding", "ann", "added"),
    ("u1", "support", "bob", "accepted"),
    ("u1", "funding", "bob", "accepted"),
    ("u2", "prioritisation", "ann", "accepted"),
    ("u2", "support", "ann", "added"),
    ("u2", "prioritisation", "bob", "added"),
    ("u3", "volunteers", "ann", "rejected"),
    ("u3", "volunteers", "bob", "accepted"),
    ("u5", "funding", "ann", "accepted"),
    ("u5", "funding", "bob", "accepted"),
    ("u6", "support", "ann", "accepted"),
    ("u6", "support", "bob", "rejected"),
    ("u7", "hr_management", "bob", "added"),
]


def build_tiny(store) -> dict[str, int]:
    """The units above as sessions; returns unit name -> segment id."""
    ids: dict[str, int] = {}
    for sname, group in (("s1", "A"), ("s2", "B")):
        names = [n for n, u in UNITS.items() if u[0] == sname]
        utts = [
            Utterance(text=f"text of {n}", speaker=UNITS[n][2], start=UNITS[n][3], end=UNITS[n][4])
            for n in names
        ]
        sid = store.add_session(Session(name=sname, group=group), Transcript(utterances=utts))
        segs = []
        pos = 0
        for seq, n in enumerate(names):
            _, _, speaker, start, end, codable = UNITS[n]
            text = f"text of {n}"
            segs.append(
                Segment(
                    session_id=sid,
                    seq=seq,
                    text=text,
                    char_start=pos,
                    char_end=pos + len(text),
                    participant_id=store.participant_id(speaker),
                    start=start,
                    end=end,
                    codable=codable,
                )
            )
            pos += len(text) + 1
        for n, gid in zip(names, store.replace_segments(sid, segs), strict=True):
            ids[n] = gid
    for unit, code, coder, verdict in DECISIONS:
        store.record_decision(Decision(ids[unit], code, coder, verdict))
    store.set_attributes("Aino", {"sector": "ngo"})
    store.set_attributes("Bert", {"sector": "municipality"})
    return ids


@pytest.fixture
def tiny(project):
    build_tiny(project.store)
    return project


def rows(report):
    return {r.code_id: r for r in report.rows}


def test_single_coder_counts_and_rollup(tiny):
    r = rows(build_report(tiny.store, View(coder="ann")))
    assert r["support"].units == 3  # u1 u2 u6
    assert r["funding"].units == 2  # u1 u5
    assert r["volunteers"].units == 0  # ann rejected it
    # u2 has two children of independent_work: counted once
    assert r["independent_work"].units == 3  # u1 u2 u6
    assert r["third_sector"].units == 2
    assert r["support"].sessions == 2 and r["support"].speakers == 3
    assert r["support"].share == pytest.approx(3 / 6)
    assert r["support"].minutes == pytest.approx((10 + 30 + 60) / 60)
    # u5 has no times: only u1's 10 s count
    assert r["funding"].minutes == pytest.approx(10 / 60)
    assert r["work_sharing"].minutes is None


def test_reconciled_unanimous_without_lead(tiny):
    view = decision_view(tiny.store, lead_coder=None)
    assert view == View(lead=None)
    r = rows(build_report(tiny.store, view))
    assert r["support"].units == 1  # only u1 has both coders
    assert r["funding"].units == 2
    assert r["prioritisation"].units == 1
    assert r["volunteers"].units == 0
    # u7 was coded by bob alone: every coder of that unit applied it
    assert r["hr_management"].units == 1
    assert r["independent_work"].units == 3  # u1 u2 u7


def test_reconciled_lead_settles_disagreements(tiny):
    r = rows(build_report(tiny.store, decision_view(tiny.store, lead_coder="ann")))
    assert r["support"].units == 3  # ann's u1 u2 u6
    assert r["volunteers"].units == 0
    assert r["hr_management"].units == 1  # ann never saw u7: bob's coding stands
    assert r["independent_work"].units == 4
    r = rows(build_report(tiny.store, decision_view(tiny.store, lead_coder="bob")))
    assert r["support"].units == 1
    assert r["volunteers"].units == 1


def test_single_coder_is_lead_by_default(project):
    ids = build_tiny(project.store)
    assert ids
    store = project.store
    view = decision_view(store, coder="bob")
    assert view == View(coder="bob")
    with pytest.raises(QualcodeError, match="coders: ann, bob"):
        decision_view(store, coder="nobody")


def test_crosstab_by_session_and_attribute(tiny):
    view = View(lead="ann")
    ct = build_crosstab(tiny.store, view, "session")
    assert ct.columns == ["s1", "s2"]
    assert ct.column_units == {"s1": 3, "s2": 3}  # u4 is not codable
    assert ct.count("support", "s1") == 2 and ct.count("support", "s2") == 1
    assert ct.row_pct("support", "s1") == pytest.approx(200 / 3)
    assert ct.col_pct("support", "s2") == pytest.approx(100 / 3)
    assert ct.count("independent_work", "s2") == 2  # u6 u7

    ct = build_crosstab(tiny.store, view, "sector")
    assert ct.columns == ["(missing)", "municipality", "ngo"]
    assert ct.column_units == {"ngo": 3, "municipality": 2, "(missing)": 1}
    assert [ct.count("support", c) for c in ct.columns] == [1, 1, 1]
    assert ct.col_pct("support", "ngo") == pytest.approx(100 / 3)

    ct = build_crosstab(tiny.store, view, "group")
    assert ct.count("funding", "A") == 1 and ct.count("funding", "B") == 1
    ct = build_crosstab(tiny.store, view, "speaker")
    assert ct.count("support", "Cara") == 1 and ct.column_units["Bert"] == 2

    with pytest.raises(QualcodeError, match="sector"):
        build_crosstab(tiny.store, view, "age")


def test_cooccurrence(tiny):
    pairs = build_cooccurrence(tiny.store, View(lead="ann"))
    got = {(p.code_a, p.code_b): p for p in pairs}
    assert set(got) == {("funding", "support"), ("prioritisation", "support")}
    assert got[("funding", "support")].jaccard == pytest.approx(1 / (2 + 3 - 1))
    assert got[("prioritisation", "support")].jaccard == pytest.approx(1 / 3)


def test_write_formats(tiny, tmp_path):
    report = build_report(tiny.store, View(coder="ann"))
    text = write(report, "csv")
    assert text is not None
    table = {row["code"]: row for row in csv.DictReader(io.StringIO(text))}
    assert table["support"]["units"] == "3" and table["support"]["share_pct"] == "50.0"
    data = json.loads(write(report, "json") or "")
    assert data["codable_units"] == 6 and data["rows"][0]["code_id"] == "independent_work"
    # ann has coded five of the six codable units (not u7), bob and the
    # reconciled view all six
    assert data["coded_units"] == 5
    assert build_report(tiny.store, View(coder="bob")).coded_units == 6
    assert build_report(tiny.store, View()).coded_units == 6
    md = write(report, "md") or ""
    assert md.splitlines()[0].startswith("| code | label")

    out = tmp_path / "r.xlsx"
    write(build_crosstab(tiny.store, View(coder="ann"), "session"), "xlsx", out)
    from openpyxl import load_workbook

    wb = load_workbook(out)
    ws = wb["by session"]
    cells = [[c.value for c in row] for row in ws.iter_rows()]
    assert cells[0][:4] == ["code", "label", "session", "units"]
    assert ["support", "Support", "s1", 2] in [r[:4] for r in cells]
    with pytest.raises(QualcodeError):
        write(report, "xlsx")


def test_xlsx_exports_survive_control_characters(tiny, tmp_path):
    # what a project imported before import removed them may hold, and what
    # speaker attributes set through the store can hold
    from openpyxl import load_workbook

    from qualcode.unit_export import export_units

    store = tiny.store
    text = "hei\x1b[31m red \x07 bell\x00 ääkköset 👋"
    sid = store.add_session(Session(name="s3", group="C"), Transcript([Utterance(text, "Cara")]))
    (gid,) = store.replace_segments(
        sid,
        [
            Segment(
                session_id=sid,
                seq=0,
                text=text,
                char_start=0,
                char_end=len(text),
                participant_id=store.participant_id("Cara"),
            )
        ],
    )
    store.record_decision(Decision(gid, "support", "ann", "accepted"))
    store.set_attributes("Cara", {"sector": "third\x02sector", "no\x03te": "a\x01b"})

    out = tmp_path / "u.xlsx"
    assert export_units(store, View(coder="ann"), out, "xlsx") > 1
    cells = [[c.value for c in row] for row in load_workbook(out)["coded units"].iter_rows()]
    assert cells[0][3] == "note"
    row = next(r for r in cells if r[0] == "s3")
    assert row[2:5] == ["Cara", "ab", "thirdsector"]
    assert "hei[31m red  bell ääkköset 👋" in row

    out = tmp_path / "r.xlsx"
    write(build_crosstab(store, View(coder="ann"), "sector"), "xlsx", out)
    wide = [[c.value for c in r] for r in load_workbook(out)["by sector (wide)"].iter_rows()]
    assert "thirdsector" in wide[0]


def test_text_that_looks_like_a_formula_stays_text_in_excel(tiny, tmp_path):
    """A coder's edit or a transcript line starting with "=" must not become
    a formula that Excel runs when the file is opened."""
    from openpyxl import load_workbook

    from qualcode.unit_export import export_units

    store = tiny.store
    text = '=HYPERLINK("http://example.org","click") said the coder'
    sid = store.add_session(Session(name="s3", group="=C"), Transcript([Utterance(text, "Cara")]))
    (gid,) = store.replace_segments(sid, [Segment(sid, 0, text, 0, len(text))])
    store.record_decision(Decision(gid, "support", "ann", "accepted"))
    out = tmp_path / "u.xlsx"
    export_units(store, View(coder="ann"), out, "xlsx")
    cells = [c for row in load_workbook(out)["coded units"].iter_rows() for c in row]
    mine = [c for c in cells if isinstance(c.value, str) and c.value.startswith("=")]
    assert {c.value for c in mine} == {text, "=C"}
    assert all(c.data_type == "s" for c in mine)
    out = tmp_path / "r.xlsx"
    write(build_crosstab(store, View(coder="ann"), "group"), "xlsx", out)
    cells = [c for row in load_workbook(out)["by group"].iter_rows() for c in row]
    groups = [c for c in cells if c.value == "=C"]
    assert groups and all(c.data_type == "s" for c in groups)


def test_finished_review_without_codes_counts_as_coding_nothing(tiny):
    store = tiny.store
    u7 = next(s.id for s in store.segments() if s.text == "text of u7")
    # ann finished reviewing u7 and applied nothing (no decision rows)
    store.db.execute(
        "INSERT INTO reviews(segment_id, coder, status, at) VALUES (?, 'ann', 'done', 'now')",
        (u7,),
    )
    assert rows(build_report(store, View(lead="ann")))["hr_management"].units == 0
    assert rows(build_report(store, View(lead=None)))["hr_management"].units == 0
    assert rows(build_report(store, View(lead="bob")))["hr_management"].units == 1
    assert u7 in store.coder_unit_ids("ann")


@pytest.mark.parametrize(
    "view", [View(coder="ann"), View(coder="bob"), View(lead="ann"), View(lead="bob"), View()]
)
def test_units_export_agrees_with_counts(tiny, view):
    from collections import Counter

    from qualcode.unit_export import unit_rows

    header, body = unit_rows(tiny.store, view)
    per_code = Counter(row[header.index("code_id")] for row in body)
    report = build_report(tiny.store, view)
    leaves = {r.code_id: r.units for r in report.rows if r.parent_id is not None}
    assert {c: n for c, n in leaves.items() if n} == dict(per_code)


def _reference_counts(store, lead):
    """The reconciled rule applied unit by unit to the raw tables, in Python."""
    from collections import Counter

    live = {r[0] for r in store.db.execute("SELECT id FROM segments WHERE retired = 0")}
    skipped = set(
        store.db.execute("SELECT segment_id, coder FROM reviews WHERE status = 'skipped'")
    )
    coders: dict[int, set[str]] = {}
    applied: dict[int, dict[str, set[str]]] = {}
    for seg, code, coder, verdict in store.db.execute(
        "SELECT segment_id, code_id, coder, verdict FROM decisions"
    ):
        if (seg, coder) in skipped:
            continue
        coders.setdefault(seg, set()).add(coder)
        if verdict in ("accepted", "added"):
            applied.setdefault(seg, {}).setdefault(code, set()).add(coder)
    for seg, coder in store.db.execute("SELECT segment_id, coder FROM reviews WHERE status='done'"):
        coders.setdefault(seg, set()).add(coder)
    out: Counter = Counter()
    for seg, codes in applied.items():
        if seg not in live:
            continue
        for code, who in codes.items():
            if (lead in who) if lead in coders[seg] else (who == coders[seg]):
                out[code] += 1
    return out


def _combo_counts(store, view):
    from collections import Counter

    out: Counter = Counter()
    for row in store.code_combo_stats(view):
        for code in row.codes:
            out[code] += row.units
    return out


def test_reconciled_view_follows_every_write(tiny):
    """unit_codings is kept by triggers: edits, reviews, undo and deletes."""
    import random

    store = tiny.store
    units = [s.id for s in store.segments()]
    leaves = ["support", "funding", "prioritisation", "volunteers", "hr_management"]
    rng = random.Random(3)
    for step in range(120):
        seg, coder = rng.choice(units), rng.choice(["ann", "bob", "cid"])
        action = rng.random()
        if action < 0.6:
            verdict = rng.choice(["accepted", "added", "rejected"])
            store.record_decision(Decision(seg, rng.choice(leaves), coder, verdict))
        elif action < 0.75:
            store.mark_reviewed(seg, coder, rng.choice(["done", "skipped"]))
        elif action < 0.9:
            store.undo_last(coder)
        else:
            store.db.execute(
                "DELETE FROM decisions WHERE segment_id = ? AND coder = ?", (seg, coder)
            )
        if step % 10 == 0:
            for lead in ("ann", "bob", None):
                assert _combo_counts(store, View(lead=lead)) == _reference_counts(store, lead)
    for lead in ("ann", "bob", "cid", None):
        assert _combo_counts(store, View(lead=lead)) == _reference_counts(store, lead)


def test_unit_codings_migration_backfills_existing_decisions():
    """A project made before migration 3 gets the same per-unit rows as one
    kept by the triggers from the start."""
    import sqlite3

    from qualcode.store.schema import MIGRATIONS

    writes = [
        "INSERT INTO decisions(segment_id, code_id, coder, verdict, decided_at) "
        "VALUES (1, 'a', 'ann', 'accepted', 'now'), (1, 'b', 'bob', 'added', 'now'), "
        "(2, 'a', 'bob', 'rejected', 'now'), (3, 'c', 'ann', 'added', 'now')",
        "INSERT INTO reviews(segment_id, coder, status, at) "
        "VALUES (3, 'bob', 'done', 'now'), (4, 'ann', 'done', 'now'), "
        "(2, 'ann', 'skipped', 'now'), (1, 'ann', 'skipped', 'now')",
    ]

    def unit_rows(db):
        return {
            seg: (set(coders.split("\x1f")), set((pattern or "").split("\x1f")))
            for seg, coders, pattern in db.execute("SELECT * FROM unit_codings")
        }

    old, new = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    for m in MIGRATIONS[:2]:
        m(old)
    for sql in writes:
        old.execute(sql)
    for m in MIGRATIONS[2:]:
        m(old)
    for m in MIGRATIONS:
        m(new)
    for sql in writes:
        new.execute(sql)
    assert unit_rows(old) == unit_rows(new)
    assert unit_rows(new)[3] == ({"ann", "bob"}, {"c\x1eann"})
    assert unit_rows(new)[4] == ({"ann"}, {""})
    # ann skipped unit 1 (migration 5): bob's coding alone
    assert unit_rows(new)[1] == ({"bob"}, {"b\x1ebob"})


def test_a_skipped_unit_is_not_the_coders_coding_yet(tiny):
    """A code ticked before pressing skip neither counts nor vetoes: the
    coder who finished the unit decides it until the skipper finishes too."""
    from qualcode.agree import compute_agreement

    store = tiny.store
    seg = store.segments()[0].id
    for code in ("support", "funding"):
        store.record_decision(Decision(seg, code, "bob", "accepted"))
    store.mark_reviewed(seg, "bob")
    store.record_decision(Decision(seg, "support", "cid", "accepted"))
    store.mark_reviewed(seg, "cid", "skipped")

    def on_unit(view):
        return {r.code_id for r in store.unit_codings(view) if r.segment_id == seg}

    assert on_unit(View()) == {"support", "funding"}
    assert on_unit(View(coder="cid")) == set()
    assert seg not in store.coder_unit_ids("cid")
    assert (seg, "support") not in store.applied_pairs("cid")
    assert _combo_counts(store, View()) == _reference_counts(store, None)
    assert (seg, "support", "cid", "accepted") not in store.all_decisions()
    with pytest.raises(QualcodeError, match="has coded no units"):
        compute_agreement(store, ["bob", "cid"])
    # cid comes back and finishes it: support only, so funding is vetoed
    store.mark_reviewed(seg, "cid")
    assert on_unit(View()) == {"support"}
    assert on_unit(View(coder="cid")) == {"support"}
    assert _combo_counts(store, View()) == _reference_counts(store, None)
    assert compute_agreement(store, ["bob", "cid"]).units == 1


def test_a_code_that_left_the_codebook_is_marked(tiny):
    """Its decisions still count, and the report says it is no longer in the
    codebook instead of listing it like the others."""
    from qualcode.codebook import project_codebook

    book = project_codebook(tiny).flat_codes()
    tiny.store.sync_codes([c for c in book if c.id != "funding"])
    r = rows(build_report(tiny.store, View(coder="ann")))
    assert not r["funding"].active and r["funding"].units == 2
    assert r["support"].active


def test_a_coder_who_only_finished_units_without_codes_has_a_view(tiny):
    from qualcode.report import decision_view

    unit = tiny.store.segments(codable_only=True)[0].id
    tiny.store.mark_reviewed(unit, "dora")
    assert decision_view(tiny.store, None, "dora") == View(coder="dora")
    with pytest.raises(QualcodeError, match="no decisions by coder 'nobody'"):
        decision_view(tiny.store, None, "nobody")


def test_coder_names_are_read_in_one_form_and_a_misspelt_lead_is_refused(tiny):
    """A lead spelt "ann " or "Ann" silently did not count; a --coder typed
    decomposed (a Mac's "ä") found no decisions."""
    import unicodedata

    from qualcode.report import decision_view

    store = tiny.store
    seg = store.segments()[0].id
    store.record_decision(Decision(seg, "funding", unicodedata.normalize("NFC", "Päivi"), "added"))
    view = decision_view(store, None, unicodedata.normalize("NFD", "Päivi"))
    assert view.coder == unicodedata.normalize("NFC", "Päivi")
    assert decision_view(store, " ann ").lead == "ann"
    with pytest.raises(QualcodeError, match="lead_coder 'Ann' is spelt 'ann' in this project"):
        decision_view(store, "Ann")
