"""Pseudonymisation for everything that leaves the machine.

The groups agreed on confidentiality, so an export may carry the talk but not
who said it: every export (units csv/xlsx, transcripts, REFI-QDA) takes
``--pseudonymize`` and runs names and text through one ``Pseudonymizer``,
so P3 is the same person in every file of a project.

* Participant names become P1..Pn in order of first appearance (sessions in
  the order they entered the project, then utterance order): stable when new
  sessions are added.
* Inside text: e-mail addresses become ``[email]``, phone numbers
  ``[phone]``, and the participants' names their pseudonyms. A name is split
  into parts on spaces, hyphens and punctuation ("Anna-Liisa Korhonen":
  Anna, Liisa, Korhonen; "Dr. (Jones)": Jones; titles such as Dr or Prof are
  no names), and a word of the text is a name when it is a part, or a part
  followed by a Finnish case ending and/or a clitic ("Ainon", "Ainolle",
  "Ainokin"; "Tomille" with the linking i after a consonant), also from the
  part's weak-grade stem (Pekka -> Pekan, Matti -> Matille) and, for -nen
  names, the -se-/-s- stems (Virtanen -> Virtaselle, Virtasta). Any other
  longer word stays: "Like" is not Li, "Tomorrow" not Tom. After a colon or
  apostrophe anything goes ("Li:n", "Tom's"). The longest part wins ("Liisa"
  is Liisa, not Li + "isa"); parts of one name next to each other ("Aino
  Virtanen", "Jean-Luc") become one pseudonym.
* Names are matched case-sensitively (as written, normally capitalised), so
  common words like "aino" stay. One-letter parts (the speaker "A", initials)
  are not searched for: they would hit the word "A"/"a" everywhere. A part
  that two participants share (two Annas) becomes ``[name]`` unless a
  neighbouring part tells whose it is ("Anna Virtanen").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# starts with +, 0 or (0: Finnish and international numbers, not amounts or years
PHONE = re.compile(r"(?<![\w+])(?:\+\d|\(0|0)[\d\s()/.-]{5,}\d(?!\w)")
_DIARIZATION_LABEL = re.compile(r"^(?:SPEAKER|Speaker|speaker)[ _]?\d+$")
_DOUBLE = re.compile(r"(kk|pp|tt)([aeiouyäö])$")


# endings after a vowel (Aino-n, Aino-lle) and, with the linking i, after a
# consonant (Tom-in, Tom-ille); both vowel-harmony variants are allowed
_CASES = "n a ä ta tä ssa ssä sta stä lla llä lta ltä lle na nä ksi tta ttä t".split()
_AFTER_VOWEL = frozenset(_CASES)
_AFTER_CONSONANT = frozenset(
    "in ia iä issa issä ista istä illa illä ilta iltä ille ina inä iksi itta ittä it iin".split()
)
_CLITICS = ("kin", "kaan", "kään", "ko", "kö", "han", "hän", "pa", "pä")
_VOWELS = frozenset("aeiouyäöåéèáàíóúü")
_TITLES = frozenset(
    "dr mr mrs ms miss mx prof sir dame rev fr jr sr".split()
    + "tri tohtori professori herra rouva neiti".split()  # Finnish
)
# a word of the text: letters, possibly with suffixes after : or ' (Li:n, Tom's)
_WORD = re.compile(r"[^\W\d_]+(?:[:'’][^\W\d_]+)*")
_PART = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# what may stand between two parts of one name: spaces or a hyphen
_JOIN = re.compile(r"[^\S\n]+|[-‐‑–]")
AMBIGUOUS = "[name]"


def name_parts(real: str) -> list[str]:
    """The parts of a name searched for in text: split on spaces, hyphens and
    punctuation, without titles (Dr, Prof) and one-letter parts (initials)."""
    return [p for p in _PART.findall(real) if len(p) >= 2 and p.lower() not in _TITLES]


def name_stems(part: str) -> set[str]:
    """The forms a name part can take before a Finnish case ending."""
    stems = {part}
    m = _DOUBLE.search(part)
    if m:  # consonant gradation: Pekka -> Pekan, Matti -> Matille
        stems.add(part[: m.start()] + m.group(1)[0] + m.group(2))
    if part.endswith("nen") and len(part) > 4:  # Virtanen -> Virtasen, Virtaselle
        stems.add(part[:-3] + "se")
    return stems


def _endings(stem: str) -> frozenset[str]:
    if stem[-1].lower() in _VOWELS:  # illative lengthens the vowel: Ainoon, Virtaseen
        return _AFTER_VOWEL | {stem[-1] + "n"}
    return _AFTER_CONSONANT


@dataclass(frozen=True)
class _Stem:
    alias: str
    bare: bool  # the stem is the name itself (Pekka), not only a stem (Peka-)
    endings: frozenset[str]

    def takes(self, rest: str) -> bool:
        """Whether ``rest`` after this stem leaves the word a form of the name."""
        if not rest or rest[0] in ":'’":  # Pekka; Li:n, Tom's
            return self.bare
        for clitic in ("", *_CLITICS):  # Ainollekin, Ainokin
            if rest.endswith(clitic):
                case = rest[: len(rest) - len(clitic)]
                if case in self.endings or (not case and clitic and self.bare):
                    return True
        return False


class Pseudonymizer:
    """Maps real participant names to P1..Pn and masks text.

    ``names``: participant names in order of first appearance.
    """

    def __init__(self, names: list[str], former: dict[str, list[str]] | None = None) -> None:
        self.mapping: dict[str, str] = {}
        # earlier names of a participant (Leena, renamed L): the talk still
        # says them, so they are masked with that participant's pseudonym
        self.former = former or {}
        self._index: dict[str, list[_Stem]] | None = None
        for name in names:
            self.name(name)

    @classmethod
    def from_store(cls, store: Any) -> Pseudonymizer:
        return cls(store.participants_by_first_appearance(), store.former_speaker_names())

    def name(self, real: str | None) -> str | None:
        """The pseudonym of a participant (a new number for a name not seen yet)."""
        if real is None:
            return None
        if real not in self.mapping:
            self.mapping[real] = f"P{len(self.mapping) + 1}"
            self._index = None
        return self.mapping[real]

    def _stems(self) -> dict[str, list[_Stem]]:
        if self._index is None:
            index: dict[str, list[_Stem]] = {}
            spoken = [
                (known, alias)
                for real, alias in self.mapping.items()
                for known in (real, *self.former.get(real, ()))
            ]
            for real, alias in spoken:
                if _DIARIZATION_LABEL.match(real):
                    continue  # SPEAKER_1 does not occur in the talk
                for part in name_parts(real):
                    for stem in name_stems(part):
                        index.setdefault(stem, []).append(
                            _Stem(alias, stem == part, _endings(stem))
                        )
                    if part.endswith("nen") and len(part) > 4:  # Virtasta, Virtasille
                        index.setdefault(part[:-3] + "s", []).append(
                            _Stem(alias, False, _AFTER_CONSONANT | {"ta", "tä", "ten"})
                        )
            self._index = index
        return self._index

    def _who(self, word: str) -> set[str]:
        """Pseudonyms ``word`` may stand for: the longest stem it is a form of
        wins (Liisa is Liisa, not Li + "isa"); empty when it is no name."""
        index = self._stems()
        for cut in range(len(word), 1, -1):
            stems = index.get(word[:cut])
            if stems:
                found = {s.alias for s in stems if s.takes(word[cut:])}
                if found:
                    return found
        return set()

    def _mask_names(self, text: str) -> str:
        hits = [(m.start(), m.end(), w) for m in _WORD.finditer(text) if (w := self._who(m[0]))]
        out: list[str] = []
        pos = i = 0
        while i < len(hits):
            start, end, who = hits[i]
            i += 1
            # parts of one name next to each other are one name; a shared part
            # (Anna) is settled by its neighbour (Anna Virtanen)
            while i < len(hits) and _JOIN.fullmatch(text, end, hits[i][0]) and who & hits[i][2]:
                end, who = hits[i][1], who & hits[i][2]
                i += 1
            out += [text[pos:start], next(iter(who)) if len(who) == 1 else AMBIGUOUS]
            pos = end
        out.append(text[pos:])
        return "".join(out)

    def text(self, text: str | None) -> str | None:
        """``text`` with e-mail addresses, phone numbers and participant names masked."""
        if text is None:
            return None
        text = EMAIL.sub("[email]", text)
        text = PHONE.sub(
            lambda m: "[phone]" if 7 <= sum(ch.isdigit() for ch in m.group()) <= 15 else m.group(),
            text,
        )
        if self.mapping:
            text = self._mask_names(text)
        return text
