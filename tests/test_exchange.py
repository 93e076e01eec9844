"""REFI-QDA import of real NVivo, MAXQDA and ATLAS.ti exports, safety,
export validity against the official schema, and round trips."""

from __future__ import annotations

import re
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qualcode.errors import FormatError, QualcodeError
from qualcode.exchange import (
    ExportOptions,
    ImportOptions,
    export_codebook_qdc,
    export_qdpx,
    import_codebook,
    import_qdpx,
)
from qualcode.exchange.textmap import build_text, decode_source, offset_units
from qualcode.models import Decision, Segment, Session, Transcript, Utterance
from qualcode.project import init_project
from qualcode.transcript import plain_text

REFI = Path(__file__).parent / "data" / "refi-qda"
SCHEMAS = Path(__file__).parent.parent / "qualcode" / "schemas"


@pytest.fixture
def empty(tmp_path: Path):
    p = init_project(tmp_path / "empty", codebook=None, language="en")
    yield p
    p.close()


def _schema(name: str):
    import xmlschema

    return xmlschema.XMLSchema(str(SCHEMAS / name))


# -- real files -------------------------------------------------------------


def test_nvivo_counts_and_selections_land_on_the_right_text(empty) -> None:
    path = REFI / "nvivo-12-oltas.qdpx"
    result = import_qdpx(empty, path)
    store = empty.store
    assert len(result.sessions) == 2
    assert len(store.sessions()) == 2
    assert len(store.codes()) == 152
    assert result.n_selections == 303 and result.n_codings == 303
    assert store.count_decisions() == 303
    assert {d.verdict for d in store.decisions()} == {"added"}
    assert store.coders() == ["Gergo"]  # the User who made the codings
    # NVivo counts UTF-16 units after the BOM, CRLF as two: found by fitting
    assert result.offset_units["videos_10_selected"] == "utf16"

    session = store.get_session("videos_10_selected")
    segs = {g.id: g for g in store.segments(session.id)}
    texts = [segs[d.segment_id].text for d in store.decisions() if d.segment_id in segs]
    # selections checked by reading the source file by hand
    assert "Záhertorta egy alkesz nulla" in texts
    assert "tudatos hal äl reklám, hatalmas árulás" in texts
    assert any(t.startswith("Senkit nem lehet kötelezni oltásra, ilyet csak ostoba") for t in texts)
    # every unit is exactly its offsets in the session's plain text
    plain = plain_text(store.utterances(session.id))
    assert all(plain[g.char_start : g.char_end] == g.text for g in segs.values())

    # and every selection equals an independent reading of the source file
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("project.qde").decode("utf-8")
        raw = zf.read("Sources/68bbdc14-c361-4432-b4dd-ae1dbfc12890.txt")
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    units = raw.decode("utf-8-sig").encode("utf-16-le")
    block = xml[xml.index('<TextSource guid="68bbdc14') :]
    expected = Counter(
        " ".join(units[2 * int(a) : 2 * int(b)].decode("utf-16-le").split())
        for a, b in re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', block)
    )
    assert sum(expected.values()) == 303
    assert Counter(" ".join(t.split()) for t in texts) == expected


def test_maxqda_nested_codes_and_lowercase_sources(empty) -> None:
    path = REFI / "maxqda-24-themes.qdpx"
    with zipfile.ZipFile(path) as zf:
        assert any(n.startswith("sources/") for n in zf.namelist())
    result = import_qdpx(empty, path)
    codes = empty.store.codes()
    assert len(codes) == 307 and len(result.codes_added) == 307
    by_label = {c.label: c for c in codes}
    parent = by_label["Additional Themes and Ideas"]
    assert parent.parent_id is None and parent.color == "#ef8256"
    child = by_label["THEME - Affordances"]
    assert child.parent_id == parent.id
    assert "affordances" in child.description["en"]
    assert sum(1 for c in codes if c.parent_id) > 250
    sessions = empty.store.sessions()
    assert len(sessions) == 10
    assert all(s.n_utterances > 0 for s in sessions)
    texts = [plain_text(empty.store.utterances(s.id or 0)) for s in sessions]
    assert sum(t.startswith("Personal Authentic, Expansively Framed") for t in texts) == 1
    # a title with a colon is not a speaker turn
    assert any(t.startswith("Mapping the Complexity of Learning: A Learning") for t in texts)
    assert "Mapping the Complexity of Learning" not in {p.name for p in empty.store.participants()}


def test_atlasti_blank_and_codebook(empty, tmp_path: Path) -> None:
    blank = import_qdpx(empty, REFI / "atlasti-23-blank.qdpx")
    assert blank.sessions == [] and blank.n_codes == 0
    assert empty.store.codes() == []
    book = import_qdpx(empty, REFI / "atlasti-23-codebook.qdpx")
    codes = {c.label: c for c in empty.store.codes()}
    assert book.n_codes == 3 and len(codes) == 3
    assert codes["2022-05-10T02:05:59Z 19e4dce"].parent_id == codes["Commits"].id == "commits"


def test_invalid_namespace_refused_with_schema_error(empty) -> None:
    path = REFI / "invalid-namespace.qde"
    with pytest.raises(FormatError) as e:
        import_qdpx(empty, path)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(str(path))
    assert "schema" in msg and "urn:QDA-XML:codebook:0:4" in msg
    assert empty.store.sessions() == [] and empty.store.codes() == []


def test_xml_external_entity_refused(empty, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    xml = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"><CodeBook><Codes>'
        '<Code guid="11111111-1111-1111-1111-111111111111" name="&xxe;" isCodable="true"/>'
        "</Codes></CodeBook></Project>"
    )
    qdpx = tmp_path / "xxe.qdpx"
    with zipfile.ZipFile(qdpx, "w") as zf:
        zf.writestr("project.qde", xml)
    with pytest.raises(FormatError, match="DTD or entities") as e:
        import_qdpx(empty, qdpx)
    assert "xxe.qdpx" in str(e.value)
    assert empty.store.codes() == []


