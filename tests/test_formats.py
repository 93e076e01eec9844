"""Transcript readers and writers on real exported files and small inline cases."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from qualcode.errors import FormatError, QualcodeError
from qualcode.formats import (
    detect_format,
    read_transcript,
    transcript_to_string,
    write_json,
    write_transcript,
)
from qualcode.models import Transcript, Utterance, Word

T = Path(__file__).parent / "data" / "transcripts"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# -- real files -----------------------------------------------------------------


def test_teams_vtt_voice_tags_and_unpadded_times() -> None:
    t = read_transcript(T / "teams_timeframe.vtt")
    assert [(u.speaker, u.start, u.end, u.text) for u in t.utterances] == [
        ("Yuri Bakulin", 0.0, 0.57, "There you go."),
        ("Adrian Petrescu", 0.21, 1.13, "Why hello there, Yuri."),
    ]
    assert t.source_format == "vtt"
    assert t.duration == pytest.approx(1.13)


def test_qualcoder_txt_three_speakers() -> None:
    t = read_transcript(T / "qualcoder-3-speakers.txt")
    assert [u.speaker for u in t.utterances] == ["id1", "id2", "id3", "id1", "id3", "id1", "id2"]
    assert t.utterances[0].text.startswith("hello, I like the course.")
    assert not any(u.text.startswith("[") for u in t.utterances)
    assert t.utterances[-1].text == (
        "Hmm, I will ask the tutor for more help as I am really struggling."
    )
    assert all(u.start is None for u in t.utterances)


def test_sample_srt_keeps_times() -> None:
    t = read_transcript(T / "sample.srt")
    assert len(t.utterances) == 5
    assert (t.utterances[0].start, t.utterances[0].end) == (0.5, 7.0)
    assert (t.utterances[4].start, t.utterances[4].end) == (21.58, 23.88)
    assert [u.text for u in t.utterances] == [f"Caption text #{i}" for i in range(1, 6)]
    assert all(u.speaker is None for u in t.utterances)


def test_sample_vtt() -> None:
    t = read_transcript(T / "sample.vtt")
    assert len(t.utterances) == 16
    assert t.utterances[-1].text == "Caption text #16"
    assert t.utterances[-1].end == pytest.approx(64.3)


def test_vtt_with_byte_order_mark() -> None:
    assert (T / "captions_with_bom.vtt").read_bytes().startswith(b"\xef\xbb\xbf")
    t = read_transcript(T / "captions_with_bom.vtt")
    assert [u.text for u in t.utterances] == [f"Caption text #{i}" for i in range(1, 5)]
    assert t.utterances[3].end == pytest.approx(21.58)


def test_invalid_timestamp_names_file_and_line() -> None:
    with pytest.raises(FormatError) as e:
        read_transcript(T / "invalid_timeframe.vtt")
    assert e.value.line == 6
    assert "invalid_timeframe.vtt:6:" in str(e.value)
    assert "00:00:1d.890" in str(e.value) and "expected hh:mm:ss.mmm" in str(e.value)


def test_a_timestamp_past_59_minutes_says_so(tmp_path: Path) -> None:
    path = tmp_path / "late.srt"
    path.write_text("1\n99:99:99,999 --> 99:99:99,999\nHei.\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"late.srt:2: .*minutes and seconds go up to 59"):
        read_transcript(path)


def test_missing_timing_line_names_file_and_line() -> None:
    with pytest.raises(FormatError) as e:
        read_transcript(T / "missing_timeframe.srt")
    assert e.value.line == 6
    assert "missing_timeframe.srt:6:" in str(e.value)
    assert "no timing line" in str(e.value)


# -- plain text -----------------------------------------------------------------


def test_txt_prefixes_timestamps_and_continuations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.txt",
        "Interview, 12 March\n\n"
        "[00:00:05] Aino: Hei kaikille.\nTervetuloa.\n\n"
        "SPEAKER_00: Kiitos. Note: this is not a speaker.\n\n"
        "A second paragraph by the same speaker.\n\n"
        "[laughs] that was funny\n\n"
        "(00:01:02) Aino: Jatketaan.\n",
    )
    t = read_transcript(path)
    got = [(u.speaker, u.start, u.text) for u in t.utterances]
    assert got == [
        (None, None, "Interview, 12 March"),
        ("Aino", 5.0, "Hei kaikille. Tervetuloa."),
        ("SPEAKER_00", None, "Kiitos. Note: this is not a speaker."),
        ("SPEAKER_00", None, "A second paragraph by the same speaker."),
        ("SPEAKER_00", None, "[laughs] that was funny"),
        ("Aino", 62.0, "Jatketaan."),
    ]


def test_txt_start_stamps_give_each_turn_an_end(tmp_path: Path) -> None:
    """Only starts are stamped: a turn lasts until the next one starts, so
    units get a duration; the last turn's end stays unknown."""
    path = write(
        tmp_path,
        "s.txt",
        "[00:00:05] Aino: Hei kaikille.\n\n[00:00:25] Ville: Kiitos.\n\n"
        "[00:01:02] Aino: Jatketaan.\n",
    )
    t = read_transcript(path)
    assert [(u.start, u.end) for u in t.utterances] == [(5.0, 25.0), (25.0, 62.0), (62.0, None)]


