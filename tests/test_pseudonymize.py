"""Pseudonyms: consistent numbering and masking inside (Finnish) text."""

from __future__ import annotations

from qualcode.models import Session, Transcript, Utterance
from qualcode.pseudonymize import Pseudonymizer, name_stems


def test_numbers_by_first_appearance(project):
    store = project.store
    store.add_session(
        Session(name="b-second"),
        Transcript(utterances=[Utterance("Hei", "Cara"), Utterance("Moi", "Aino Virtanen")]),
    )
    store.add_session(
        Session(name="a-first-by-name-but-added-later"),
        Transcript(utterances=[Utterance("Joo", "Bert"), Utterance("Niin", "Cara")]),
    )
    p = Pseudonymizer.from_store(store)
    # session order is the order they entered the project, not their names
    assert p.name("Cara") == "P1"
    assert p.name("Aino Virtanen") == "P2"
    assert p.name("Bert") == "P3"
    assert p.name("Cara") == "P1"  # stable
    assert p.name("Newcomer") == "P4"
    assert p.name(None) is None


def test_masks_names_with_finnish_endings():
    p = Pseudonymizer(["Aino Virtanen", "Pekka", "Matti Korhonen", "SPEAKER_03"])
    text = (
        "Ainon mielestä Ainolle pitää kertoa. Aino Virtanen ja Virtaselle soitettiin. "
        "Pekan ja Pekalle, Matin kanssa. Korhosen tiimi. Ainoastaan aino vaihtoehto."
    )
    out = p.text(text) or ""
    assert "Aino" not in out.replace("Ainoastaan", "")
    assert out.startswith("P1 mielestä P1 pitää kertoa. P1 ja P1 soitettiin.")
    assert "P2 ja P2, P3 kanssa. P3 tiimi." in out
    # lowercase common words are not names; "Ainoastaan" is over-masked, which is safe
    assert "aino vaihtoehto" in out
    assert p.text("SPEAKER_03 said") == "SPEAKER_03 said"


def test_masks_email_and_phone_but_not_amounts():
    p = Pseudonymizer([])
    out = p.text(
        "Mail aino.virtanen@example.fi or call 040 123 4567 or +358 40 1234567, "
        "(09) 123 4567. Grant was 1 500 000 euros in 2012-2013 at 10:30."
    )
    assert out == (
        "Mail [email] or call [phone] or [phone], [phone]. "
        "Grant was 1 500 000 euros in 2012-2013 at 10:30."
    )


def test_name_stems():
    assert name_stems("Pekka") == {"Pekka", "Peka"}
    assert name_stems("Virtanen") == {"Virtanen", "Virtase"}
    assert name_stems("Aino") == {"Aino"}