def test_broken_xml_names_the_problem_once_and_what_to_do(tmp_path: Path) -> None:
    from qualcode.exchange.refi import read_codebook

    cut = tmp_path / "cut.qdc"
    cut.write_text('<?xml version="1.0"?><CodeBook><Codes>', encoding="utf-8")
    with pytest.raises(FormatError) as e:
        read_codebook(cut)
    message = str(e.value)
    assert message.startswith(f"{cut}:1: not well-formed XML (no element found); export")
    assert message.count("well-formed") == 1


def test_zip_slip_qdpx_refused(empty, tmp_path: Path) -> None:
    qdpx = tmp_path / "slip.qdpx"
    with zipfile.ZipFile(qdpx, "w") as zf:
        zf.writestr("project.qde", (REFI / "invalid-namespace.qde").read_bytes())
        zf.writestr("../../outside.txt", b"x")
    with pytest.raises(FormatError, match="escape"):
        import_qdpx(empty, qdpx)
    assert not (tmp_path.parent / "outside.txt").exists()


# -- offsets ----------------------------------------------------------------


def test_text_mapping_bom_crlf_blank_lines_and_speakers() -> None:
    raw = "\ufeffAnna: Hei kaikki\r\n\r\n  Ben:   toinen rivi  \r\nloppu 😀 teksti"
    text = decode_source(raw.encode("utf-8"))
    assert not text.startswith("\ufeff")
    built = build_text(text)
    assert built.plain == "Anna: Hei kaikki\nBen: toinen rivi\nloppu 😀 teksti"
    assert [u.speaker for u in built.utterances] == ["Anna", "Ben", None]
    a = text.index("toinen")
    s, e = built.span(a, a + len("toinen rivi"))
    assert built.plain[s:e] == "toinen rivi"
    # a selection over the blank line keeps both lines' text
    s, e = built.span(text.index("kaikki"), text.index("toinen") + 6)
    assert built.plain[s:e] == "kaikki\nBen: toinen"
    # after the emoji UTF-16 and code point offsets differ by one
    cp = text.index("teksti")
    assert offset_units(text, [(cp, cp + 6)]) == "codepoint"
    assert offset_units(text, [(cp + 1, cp + 7)]) == "utf16"


# -- export -----------------------------------------------------------------


@pytest.fixture
def coded(project, tmp_path: Path):
    """Two sessions, two coders, attributes, a memo and a recording."""
    store = project.store
    media = tmp_path / "rec.wav"
    media.write_bytes(b"RIFF")
    utts = [
        Utterance("Meillä ei ole ketään, jolle työtä voisi jakaa.", "Anna", 0.0, 4.0),
        Utterance("Hallitus on työnantaja, mutta kaukana.", "Ben", 4.0, 7.5),
        Utterance("Rahoitus loppuu ensi vuonna & <vapaaehtoiset> väsyvät.", "Anna", 7.5, 12.0),
    ]
    s1 = store.add_session(
        Session(
            name="ryhmä1-istunto1",
            group="ryhmä1",
            language="fi",
            duration=12.5,
            media_path=str(media),
        ),
        Transcript(utts),
    )
    s2 = store.add_session(
        Session(name="notes"), Transcript([Utterance("Ilman puhujaa."), Utterance("Toinen.")])
    )
    store.set_attributes("Anna", {"sector": "NGO", "size": "1"})
    for sid in (s1, s2):
        us = store.utterances(sid)
        plain = plain_text(us)
        segs = []
        pos = 0
        for i, u in enumerate(us):
            start = pos + (len(u.speaker) + 2 if u.speaker else 0)
            segs.append(
                Segment(
                    session_id=sid,
                    seq=i,
                    text=u.text,
                    char_start=start,
                    char_end=start + len(u.text),
                    speaker=u.speaker,
                    utterance_id=u.id,
                    start=u.start,
                    end=u.end,
                )
            )
            assert plain[start : start + len(u.text)] == u.text
            pos = start + len(u.text) + 1
        store.replace_segments(sid, segs)
    g = store.segments(s1)
    store.record_decision(Decision(g[0].id, "work_sharing", "maria", "accepted"))
    store.record_decision(Decision(g[1].id, "hr_management", "maria", "added"))
    store.record_decision(Decision(g[1].id, "support", "maria", "rejected"))
    store.record_decision(Decision(g[2].id, "funding", "maria", "accepted"))
    store.record_decision(Decision(g[2].id, "volunteers", "jussi", "added"))
    store.record_decision(Decision(store.segments(s2)[1].id, "support", "jussi", "added"))
    store.add_memo("maria", "Kiinnostava: hallitus työnantajana.", segment_id=g[1].id)
    return project