def test_txt_one_turn_per_line_and_wrapped_note(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lines.txt",
        "Facilitator: How was your week?\n"
        "Mika: Busy. Too many grant reports, and\n"
        "Note: the board wants them by Friday.\n"
        "Facilitator: That sounds heavy.\n"
        "Mika: It is.\n",
    )
    t = read_transcript(path)
    assert [u.speaker for u in t.utterances] == ["Facilitator", "Mika", "Facilitator", "Mika"]
    assert t.utterances[1].text == (
        "Busy. Too many grant reports, and Note: the board wants them by Friday."
    )


def test_txt_one_turn_per_line_keeps_who_speaks_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "once.txt",
        "Fasilitaattori: Miten teillä menee rahoituksen kanssa?\n"
        "Aino: Rahat loppuu aina kesken vuotta.\n"
        "Fasilitaattori: Entä vapaaehtoiset?\n"
        "Ben: Niitä ei löydy mistään.\n"
        "Fasilitaattori: Kiitos kaikille.\n",
    )
    t = read_transcript(path)
    assert [u.speaker for u in t.utterances] == [
        "Fasilitaattori",
        "Aino",
        "Fasilitaattori",
        "Ben",
        "Fasilitaattori",
    ]


def test_txt_unpunctuated_turns_of_a_recognizer(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "asr.txt",
        "Aino: Meillä rahoitus loppuu\nKalle: Mä olen uusi täällä\nAino: Tervetuloa\n"
        "Ville: Kiitos\nAino: Jatketaan\n",
    )
    t = read_transcript(path)
    assert [u.speaker for u in t.utterances] == ["Aino", "Kalle", "Aino", "Ville", "Aino"]


def test_txt_long_or_wordy_prefix_is_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "prose.txt",
        "What we decided in the end of the meeting: nothing.\n\n10:30 we met again.\n",
    )
    t = read_transcript(path)
    assert [u.speaker for u in t.utterances] == [None, None]
    assert t.utterances[1].text == "10:30 we met again."
    assert t.utterances[1].start is None


def test_txt_speaker_on_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "own.txt", "Haastattelija:\nMiten menee?\n\nLeena:\nIhan hyvin.\n")
    t = read_transcript(path)
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("Haastattelija", "Miten menee?"),
        ("Leena", "Ihan hyvin."),
    ]


def test_txt_crlf_bom_and_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, "w.txt", "\ufeffAino: Moi.\r\n\r\nMika: Moi moi.\r\n".encode())
    t = read_transcript(path)
    assert [(u.speaker, u.text) for u in t.utterances] == [("Aino", "Moi."), ("Mika", "Moi moi.")]
    bad = write(tmp_path, "latin.txt", "Aino: hei\nMika: p\xe4iv\xe4\n".encode("latin-1"))
    with pytest.raises(FormatError) as e:
        read_transcript(bad)
    assert e.value.line == 2
    assert "UTF-8" in str(e.value)


