"""gold: reading coded units from spreadsheets, lenient where the meaning is
clear and refusing, with file and line, what would silently change the data."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qualcode.errors import FormatError
from qualcode.gold import code_names, read_gold

DATA = Path(__file__).parent / "data"
LEAVES = ["prioritisation", "support", "work_sharing", "hr_management", "funding", "volunteers"]


def test_read_gold_refuses_unknown_codes_with_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("text,codes\nok,funding\nbad one,funding;fundin\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"gold.csv:3: unknown code 'fundin'"):
        read_gold(path, LEAVES)
    path.write_text("text\nno codes column\n", encoding="utf-8")
    with pytest.raises(FormatError, match="missing column"):
        read_gold(path, LEAVES)
    path.write_text("text,codes\nparent,third_sector\n", encoding="utf-8")
    with pytest.raises(FormatError, match="gold.csv:2: code 'third_sector' has sub-codes"):
        read_gold(path, LEAVES, parents=["third_sector"])
    # a parent code and an unknown one: both named at once, from the first line
    path.write_text("text,codes\nok,fundng\nparent,third_sector\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        read_gold(path, LEAVES, parents=["third_sector"])
    assert e.value.line == 2 and "'fundng' (line 2" in str(e.value)
    assert "code 'third_sector' has sub-codes (line 3)" in str(e.value)


def test_read_gold_takes_spreadsheet_exports(tmp_path: Path, emessi) -> None:
    """Excel in a Finnish locale saves semicolon-separated CSV with a BOM;
    coders write code labels rather than ids."""
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufefftext;codes;lang\r\n"
        '"Rahat loppuu, mitä sitten?";"Toiminnan rahoitus, Volunteers";fi\r\n'
        "Ei mitään koodattavaa.;;fi\r\n".encode()
    )
    rows = read_gold(path, LEAVES, names=code_names(emessi))
    assert [(r.text, r.codes, r.lang) for r in rows] == [
        ("Rahat loppuu, mitä sitten?", ["funding", "volunteers"], "fi"),
        ("Ei mitään koodattavaa.", [], "fi"),
    ]
    path.write_text("text,codes\nYksi.,prioritization\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"'prioritization' \(line 2, did you mean prio"):
        read_gold(path, LEAVES, names=code_names(emessi))
    path.write_text("text\tcodes\nYksi.\tFUNDING;support\n", encoding="utf-8")
    assert read_gold(path, LEAVES, names=code_names(emessi))[0].codes == ["funding", "support"]
    # in a comma-separated file, commas or bars inside the quoted codes column
    # separate codes where every part is one, and stay part of a name otherwise
    path.write_text(
        'text,codes\nYksi.,"funding, Tuki"\nKaksi.,volunteers|hr_management\n', encoding="utf-8"
    )
    rows = read_gold(path, LEAVES, names=code_names(emessi))
    assert [r.codes for r in rows] == [["funding", "support"], ["volunteers", "hr_management"]]
    path.write_text('text,codes\nYksi.,"funding, money"\n', encoding="utf-8")
    with pytest.raises(FormatError, match="excel.csv:2: unknown code 'funding, money'"):
        read_gold(path, LEAVES, names=code_names(emessi))
    path.write_bytes("text,codes\nMeill\xe4 on kiire.,prioritisation\n".encode("latin-1"))
    with pytest.raises(FormatError, match=r"excel.csv:2: not UTF-8 text \(byte 0xE4"):
        read_gold(path, LEAVES)
    # far into the file, past the csv reader's first block: the real line
    rows = ["text,codes"] + [f"English row {i} about nothing in particular." for i in range(200)]
    path.write_bytes(
        "\n".join([*rows, "Vapaaehtoiset l\xe4htiv\xe4t.,volunteers"]).encode("latin-1")
    )
    with pytest.raises(FormatError, match=r"excel.csv:202: not UTF-8 text.*“CSV UTF-8”"):
        read_gold(path, LEAVES)


def test_gold_file_shape() -> None:
    rows = read_gold(DATA / "emessi-eval.csv", LEAVES)
    assert 150 <= len(rows) <= 300
    assert {r.lang for r in rows} == {"fi", "en"}
    assert sum(not r.codes for r in rows) >= 20 and sum(len(r.codes) == 2 for r in rows) >= 20


def test_a_quote_left_open_is_refused_at_the_line_it_opens(tmp_path: Path) -> None:
    """Read leniently, the open quote would swallow the rows after it into
    one unit's text."""
    path = tmp_path / "gold.csv"
    path.write_text(
        'id,text,codes\n1,"We need volunteers",volunteers\n2,"Money is short,funding\n'
        '3,"ok",funding\n4,"More rows",\n',
        encoding="utf-8",
    )
    with pytest.raises(FormatError, match=r"gold.csv:3: not valid CSV .*quote opened on this line"):
        read_gold(path, LEAVES)
    # a quoted text over two lines is fine
    path.write_text('text,codes\n"Two\nlines",funding\nnext,\n', encoding="utf-8")
    assert [r.text for r in read_gold(path, LEAVES)] == ["Two\nlines", "next"]