def _qde(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read("project.qde")


def test_export_validates_and_contains_everything(coded, tmp_path: Path) -> None:
    out = tmp_path / "out.qdpx"
    counts = export_qdpx(coded, out)
    xml = _qde(out)
    _schema("Project.xsd").validate(xml.decode("utf-8"))  # raises if invalid
    assert counts["sessions"] == 2 and counts["codings"] == 5 and counts["selections"] == 4
    assert counts["users"] == 2 and counts["notes"] == 1
    # maria rejected support on g[1] but added hr_management there: coded;
    # no unit was finished with no code at all, so nothing is left out
    assert counts["uncoded"] == 0
    text = xml.decode("utf-8")
    assert text.count("<PlainTextSelection") == 4  # the rejected decision is not a coding
    assert 'typeOfVariable="Text"' in text and "<TextValue>NGO</TextValue>" in text
    assert "<AudioSource" in text and "absolute:///" in text and "<SyncPoint" in text
    assert "Kiinnostava: hallitus työnantajana." in text
    with zipfile.ZipFile(out) as zf:
        names = [n for n in zf.namelist() if n.startswith("sources/")]
        assert len(names) == 2
        bodies = {zf.read(n).decode("utf-8") for n in names}
    store = coded.store
    s1 = store.get_session("ryhmä1-istunto1")
    assert plain_text(store.utterances(s1.id)) in bodies
    # a selection's offsets point at the unit's text in the exported file
    body = plain_text(store.utterances(s1.id))
    block = text[text.index('name="ryhmä1-istunto1" plainTextPath') :]
    m = re.search(r'startPosition="(\d+)" endPosition="(\d+)"', block)
    assert m and body[int(m[1]) : int(m[2])] == "Meillä ei ole ketään, jolle työtä voisi jakaa."


def test_export_carries_corrected_unit_texts_and_moves_the_selections(
    coded, tmp_path: Path
) -> None:
    """A coder's correction of a unit is in the exported text, and every
    coded selection after it still covers exactly its unit's words."""
    store = coded.store
    s1 = store.get_session("ryhmä1-istunto1")
    first = store.segments(s1.id)[0]
    fixed = "Meillä ei ole ketään kenelle työtä voisi jakaa, ei ketään."
    store.edit_segment_text(first.id, "jussi", fixed)
    out = tmp_path / "fixed.qdpx"
    export_qdpx(coded, out)
    text = _qde(out).decode("utf-8")
    with zipfile.ZipFile(out) as zf:
        bodies = [zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("sources/")]
    [body] = [b for b in bodies if fixed in b]
    block = text[text.index('name="ryhmä1-istunto1" plainTextPath') :]
    block = block[: block.index("</TextSource>")]
    spans = re.findall(r'startPosition="(\d+)" endPosition="(\d+)"', block)
    units = {g.text for g in store.segments(s1.id)}
    assert spans and all(body[int(a) : int(b)] in units for a, b in spans)
    assert fixed in {body[int(a) : int(b)] for a, b in spans}


def test_guids_are_uuid5() -> None:
    import uuid

    from qualcode.exchange.qdpx_write import _NS, guid

    for key in ("work_sharing", "ryhmä1:12", 7):
        assert guid("proj", "code", key) == str(uuid.uuid5(_NS, f"proj\x1fcode\x1f{key}")).upper()


def test_export_is_deterministic_and_coder_filter(coded, tmp_path: Path) -> None:
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    export_qdpx(coded, a)
    export_qdpx(coded, b)

    def strip(x: bytes) -> str:
        return re.sub(r'(creation|modified)DateTime="[^"]+"', "", x.decode("utf-8"))

    assert strip(_qde(a)) == strip(_qde(b))
    only = tmp_path / "jussi.qdpx"
    counts = export_qdpx(coded, only, ExportOptions(coder="jussi"))
    assert counts["codings"] == 2 and counts["notes"] == 0 and counts["users"] == 1
    assert 'name="maria"' not in _qde(only).decode("utf-8")  # nor her memo
    with pytest.raises(QualcodeError, match="nobody"):
        export_qdpx(coded, tmp_path / "x.qdpx", ExportOptions(coder="nobody"))
    with pytest.raises(QualcodeError, match="cannot write"):
        export_qdpx(coded, tmp_path / "no" / "such" / "dir.qdpx")
    assert not (tmp_path / "x.qdpx").exists()


def test_pseudonymized_export_masks_names_and_keeps_offsets(coded, tmp_path: Path) -> None:
    store = coded.store
    s2 = store.get_session("notes")
    # a unit whose text names a participant and has an e-mail address
    store.add_session(
        Session(name="s3"),
        Transcript([Utterance("Kysy Annalta, anna@example.org, hän tietää.", "Ben")]),
    )
    s3 = store.get_session("s3")
    u = store.utterances(s3.id or 0)[0]
    store.replace_segments(
        s3.id or 0,
        [Segment(s3.id or 0, 0, u.text, 5, 5 + len(u.text), utterance_id=u.id)],
    )
    g = store.segments(s3.id)[0]
    store.record_decision(Decision(g.id or 0, "support", "maria", "added"))
    out = tmp_path / "p.qdpx"
    export_qdpx(coded, out, ExportOptions(pseudonymize=True))
    with zipfile.ZipFile(out) as zf:
        everything = "".join(zf.read(n).decode("utf-8") for n in zf.namelist())
        xml = zf.read("project.qde").decode("utf-8")
        body = next(
            zf.read(n).decode("utf-8")
            for n in zf.namelist()
            if zf.read(n).decode("utf-8").startswith("P2: Kysy")
        )
    _schema("Project.xsd").validate(xml)
    assert "Anna" not in everything and "Ben" not in everything
    assert "anna@example.org" not in everything
    assert body == "P2: Kysy P1, [email], hän tietää."
    # the recording is left out; the listed speakers are the pseudonyms
    assert "AudioSource" not in xml and "ryhmä1-istunto1.wav" not in everything
    assert 'speakers: ["P2"]' in xml
    block = xml[xml.index('name="s3"') :]
    m = re.search(r'startPosition="(\d+)" endPosition="(\d+)"', block)
    assert m and body[int(m[1]) : int(m[2])] == "Kysy P1, [email], hän tietää."
    assert s2.n_utterances == 2


def test_pseudonymized_export_masks_session_and_group_names(coded, tmp_path: Path) -> None:
    """A session or group named for a participant would name them in every
    tool that opens the file, and in the units export."""
    from qualcode.store.reports import View
    from qualcode.unit_export import unit_rows

    store = coded.store
    store.add_session(
        Session(name="haastattelu-Anna", group="Annan ryhmä"),
        Transcript([Utterance("Rahat loppuivat.", "Anna")]),
    )
    s = store.get_session("haastattelu-Anna")
    u = store.utterances(s.id or 0)[0]
    store.replace_segments(
        s.id or 0, [Segment(s.id or 0, 0, u.text, 6, 6 + len(u.text), utterance_id=u.id)]
    )
    store.record_decision(Decision(store.segments(s.id)[0].id or 0, "funding", "maria", "added"))
    out = tmp_path / "p.qdpx"
    export_qdpx(coded, out, ExportOptions(pseudonymize=True))
    xml = _qde(out).decode("utf-8")
    _schema("Project.xsd").validate(xml)
    assert "Anna" not in xml
    assert 'name="haastattelu-P1"' in xml and "group: P1 ryhmä" in xml
    header, rows = unit_rows(store, View(coder="maria"), pseudonymize=True)
    mine = [r for r in rows if r[header.index("code_id")] == "funding"]
    assert ["haastattelu-P1", "P1 ryhmä"] in [r[:2] for r in mine]
    assert not any("Anna" in str(cell) for r in mine for cell in r)


def test_round_trip_same_codes_sources_and_codings(coded, tmp_path: Path) -> None:
    out = tmp_path / "rt.qdpx"
    export_qdpx(coded, out)
    fresh = init_project(tmp_path / "fresh", codebook=None, language="fi")
    try:
        result = import_qdpx(fresh, out)
        assert sorted(result.sessions) == ["notes", "ryhmä1-istunto1"]

        def codes(p):
            # names travel in the project's language (Finnish here)
            cs = p.store.codes(include_inactive=True)
            label = {c.id: c.labels.get("fi", c.label) for c in cs}
            return {(label[c.id], label.get(c.parent_id or ""), c.color) for c in cs}

        assert codes(fresh) == codes(coded)

        def texts(p):
            return {s.name: plain_text(p.store.utterances(s.id or 0)) for s in p.store.sessions()}

        assert texts(fresh) == texts(coded)

        def codings(p):
            label = {
                c.id: c.labels.get("fi", c.label) for c in p.store.codes(include_inactive=True)
            }
            segs = {g.id: g for g in p.store.segments()}
            names = {s.id: s.name for s in p.store.sessions()}
            return sorted(
                (
                    names[segs[d.segment_id].session_id],
                    segs[d.segment_id].char_start,
                    segs[d.segment_id].char_end,
                    label[d.code_id],
                    d.coder,
                )
                for d in p.store.decisions()
                if d.verdict in ("accepted", "added")
            )

        assert codings(fresh) == codings(coded)
        assert len(codings(fresh)) == 5
        # speakers and their attributes travel as cases
        assert fresh.store.get_participant("Anna").attributes == {"sector": "NGO", "size": "1"}
        s = fresh.store.get_session("ryhmä1-istunto1")
        assert [u.speaker for u in fresh.store.utterances(s.id)] == ["Anna", "Ben", "Anna"]
        # the recording and its sync points come back on the same session
        assert s.media_path == coded.store.get_session("ryhmä1-istunto1").media_path
        assert [u.start for u in fresh.store.utterances(s.id)] == [0.0, 4.0, 7.5]
        # the group and language come back from the source's description
        before = coded.store.get_session("ryhmä1-istunto1")
        assert (s.group, s.language, s.duration) == ("ryhmä1", "fi", 12.5)
        assert (before.group, before.language, before.duration) == ("ryhmä1", "fi", 12.5)
        # and the group is a document set for the other tools
        text = _qde(out).decode("utf-8")
        assert '<Set guid="' in text and 'name="ryhmä1"' in text and "<MemberSource " in text
    finally:
        fresh.close()


def test_round_trip_keeps_memos_on_their_units(coded, tmp_path: Path) -> None:
    out = tmp_path / "rt.qdpx"
    session = coded.store.sessions()[0]
    coded.store.add_memo("maria", "Koko kerta: kiireen tuntua.", session_id=session.id)
    # a memo on a unit nobody coded travels too
    uncoded = next(g for g in coded.store.segments() if not coded.store.decisions(segment_id=g.id))
    coded.store.add_memo("jussi", "Palataan tähän.", segment_id=uncoded.id)
    export_qdpx(coded, out)
    fresh = init_project(tmp_path / "fresh", codebook=None, language="fi")
    try:
        result = import_qdpx(fresh, out)
        assert result.n_notes == 3 and result.n_memos == 3 and result.n_notes_skipped == 0
        assert "3 memo(s)" in str(result)
        [back] = [m for m in fresh.store.memos() if m.coder == "jussi"]
        assert fresh.store.get_segment(back.segment_id or 0).text == uncoded.text
        [whole] = [m for m in fresh.store.memos() if m.segment_id is None]
        names = {s.id: s.name for s in fresh.store.sessions()}
        assert (names[whole.session_id], whole.coder, whole.text) == (
            session.name,
            "maria",
            "Koko kerta: kiireen tuntua.",
        )

        def memos(p):
            segs = {g.id: g for g in p.store.segments()}
            names = {s.id: s.name for s in p.store.sessions()}
            return [
                (
                    names[segs[m.segment_id].session_id],
                    segs[m.segment_id].char_start,
                    segs[m.segment_id].char_end,
                    segs[m.segment_id].text,
                    m.coder,
                    m.text,
                )
                for m in p.store.memos()
                if m.segment_id is not None
            ]

        assert sorted(memos(fresh)) == sorted(memos(coded))
        [(_, _, _, text, coder, memo)] = [m for m in memos(fresh) if m[4] == "maria"]
        assert text == "Hallitus on työnantaja, mutta kaukana."
        assert (coder, memo) == ("maria", "Kiinnostava: hallitus työnantajana.")
        [m] = [m for m in fresh.store.memos() if m.segment_id is not None and m.coder == "maria"]
        assert fresh.store.memo(m.segment_id or 0, "maria") == memo  # as review shows it
        assert m.session_id == fresh.store.get_session("ryhmä1-istunto1").id
    finally:
        fresh.close()


# -- notes from other tools ---------------------------------------------------

MARIA, JUSSI = "00000000-0000-4000-8000-0000000000a1", "00000000-0000-4000-8000-0000000000a2"


def _g(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def _hand_qdpx(
    tmp_path: Path,
    selections: str,
    notes: str,
    *,
    source_notes: str = "",
    code_notes: str = "",
    files: dict[str, bytes] | None = None,
) -> Path:
    """A minimal .qdpx as another tool writes it: users Maria and Jussi, one
    code, one text source (``Anna: Rahoitus loppuu.`` at 6-22, ``Hallitus
    on kaukana.`` at 28-48), ``selections`` in it, ``notes`` in Notes."""
    text = "Anna: Rahoitus loppuu.\nBen: Hallitus on kaukana."
    xml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Project xmlns="urn:QDA-XML:project:1.0" name="hand" origin="Tool 1.0">'
        f'<Users><User guid="{MARIA}" name="Maria"/><User guid="{JUSSI}" name="Jussi"/></Users>'
        f'<CodeBook><Codes><Code guid="{_g(1)}" name="Talous" isCodable="true">{code_notes}'
        "</Code></Codes></CodeBook>"
        f'<Sources><TextSource guid="{_g(2)}" name="haastattelu">'
        f"<PlainTextContent>{text}</PlainTextContent>{selections}{source_notes}"
        "</TextSource></Sources>"
        f"<Notes>{notes}</Notes></Project>"
    )
    _schema("Project.xsd").validate(xml)  # the test file itself is valid QDA-XML
    path = tmp_path / "hand.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", xml)
        for name, data in (files or {}).items():
            zf.writestr(name, data)
    return path