def test_txt_control_characters_removed(tmp_path: Path) -> None:
    # a console log pasted into a transcript: colour codes, a bell, NULs
    path = write(
        tmp_path,
        "ctl.txt",
        "\x1b[1mAino\x1b[0m: hei\x1b[31m red \x07 bell\x00\n\n"
        "Mika:\tpäivää\x1b]0;title\x07 \x7fkaikille 👋\x0cja\x9bK heipä\n\n"
        "Aino: Hyvä\x00\x00 että\x01 tulit.\n",
    )
    t = read_transcript(path)
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("Aino", "hei red bell"),
        ("Mika", "päivää kaikille 👋 ja heipä"),
        ("Aino", "Hyvä että tulit."),
    ]


# -- subtitles, inline ------------------------------------------------------------


def test_vtt_voice_tags_other_tags_notes_and_prefixes(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "meeting.vtt",
        "WEBVTT - a meeting\nKind: captions\nLanguage: fi\n\n"
        "NOTE written by hand\nspanning lines\n\n"
        "STYLE\n::cue { color: red }\n\n"
        "intro\n00:01.000 --> 00:04.500 align:start\n"
        "<v.loud Aino>Hei <i>kaikki</i> &amp; tervetuloa</v>\n\n"
        "00:00:04.500 --> 00:00:06.000\ncontinues without a tag\n\n"
        "00:00:06.000 --> 00:00:08.000\n<v Mika>Kiitos.</v>\n<v Leena><c.yellow>Joo.</c></v>\n\n"
        "0:0:9.5 --> 0:0:10\nplain\n",
    )
    t = read_transcript(path)
    got = [(u.speaker, u.start, u.end, u.text) for u in t.utterances]
    assert got == [
        ("Aino", 1.0, 4.5, "Hei kaikki & tervetuloa"),
        ("Aino", 4.5, 6.0, "continues without a tag"),
        ("Mika", 6.0, 8.0, "Kiitos."),
        ("Leena", 6.0, 8.0, "Joo."),
        ("Leena", 9.5, 10.0, "plain"),
    ]
    assert t.language == "fi"


def test_vtt_name_prefixes_in_cues_when_repeated(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "zoom.vtt",
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\nAino Virtanen: Hello.\n\n"
        "2\n00:00:02.000 --> 00:00:03.000\nMika: Hi.\n\n"
        "3\n00:00:03.000 --> 00:00:05.000\nAino Virtanen: Warning: busy week.\n\n"
        "4\n00:00:05.000 --> 00:00:06.000\nMika: Same.\n",
    )
    t = read_transcript(path)
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("Aino Virtanen", "Hello."),
        ("Mika", "Hi."),
        ("Aino Virtanen", "Warning: busy week."),
        ("Mika", "Same."),
    ]


def test_vtt_single_prefix_is_not_a_speaker(tmp_path: Path) -> None:
    path = write(tmp_path, "c.vtt", "WEBVTT\n\n00:01.000 --> 00:02.000\nNote: this is a caption\n")
    t = read_transcript(path)
    assert t.utterances[0].speaker is None
    assert t.utterances[0].text == "Note: this is a caption"


@pytest.mark.parametrize(
    ("name", "text", "line", "needle"),
    [
        ("nohead.vtt", "00:00.000 --> 00:01.000\nHi\n", 1, "WEBVTT"),
        ("back.vtt", "WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nHi\n", 3, "before it starts"),
        ("cue.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nok\n\nlonely id\n", 6, "timing"),
        ("prose.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\nfree text here\n", 5, "cue number"),
        ("nots.srt", "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n", 5, "no timing line"),
    ],
)
def test_broken_subtitles(tmp_path: Path, name: str, text: str, line: int, needle: str) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(FormatError) as e:
        read_transcript(path)
    assert e.value.line == line
    assert needle in str(e.value)
    assert str(path) in str(e.value)


