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
    # lowercase common words are not names; "Ainoastaan" ("only") starts with
    # "Aino" but "astaan" is no case ending, so it is an ordinary word and stays
    assert "aino vaihtoehto" in out
    assert "Ainoastaan" in out
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


# The speakers of the bad-input sweep: P1 Li, P2 Anna-Liisa Korhonen,
# P3 Dr. (Jones), P4 Jean-Luc, P5 A, P6 Tom.
SWEEP = ["Li", "Anna-Liisa Korhonen", "Dr. (Jones)", "Jean-Luc", "A", "Tom"]


def test_ordinary_words_that_start_with_a_name_stay():
    # A name used to match with *any* letters after it, so "Like" became Li's
    # pseudonym and "Tomorrow"/"Tomas" Tom's. Only a name plus a Finnish case
    # ending counts as the name ("Tomaatti", tomato, is not Tom + ending).
    p = Pseudonymizer(SWEEP)
    text = "Like I said: Tomorrow Tomas brings Tomaatti. Lisäksi Jeans."
    assert p.text(text) == text


def test_a_name_part_maps_to_its_own_person():
    # "Liisa" is part of Anna-Liisa (P2): it used to become Li (P1) + "isa"
    p = Pseudonymizer(SWEEP)
    assert p.text("Liisa and Li") == "P2 and P1"
    assert p.text("Tom met Liisa and Anna.") == "P6 met P2 and P2."


def test_every_part_of_a_name_is_masked():
    # names are split on spaces, hyphens and punctuation: "Dr. (Jones)" used
    # to be searched for only as "(Jones)" and "Jean-Luc" only as a whole,
    # so "Jones", "Jean" and "Luc" leaked
    p = Pseudonymizer(SWEEP)
    assert p.name("Dr. (Jones)") == "P3"
    assert p.text("Jones, Jean and Luc") == "P3, P4 and P4"
    # adjacent parts of one name become one pseudonym, titles are no names
    assert p.text("Jean-Luc and Dr. Jones") == "P4 and Dr. P3"
    assert p.text("Anna-Liisa Korhonen ja Anna-Liisa Korhoselle") == "P2 ja P2"
    # the old code masked the title itself ("Dr." became a pseudonym)
    assert p.text("Dr. Who") == "Dr. Who"
    # after an apostrophe or colon any suffix goes (English possessive, Li:n);
    # like a case ending it goes with the name into the pseudonym
    assert p.text("Tom's idea, Li:n idea") == "P6 idea, P1 idea"


def test_one_letter_names_are_not_searched_for_in_text():
    # A one-letter speaker ("A", an initial) still gets a pseudonym, but the
    # letter is not masked in the text: it would hit the article "A"/"a"
    # everywhere and say nothing about who spoke.
    p = Pseudonymizer(SWEEP)
    assert p.name("A") == "P5"
    text = "A plan: a budget, plan A. Ask A."
    assert p.text(text) == text


def test_a_part_two_people_share_becomes_a_neutral_marker():
    # Two Annas: a lone "Anna" could be either, so it becomes "[name]" rather
    # than a guess (the old code gave it to whoever spoke first); with the
    # surname next to it, the full name decides.
    p = Pseudonymizer(["Anna Virtanen", "Anna Korhonen"])
    assert p.text("Anna sanoi, Annalle soitettiin.") == "[name] sanoi, [name] soitettiin."
    assert p.text("Anna Virtanen ja Anna Korhoselle") == "P1 ja P2"
    assert p.text("Virtasen ja Korhosen") == "P1 ja P2"


def test_the_longer_name_part_wins():
    # "Mikael" starts with "Mika": Mikael's forms must not go to Mika
    p = Pseudonymizer(["Mika", "Mikael"])
    assert p.text("Mika, Mikael, Mikalle, Mikaelille, Mikaelin") == "P1, P2, P1, P2, P2"


def test_finnish_inflected_forms_are_still_masked():
    # Finnish names take case endings (and clitics such as -kin): the name
    # plus one of them is the name; -nen names inflect from -se-/-s-
    p = Pseudonymizer(["Aino Virtanen", "Mika", "Tom", "Jean-Luc"])
    out = p.text(
        "Ainon, Ainolle, Ainoon, Ainokin, Ainollekaan; Mikalle, Mikan, Mikaa; "
        "Virtasta, Virtaseen; Tomin, Tomille; Jean-Lucin"
    )
    assert out == "P1, P1, P1, P1, P1; P2, P2, P2; P1, P1; P3, P3; P4"