def _selection(n: int, start: int, end: int, refs: list[int], coded: bool = True) -> str:
    coding = (
        f'<Coding guid="{_g(100 + n)}" creatingUser="{MARIA}">'
        f'<CodeRef targetGUID="{_g(1)}"/></Coding>'
        if coded
        else ""
    )
    return (
        f'<PlainTextSelection guid="{_g(n)}" startPosition="{start}" endPosition="{end}">'
        + coding
        + "".join(f'<NoteRef targetGUID="{_g(r)}"/>' for r in refs)
        + "</PlainTextSelection>"
    )


def _note(n: int, user: str | None, text: str | None = None, path: str | None = None) -> str:
    attrs = f'guid="{_g(n)}" name="note {n}"' + (f' creatingUser="{user}"' if user else "")
    if path:
        return f'<Note {attrs} plainTextPath="{path}"/>'
    return f"<Note {attrs}><PlainTextContent>{text}</PlainTextContent></Note>"


def _unit_memos(p) -> list[tuple[str, str, str]]:
    """(unit text, coder, memo text) of every memo on a unit."""
    segs = {g.id: g for g in p.store.segments()}
    return sorted(
        (segs[m.segment_id].text, m.coder, m.text)
        for m in p.store.memos()
        if m.segment_id is not None
    )