def test_extra_fields_and_repeated_columns_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("text,codes\nfine,funding\nMoney, is short,funding\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"gold.csv:3: 3 fields where the header has 2; put text"):
        read_gold(path, LEAVES)
    path.write_text("text,codes,codes\nfine,funding,support\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"gold.csv:1: column\(s\) codes appear more than once"):
        read_gold(path, LEAVES)


def test_a_workbook_or_an_empty_file_says_what_it_is(tmp_path: Path) -> None:
    path = tmp_path / "coded.csv"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FormatError, match=r"coded.csv: this is an Excel workbook .*CSV UTF-8"):
        read_gold(path, LEAVES)
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    with pytest.raises(FormatError, match=r"coded.csv: empty file"):
        read_gold(path, LEAVES)
    path.write_text("text,codes\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"coded.csv: only a header, no rows; add the coded"):
        read_gold(path, LEAVES)
    with pytest.raises(FormatError, match=r": a folder; give the CSV file in it"):
        read_gold(tmp_path, LEAVES)


def test_every_unknown_code_is_named_at_once(tmp_path: Path, emessi) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("text,codes\none,fundng\ntwo,funding;mystery\nthree,fundng\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        read_gold(path, LEAVES, names=code_names(emessi))
    assert e.value.line == 2
    assert "unknown codes 'fundng' (line 2, did you mean funding?), 'mystery' (line 3)" in str(
        e.value
    )
    # a word of a label (Finnish: "Toiminnan rahoitus", "Vapaaehtoisten kanssa
    # toimiminen") points to its code too
    path.write_text("text,codes\none,rahoitus\ntwo,vapaaehtoiset\n", encoding="utf-8")
    with pytest.raises(FormatError) as e:
        read_gold(path, LEAVES, names=code_names(emessi))
    assert "'rahoitus' (line 2, did you mean funding?)" in str(e.value)
    assert "'vapaaehtoiset' (line 3, did you mean volunteers?)" in str(e.value)
    path.write_text("text,codes\none,none\ntwo,-\n", encoding="utf-8")
    with pytest.raises(FormatError, match="a unit without a code has an empty codes cell"):
        read_gold(path, LEAVES, names=code_names(emessi))


def test_a_language_must_be_a_language_code(tmp_path: Path) -> None:
    path = tmp_path / "gold.csv"
    path.write_text("text,codes,lang\nYksi.,,FI\nTwo.,,pt-BR\nKolme.,,fi_FI\n", encoding="utf-8")
    assert [r.lang for r in read_gold(path, LEAVES)] == ["fi", "pt-BR", "fi-FI"]
    path.write_text("text,codes,lang\nYksi.,,fi\nTwo.,,pt-BR\nThree.,,English\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"gold.csv:4: language 'English' is not a language code"):
        read_gold(path, LEAVES)


def test_spreadsheet_quirks_are_read_as_meant(tmp_path: Path) -> None:
    """What Excel and Macs save: empty trailing rows, UTF-16 "Unicode text",
    decomposed letters, control characters, a very long answer."""
    import unicodedata

    path = tmp_path / "g.csv"
    path.write_text("text,codes\r\nRahat loppuu,funding\r\n,,\r\n,\r\n", encoding="utf-8")
    assert [u.text for u in read_gold(path, LEAVES)] == ["Rahat loppuu"]
    path.write_text("text\tcodes\r\nRahat loppuu\tfunding\r\n", encoding="utf-16")
    assert [u.codes for u in read_gold(path, LEAVES)] == [["funding"]]
    nfd = unicodedata.normalize("NFD", "Vapaaehtoisia ei löydy")
    path.write_text(f'text,codes,coder\n"{nfd}\x00 \x1b[31mnyt",volunteers,an\x07na\n', "utf-8")
    [unit] = read_gold(path, LEAVES)
    assert unit.text == "Vapaaehtoisia ei löydy nyt" and unit.coder == "anna"
    long = "sana " * 40_000
    path.write_text(f'text,codes\n"{long}",funding\n', encoding="utf-8")
    assert len(read_gold(path, LEAVES)[0].text) == len(long.strip())