def test_srt_tags_and_dash_dialogue(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "d.srt",
        "1\n00:00:01,000 --> 00:00:03,250\n<i>Aino: Hei.</i>\n\n"
        "2\n00:00:03,250 --> 00:00:05,000\n- Aino: Mitä kuuluu?\n",
    )
    t = read_transcript(path)
    assert [(u.speaker, u.start, u.end, u.text) for u in t.utterances] == [
        ("Aino", 1.0, 3.25, "Hei."),
        ("Aino", 3.25, 5.0, "Mitä kuuluu?"),
    ]


def test_subtitles_control_characters_removed(tmp_path: Path) -> None:
    srt = write(
        tmp_path,
        "ctl.srt",
        "1\n00:00:01,000 --> 00:00:03,000\n\x1b[32mAino:\x1b[0m Hei\x07 vaan.\x00\n\n"
        "2\n00:00:03,000 --> 00:00:04,000\nAino: Öisin\x1b[2K\x08 nukun.\n",
    )
    assert [(u.speaker, u.text) for u in read_transcript(srt).utterances] == [
        ("Aino", "Hei vaan."),
        ("Aino", "Öisin nukun."),
    ]
    vtt = write(
        tmp_path,
        "ctl.vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<v Ai\x00no\x1b[0m>Moi\x1b[31m\x07 🎉</v>\n",
    )
    assert [(u.speaker, u.text) for u in read_transcript(vtt).utterances] == [("Aino", "Moi 🎉")]


# -- docx ----------------------------------------------------------------------


def test_docx_row_with_time_and_name_in_one_merged_cell() -> None:
    from qualcode.formats.docx import _row

    u = _row(["00:01:00 Aino", "00:01:00 Aino", "Rahat loppuu."])
    assert u is not None and (u.speaker, u.start, u.text) == ("Aino", 60.0, "Rahat loppuu.")
    plain = _row(["Aino", "Rahat loppuu."])
    assert plain is not None and (plain.speaker, plain.start) == ("Aino", None)


def test_docx_paragraphs_and_table(tmp_path: Path) -> None:
    import docx

    doc = docx.Document()
    doc.add_heading("Ryhmä 1, tapaaminen 2", level=1)
    doc.add_paragraph("Ohjaaja: Mitä teille kuuluu?")
    doc.add_paragraph("Aino: Kiireistä. Hankerahoitus loppuu.")
    doc.add_paragraph("Se tarkoittaa uutta hakemusta.")
    table = doc.add_table(rows=3, cols=3)
    for row, cells in zip(
        table.rows,
        [
            ("Aika", "Puhuja", "Teksti"),
            ("00:10:00", "Mika", "Minulla on sama."),
            ("", "Leena", "Joo."),
        ],
        strict=True,
    ):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    doc.add_paragraph("Ohjaaja: Kiitos.")
    path = tmp_path / "session.docx"
    doc.save(str(path))

    t = read_transcript(path)
    assert t.source_format == "docx"
    assert [(u.speaker, u.start, u.text) for u in t.utterances] == [
        (None, None, "Ryhmä 1, tapaaminen 2"),
        ("Ohjaaja", None, "Mitä teille kuuluu?"),
        ("Aino", None, "Kiireistä. Hankerahoitus loppuu."),
        ("Aino", None, "Se tarkoittaa uutta hakemusta."),
        ("Mika", 600.0, "Minulla on sama."),
        ("Leena", None, "Joo."),
        ("Ohjaaja", None, "Kiitos."),
    ]


def test_docx_control_characters_removed(tmp_path: Path) -> None:
    import docx

    # XML forbids C0 controls, but the C1 ones (here CSI and NEL) pass
    doc = docx.Document()
    doc.add_paragraph("Ai\x9b1mno: Hei\x9b0m\x85kaikki.")
    doc.add_paragraph("Aino: Moi.")
    path = tmp_path / "c1.docx"
    doc.save(str(path))
    t = read_transcript(path)
    assert [(u.speaker, u.text) for u in t.utterances] == [
        ("Aino", "Hei kaikki."),
        ("Aino", "Moi."),
    ]


def test_not_a_docx(tmp_path: Path) -> None:
    path = write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
    with pytest.raises(FormatError, match=r"old \.doc"):
        read_transcript(path)