def test_note_on_a_selection_becomes_its_users_memo_on_the_unit(empty, tmp_path: Path) -> None:
    path = _hand_qdpx(
        tmp_path,
        _selection(10, 6, 22, [20]),
        _note(20, MARIA, "Rahoitus huolettaa kaikkia."),
    )
    result = import_qdpx(empty, path)
    assert result.n_memos == 1 and result.n_notes == 1 and result.n_notes_skipped == 0
    assert _unit_memos(empty) == [("Rahoitus loppuu.", "Maria", "Rahoitus huolettaa kaikkia.")]
    [d] = empty.store.decisions()
    [m] = empty.store.memos()
    assert m.segment_id == d.segment_id  # the same unit as the coding
    # --coder records memos under that coder, like codings
    other = init_project(tmp_path / "other", codebook=None)
    try:
        import_qdpx(other, path, ImportOptions(coder="anna"))
        assert _unit_memos(other) == [("Rahoitus loppuu.", "anna", "Rahoitus huolettaa kaikkia.")]
    finally:
        other.close()


def test_notes_of_one_user_on_one_unit_are_joined(empty, tmp_path: Path) -> None:
    path = _hand_qdpx(
        tmp_path,
        # two selections of the same stretch (two tools' habits), one noted
        # twice; an annotation without a code still becomes a unit
        _selection(10, 6, 22, [20, 21])
        + _selection(11, 6, 22, [22, 20])
        + _selection(12, 28, 48, [23], coded=False),
        _note(20, MARIA, "Ensimmäinen.")
        + _note(21, MARIA, path="internal://n21.txt")
        + _note(22, JUSSI, "Jussin huomio.")
        + _note(23, None, "Merkintä."),
        files={"sources/n21.txt": "\ufeffToinen\r\nrivi.\r\n".encode()},
    )
    result = import_qdpx(empty, path)
    assert _unit_memos(empty) == [
        ("Hallitus on kaukana.", "imported", "Merkintä."),
        ("Rahoitus loppuu.", "Jussi", "Jussin huomio."),
        ("Rahoitus loppuu.", "Maria", "Ensimmäinen.\n\nToinen\nrivi."),
    ]
    assert result.n_memos == 3 and result.n_notes == 4 and result.n_notes_skipped == 0
    assert result.n_selections == 2 and result.n_codings == 1
    assert len(empty.store.segments()) == 2


