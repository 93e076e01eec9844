from qualcode.models import Utterance
from qualcode.transcript import format_time, plain_text, utterance_spans


def test_plain_text_offsets_slice_each_utterance() -> None:
    us = [
        Utterance("Hei kaikki.", speaker="Fasilitaattori"),
        Utterance("ilman puhujaa"),
        Utterance("Vapaaehtoisten kanssa on kiirettä.", speaker="Aino"),
    ]
    text = plain_text(us)
    assert text.count("\n") == 2 and not text.endswith("\n")
    for u, (a, b) in zip(us, utterance_spans(us), strict=True):
        assert text[a:b] == u.text
    assert text.splitlines()[1] == "ilman puhujaa"


def test_format_time() -> None:
    assert format_time(None) == "--:--"
    assert format_time(65.4) == "01:05"
    assert format_time(3725.25, millis=True) == "1:02:05.250"