# -- json ----------------------------------------------------------------------


def _sample() -> Transcript:
    return Transcript(
        utterances=[
            Utterance(
                text="Hei kaikki.",
                speaker="SPEAKER_00",
                start=0.25,
                end=1.5,
                words=[Word(0.25, 0.6, "Hei", 0.91), Word(0.7, 1.5, "kaikki.", None)],
            ),
            Utterance(text="Joo.", speaker=None, start=None, end=None),
        ],
        language="fi",
        duration=2.0,
        source_format="json",
        metadata={"engine": "faster-whisper", "model": "base", "beam_size": 5},
    )


def test_json_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    write_json(_sample(), path)
    assert read_transcript(path) == _sample()
    # via the generic writer and a stream, too
    buf = io.StringIO()
    write_transcript(_sample(), buf, "json")
    assert '"qualcode_transcript": 1' in buf.getvalue()
    assert write(tmp_path, "u.json", buf.getvalue()).read_text() == path.read_text()


def test_json_errors(tmp_path: Path) -> None:
    broken = write(tmp_path, "b.json", '{"qualcode_transcript": 1,\n "utterances": [\n  {,]}')
    with pytest.raises(FormatError) as e:
        read_transcript(broken)
    assert e.value.line == 3
    wrong = write(
        tmp_path,
        "w.json",
        '{"qualcode_transcript": 1, "utterances": [{"text": "x", "start": "soon"}]}',
    )
    with pytest.raises(FormatError, match=r"utterances\[0\]\.start"):
        read_transcript(wrong)
    newer = write(tmp_path, "n.json", '{"qualcode_transcript": 7, "utterances": []}')
    with pytest.raises(FormatError, match="version 7"):
        read_transcript(newer)
    quoted = write(tmp_path, "q.json", '{"qualcode_transcript": "1", "utterances": []}')
    with pytest.raises(FormatError, match='is the text "1"; write the number 1'):
        read_transcript(quoted)
    other = write(tmp_path, "o.json", '{"hello": 1}')
    with pytest.raises(FormatError, match="qualcode_transcript"):
        read_transcript(other)


def test_json_control_characters_removed(tmp_path: Path) -> None:
    # JSON escapes bring back what read_text removed from the raw bytes
    path = write(
        tmp_path,
        "c.json",
        '{"qualcode_transcript": 1, "utterances": [{"speaker": "Aino\\u0000",'
        ' "text": "hei\\u001b[31m\\u0007 rivi\\nkaksi\\tä", "words": ['
        '{"start": 0, "end": 1, "word": "hei\\u001b[0m"}]}]}',
    )
    (u,) = read_transcript(path).utterances
    assert (u.speaker, u.text, u.words[0].word) == ("Aino", "hei rivi\nkaksi\tä", "hei")


def test_whisper_json(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "w.json",
        '{"text": " Hi. There.", "language": "en", "segments": ['
        '{"id": 0, "start": 0.0, "end": 1.0, "text": " Hi."},'
        '{"id": 1, "start": 1.0, "end": 2.5, "text": " There.",'
        ' "words": [{"start": 1.0, "end": 2.5, "word": " There.", "probability": 0.8}]}]}',
    )
    t = read_transcript(path)
    assert [(u.start, u.end, u.text) for u in t.utterances] == [
        (0.0, 1.0, "Hi."),
        (1.0, 2.5, "There."),
    ]
    assert t.utterances[1].words == [Word(1.0, 2.5, "There.", 0.8)]
    assert t.language == "en"


# -- writers read back -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["srt", "vtt", "txt"])
def test_writers_read_back(tmp_path: Path, fmt: str) -> None:
    source = Transcript(
        utterances=[
            Utterance(text="Hei <kaikki> & muut.", speaker="Aino Virtanen", start=1.0, end=3.5),
            Utterance(text="Kiitos.", speaker="SPEAKER_01", start=3.5, end=4.25),
            Utterance(text="Niin.", speaker="Aino Virtanen", start=5.0, end=6.0),
        ]
    )
    path = tmp_path / f"out.{fmt}"
    write_transcript(source, path, fmt)
    back = read_transcript(path)
    assert [(u.speaker, u.text) for u in back.utterances] == [
        (u.speaker, u.text) for u in source.utterances
    ]
    starts = [u.start for u in back.utterances]
    if fmt == "txt":  # whole seconds
        assert starts == [1.0, 3.0, 5.0]
    else:
        assert starts == [1.0, 3.5, 5.0]
        assert [u.end for u in back.utterances] == [3.5, 4.25, 6.0]