def test_notes_on_a_source_or_on_nothing(empty, tmp_path: Path) -> None:
    path = _hand_qdpx(
        tmp_path,
        _selection(10, 6, 22, [20]),
        _note(20, MARIA, "Yksikön muistio.")
        + _note(21, JUSSI, "Koko haastattelusta.")
        + _note(22, JUSSI, "Ei viittauksia.")
        + _note(23, MARIA, "Koodin muistio.")
        + _note(24, MARIA, "   "),
        source_notes=f'<NoteRef targetGUID="{_g(21)}"/><NoteRef targetGUID="{_g(24)}"/>',
        code_notes=f'<NoteRef targetGUID="{_g(23)}"/>',
    )
    result = import_qdpx(empty, path)
    # a note on the source is a memo on the session; one referenced from
    # nothing, from a code (no place in qualcode) or empty is counted
    assert result.n_notes == 5 and result.n_memos == 2 and result.n_notes_skipped == 3
    assert "3 note(s) not imported" in str(result)
    session = empty.store.get_session("haastattelu")
    memos = {m.text: m for m in empty.store.memos()}
    assert set(memos) == {"Yksikön muistio.", "Koko haastattelusta."}
    whole = memos["Koko haastattelusta."]
    assert (whole.segment_id, whole.session_id, whole.coder) == (None, session.id, "Jussi")
    assert memos["Yksikön muistio."].session_id == session.id


def test_codebook_qdc_validates_and_reimports(project, empty, tmp_path: Path) -> None:
    from qualcode.codebook import load_codebook

    qdc = tmp_path / "emessi.qdc"
    n = export_codebook_qdc(project, qdc)
    original = project.store.codes()
    assert n == len(original) > 0
    _schema("Codebook.xsd").validate(qdc.read_text(encoding="utf-8"))
    target, change = import_codebook(empty, qdc)
    assert target.parent == empty.root / "codebooks" and change.applied
    book = load_codebook(target)
    assert len(book.flat_codes()) == n
    # the names are the project's (Finnish) labels
    label = {c.id: c.labels["fi"] for c in original}
    got = {c.label: c for c in empty.store.codes()}
    for c in original:
        g = got[label[c.id]]
        assert g.color == c.color
        assert (
            got_parent := g.parent_id and next(x.label for x in got.values() if x.id == g.parent_id)
        ) == (label[c.parent_id] if c.parent_id else None), got_parent
    assert empty.config.codebook == target.relative_to(empty.root).as_posix()


def test_codebook_round_trip_keeps_ids_and_never_overwrites(project, tmp_path: Path) -> None:
    """Export the codebook for NVivo, rename a code there, import it back: the
    codes keep their ids (and decisions), and the codebook in use is not
    overwritten, not even by --dry-run."""
    ids = [c.id for c in project.store.codes()]
    project.store.add_session(
        Session(name="s1"), Transcript(utterances=[Utterance(text="Palkkaus on vaikeaa.")])
    )
    sid = project.store.get_session("s1").id
    [unit] = project.store.replace_segments(sid, [Segment(sid, 0, "Palkkaus on vaikeaa.", 0, 20)])
    project.store.record_decisions([Decision(unit, "hr_management", "anna", "added")])
    in_use = project.codebook_path
    before = in_use.read_bytes()
    qdc = tmp_path / "emessi.qdc"
    export_codebook_qdc(project, qdc)
    text = qdc.read_text(encoding="utf-8")
    old = next(c.labels["fi"] for c in project.store.codes() if c.id == "hr_management")
    assert f'name="{old}"' in text  # written in the project's language
    qdc.write_text(text.replace(f'name="{old}"', 'name="Henkilöstöasiat"'), encoding="utf-8")

    target, change = import_codebook(project, qdc, dry_run=True)
    assert target == in_use.with_name("emessi-2.yaml") and not change.applied
    assert not target.exists() and change.path == "codebooks/emessi-2.yaml"
    assert sorted(p.name for p in in_use.parent.iterdir()) == ["emessi-coded.csv", "emessi.yaml"]
    assert in_use.read_bytes() == before
    with pytest.raises(QualcodeError, match="already exists; give --out a new file name"):
        import_codebook(project, qdc, out=in_use)
    assert in_use.read_bytes() == before

    target, change = import_codebook(project, qdc)
    assert target == in_use.with_name("emessi-2.yaml") and change.applied
    assert change.added == [] and change.removed == {}
    assert [c.id for c in project.store.codes()] == ids
    assert {c.id: c.labels["fi"] for c in project.store.codes()}["hr_management"] == (
        "Henkilöstöasiat"
    )
    [kept] = project.store.decisions(coder="anna")
    assert kept.code_id == "hr_management" and in_use.read_bytes() == before


def test_codebook_round_trip_keeps_what_refi_qda_cannot_carry(project, tmp_path: Path) -> None:
    """Keywords, examples, other-language labels and descriptions and the
    coded units stay with the codes that keep their ids: without them the
    suggestions would quietly fall back to nothing after a trip via NVivo."""
    from qualcode.codebook import load_codebook, project_codebook

    old = project_codebook(project)
    qdc = tmp_path / "emessi.qdc"
    export_codebook_qdc(project, qdc)
    qdc.write_text(
        qdc.read_text(encoding="utf-8").replace(
            'name="Henkilöstöjohtaminen"', 'name="Henkilöstöasiat"'
        ),
        encoding="utf-8",
    )
    target, change = import_codebook(project, qdc)
    new = load_codebook(target)
    assert (new.name, new.version) == (old.name, "2") and change.version == "2"
    assert new.coded_units == old.coded_units and change.notes == []
    for code in old.iter_codes():
        got = new.get(code.id)
        assert (got.keywords, got.examples, got.description) == (
            code.keywords,
            code.examples,
            code.description,
        )
    hr = new.get("hr_management")
    assert hr.label == {**old.get("hr_management").label, "fi": "Henkilöstöasiat"}
    assert change.relabelled == {
        "hr_management": {"fi": ["Henkilöstöjohtaminen", "Henkilöstöasiat"]}
    }

    # a code deleted in the other tool: the coded units use it, so they stay
    # behind, and the change says so
    text = qdc.read_text(encoding="utf-8")
    start = text.index('<Code guid="', text.index('name="Henkilöstöasiat"') - 60)
    end = text.index("</Code>", start) + len("</Code>")
    qdc.write_text(text[:start] + text[end:], encoding="utf-8")
    target, change = import_codebook(project, qdc, dry_run=True)
    assert not target.exists()
    [note] = change.notes
    assert note.startswith("Coded units emessi-coded.csv not carried over") and "recode" in note


def test_codebook_import_leaves_an_exported_inactive_code_inactive(project, tmp_path: Path) -> None:
    """A code that left the codebook goes out as not codable in a .qdpx and
    must not come back as a second, active copy (funding_2)."""
    from qualcode.codebook import load_codebook
    from qualcode.codebook_change import use_codebook

    book = project.codebook_path.read_text(encoding="utf-8")
    start = book.index("      - id: volunteers")
    smaller = tmp_path / "smaller.yaml"
    smaller.write_text(book[:start].replace("coded_units: emessi-coded.csv", ""), encoding="utf-8")
    assert "volunteers" in use_codebook(project, smaller).removed
    out = tmp_path / "p.qdpx"
    export_qdpx(project, out)
    target, change = import_codebook(project, out)
    ids = [c.id for c in load_codebook(target).iter_codes()]
    assert "volunteers" not in ids and not any(i.endswith("_2") for i in ids)
    assert change.unchanged


def test_codebook_import_from_maxqda_project(empty) -> None:
    from qualcode.codebook import load_codebook

    target, change = import_codebook(empty, REFI / "maxqda-24-themes.qdpx")
    book = load_codebook(target)
    assert len(book.flat_codes()) == 307
    assert len(change.added) == 307
    ids = [c.id for c in book.flat_codes()]
    assert len(set(ids)) == 307 and all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids)


# -- command line ------------------------------------------------------------