def test_vtt_writer_uses_voice_tags_and_fills_missing_times() -> None:
    text = transcript_to_string(
        Transcript(
            utterances=[Utterance(text="one two three", speaker="Aino"), Utterance("x")],
            language="fi",
        ),
        "vtt",
    )
    assert text.startswith(
        "WEBVTT\nLanguage: fi\n\n00:00:00.000 --> 00:00:01.200\n<v Aino>one two three</v>\n"
    )
    assert "00:00:01.200 --> 00:00:02.200\nx\n" in text


# -- registry ------------------------------------------------------------------------


def test_detect_format(tmp_path: Path) -> None:
    assert detect_format("a.VTT") == "vtt"
    assert detect_format("a.qde") == "qdpx"
    assert detect_format(write(tmp_path, "noext", "WEBVTT\n\n")) == "vtt"
    assert (
        detect_format(write(tmp_path, "noext2", "1\n00:00:01,000 --> 00:00:02,000\nx\n")) == "srt"
    )
    assert detect_format(write(tmp_path, "noext3", "Aino: hei\n")) == "txt"
    with pytest.raises(FormatError, match="--format"):
        detect_format(write(tmp_path, "blob", b"\x00\x01\x02binary"))
    # a Word 97 file under an unknown name: the same first bytes docx.py knows
    with pytest.raises(FormatError, match=r"old Word \.doc .*save it as \.docx"):
        detect_format(write(tmp_path, "haastattelu.doc", b"\xd0\xcf\x11\xe0" + b"\x00" * 100))


def test_unknown_format_lists_known(tmp_path: Path) -> None:
    with pytest.raises(QualcodeError, match="known: txt, srt, vtt, docx, json"):
        read_transcript(write(tmp_path, "a.txt", "x"), "rtf")
    with pytest.raises(QualcodeError, match="known: txt, srt, vtt, json"):
        write_transcript(Transcript(utterances=[]), io.StringIO(), "docx")


def test_txt_otter_style_headings(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "otter.txt",
        "Speaker 1  0:03\nHello everyone, shall we start?\n\nSpeaker 2  1:02:07\nYes.\nLet's go.\n",
    )
    t = read_transcript(path)
    assert [(u.speaker, u.start, u.text) for u in t.utterances] == [
        ("Speaker 1", 3.0, "Hello everyone, shall we start?"),
        ("Speaker 2", 3727.0, "Yes. Let's go."),
    ]


def test_txt_teams_word_style_cues(tmp_path: Path) -> None:
    # the layout of a Teams transcript saved from Word as text
    path = write(
        tmp_path,
        "teams.txt",
        "0:0:0.0 --> 0:0:5.250\nYuri Bakulin\nThere you go.\n\n"
        "0:0:5.250 --> 0:0:8.0\nAdrian Petrescu\nWhy hello there, Yuri.\n\n"
        "0:0:8.0 --> 0:0:9.5\nYuri Bakulin\nShall we start?\n\n"
        "0:0:9.5 --> 0:0:12.0\nAdrian Petrescu\nYes.\nThe budget first.\n",
    )
    t = read_transcript(path)
    assert [(u.speaker, u.start, u.end, u.text) for u in t.utterances] == [
        ("Yuri Bakulin", 0.0, 5.25, "There you go."),
        ("Adrian Petrescu", 5.25, 8.0, "Why hello there, Yuri."),
        ("Yuri Bakulin", 8.0, 9.5, "Shall we start?"),
        ("Adrian Petrescu", 9.5, 12.0, "Yes. The budget first."),
    ]