def test_cli_export_and_codebook_import(coded, tmp_path: Path) -> None:
    import json

    from qualcode.cli.main import app

    runner = CliRunner()
    proj = str(coded.root)
    coded.close()
    out = tmp_path / "cli.qdpx"
    r = runner.invoke(app, ["export", "qdpx", str(out), "-P", proj, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["codings"] == 5 and out.is_file()
    qdc = tmp_path / "cli.qdc"
    r = runner.invoke(app, ["export", "codebook", str(qdc), "-P", proj])
    assert r.exit_code == 0 and "code(s)" in r.output
    r = runner.invoke(app, ["export", "qdpx", str(tmp_path / "x.zip"), "-P", proj])
    assert r.exit_code == 1 and "expected a .qdpx" in r.output
    fresh = init_project(tmp_path / "f2", codebook=None)
    fresh.close()
    r = runner.invoke(app, ["codebook", "import", str(qdc), "-P", str(tmp_path / "f2"), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["change"]["applied"] and len(data["change"]["added"]) == 8
    r = runner.invoke(
        app, ["codebook", "import", str(REFI / "invalid-namespace.qde"), "-P", str(tmp_path / "f2")]
    )
    assert r.exit_code == 1 and "schema" in r.output


def test_generic_import_command_reads_qdpx(empty) -> None:
    from qualcode.cli.main import app

    root = str(empty.root)
    empty.close()
    r = CliRunner().invoke(app, ["import", str(REFI / "nvivo-12-oltas.qdpx"), "-P", root])
    assert r.exit_code == 0, r.output
    # the same file again would bring every coding twice and double the counts
    again = CliRunner().invoke(app, ["import", str(REFI / "nvivo-12-oltas.qdpx"), "-P", root])
    assert again.exit_code == 0 and "already imported" in again.output
    from qualcode.project import Project

    with Project(Path(root)) as p:
        n_sessions, n_decisions = len(p.store.sessions()), len(p.store.decisions())
    forced = CliRunner().invoke(
        app, ["import", str(REFI / "nvivo-12-oltas.qdpx"), "--force", "-P", root]
    )
    assert forced.exit_code == 0, forced.output
    with Project(Path(root)) as p:
        assert len(p.store.sessions()) == 2 * n_sessions
        assert len(p.store.decisions()) == 2 * n_decisions > 0
    r = CliRunner().invoke(app, ["import", str(REFI / "atlasti-23-codebook.qdpx"), "-P", root])
    assert r.exit_code == 0, r.output
    assert "no sessions in it" in r.output and "None" not in r.output
    r = CliRunner().invoke(
        app, ["import", str(REFI / "nvivo-12-oltas.qdpx"), "--session", "x", "--force", "-P", root]
    )
    assert r.exit_code == 1 and "brings its own sessions; leave out --session" in r.output
    r = CliRunner().invoke(app, ["import", str(REFI / "invalid-namespace.qde"), "-P", root])
    assert r.exit_code != 0 and "schema" in r.output
    with Project(Path(root)) as p:
        assert {c.label for c in p.store.codes()} >= {"Commits"}


def test_only_a_transcripts_name_prefixes_become_speakers(empty) -> None:
    """A paper's "Abstract:" and a comment thread's "Koronavírus: ..." are
    not people (pseudonymized as names they would mask ordinary words)."""
    from qualcode.exchange.textmap import transcript_speakers

    talk = "Aino: Hei.\nVille: Moi.\nAino: Rahat loppuu.\nVille: Niin.\nPekka: Kiitos.\n"
    assert transcript_speakers(talk) == {"Aino", "Ville"}
    paper = "Abstract: We study.\nIntro text.\nAssertion 1: X.\nMore text.\nAbstract: again.\n" + (
        "Plain line.\n" * 10
    )
    assert transcript_speakers(paper) is None
    result = import_qdpx(empty, REFI / "nvivo-12-oltas.qdpx")
    assert result.n_speakers == 0 and empty.store.participants() == []


def test_a_session_without_speakers_has_none_after_a_round_trip(empty, tmp_path: Path) -> None:
    """qualcode's own export lists each session's speakers: the NVivo
    comment thread's "Koronavírus: ..." lines stay text when read back."""
    import_qdpx(empty, REFI / "nvivo-12-oltas.qdpx")
    before = {s.name: plain_text(empty.store.utterances(s.id or 0)) for s in empty.store.sessions()}
    out = tmp_path / "nv.qdpx"
    export_qdpx(empty, out)
    assert "speakers: []" in _qde(out).decode("utf-8")
    again = init_project(tmp_path / "again", codebook=None, language="hu")
    try:
        result = import_qdpx(again, out)
        assert result.n_speakers == 0 and again.store.participants() == []
        after = {
            s.name: plain_text(again.store.utterances(s.id or 0)) for s in again.store.sessions()
        }
        assert after == before
    finally:
        again.close()


def test_document_sets_become_groups(empty) -> None:
    """MAXQDA's document sets ("ICLS 2024", "ICLS 2025", five documents
    each) are the sessions' groups, which report --by group counts."""
    import_qdpx(empty, REFI / "maxqda-24-themes.qdpx")
    groups = Counter(s.group for s in empty.store.sessions())
    assert groups == {"ICLS 2024": 5, "ICLS 2025": 5}


def test_export_says_what_refi_qda_cannot_carry(coded, tmp_path: Path) -> None:
    """A unit a coder finished with no code is not a coding in REFI-QDA:
    the export counts it (the CLI says so), and the session's duration
    travels in the description."""
    from qualcode.cli.main import app

    store = coded.store
    first = store.segments(store.get_session("ryhmä1-istunto1").id)[0]
    store.record_decision(Decision(first.id, "support", "jussi", "rejected"))
    counts = export_qdpx(coded, tmp_path / "a.qdpx")
    assert counts["uncoded"] == 1
    root = str(coded.root)
    coded.close()
    r = CliRunner().invoke(app, ["export", "qdpx", str(tmp_path / "b.qdpx"), "-P", root])
    assert r.exit_code == 0 and "Not in the file: 1 unit(s) a coder coded with no code" in r.output


def test_a_memo_on_words_a_corrected_transcript_replaced_goes_with_its_session(
    coded, tmp_path: Path
) -> None:
    """Its unit is retired, so no selection can point at the memo: it travels
    as a note on the session, quoting the words it was written on."""
    from dataclasses import replace

    store = coded.store
    uncoded = next(g for g in store.segments() if not store.decisions(segment_id=g.id))
    store.add_memo("jussi", "Palataan tähän.", segment_id=uncoded.id)
    units = store.segments(uncoded.session_id)
    store.replace_segments(
        uncoded.session_id,
        [
            replace(g, id=None, text="Jotain aivan muuta.") if g.id == uncoded.id else g
            for g in units
        ],
    )
    assert not store.is_current(uncoded.id or 0)
    out = tmp_path / "gone.qdpx"
    export_qdpx(coded, out)
    fresh = init_project(tmp_path / "fresh", codebook=None, language="fi")
    try:
        result = import_qdpx(fresh, out)
        assert result.n_notes_skipped == 0
        [back] = [m for m in fresh.store.memos() if m.coder == "jussi"]
        assert back.segment_id is None and back.session_id is not None
        assert back.text == f"(on words since changed in the transcript: “{uncoded.text}”) " + (
            "Palataan tähän."
        )
    finally:
        fresh.close()


def test_a_whole_source_coding_and_a_selection_past_the_end_are_said(empty, tmp_path) -> None:
    """A coding of a whole document, and a selection running past the end
    of the text (cut there), were dropped or cut without a word."""
    whole = (
        f'<Coding guid="{_g(300)}" creatingUser="{MARIA}"><CodeRef targetGUID="{_g(1)}"/></Coding>'
    )
    path = _hand_qdpx(
        tmp_path, _selection(10, 28, 500, []), _note(20, MARIA, "x"), source_notes=whole
    )
    result = import_qdpx(empty, path)
    assert result.n_codings == 1
    assert "source 'haastattelu': 1 coded selection(s) run past the end of its text" in (
        " ".join(result.problems)
    )
    assert "1 coding(s) of the whole source, not of a passage, not imported" in " ".join(
        result.problems
    )
    [unit] = empty.store.segments()
    assert unit.text.endswith("Hallitus on kaukana.")


def test_a_whole_recording_coded_at_once_is_said(coded, tmp_path: Path) -> None:
    from lxml import etree

    out = tmp_path / "x.qdpx"
    export_qdpx(coded, out)
    q = "{urn:QDA-XML:project:1.0}"
    with zipfile.ZipFile(out) as z:
        entries = {n: z.read(n) for n in z.namelist()}
    root = etree.fromstring(entries["project.qde"])
    audio = next(root.iter(q + "AudioSource"))
    code = next(root.iter(q + "Code")).get("guid")
    coding = etree.SubElement(audio, q + "Coding", guid=_g(400))
    etree.SubElement(coding, q + "CodeRef", targetGUID=code)
    transcript = audio.find(q + "Transcript")
    transcript.addnext(coding)  # the schema's place: after the transcripts
    entries["project.qde"] = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    _schema("Project.xsd").validate(entries["project.qde"].decode("utf-8"))
    with zipfile.ZipFile(out, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    fresh = init_project(tmp_path / "fresh", codebook=None, language="fi")
    try:
        result = import_qdpx(fresh, out)
        assert any("1 coding(s) of the whole source" in line for line in result.problems)
    finally:
        fresh.close()
