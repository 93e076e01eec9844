"""Pseudonymisation for everything that leaves the machine.

The groups agreed on confidentiality, so an export may carry the talk but not
who said it: every export (units csv/xlsx, transcripts, REFI-QDA) takes
``--pseudonymize`` and runs names and text through one ``Pseudonymizer``,
so P3 is the same person in every file of a project.

* Participant names become P1..Pn in order of first appearance (sessions in
  the order they entered the project, then utterance order): stable when new
  sessions are added.
* Inside text: e-mail addresses become ``[email]``, phone numbers
  ``[phone]``, and the participants' names (full names and each part, such as
  first names) become their pseudonyms. Finnish inflects names ("Ainon",
  "Ainolle", "Pekan", "Virtaselle"), so a name matches with any letters
  after it, also from its weak-grade stem (Pekka -> Peka-, Matti -> Mati-)
  and, for -nen names, the -se- stem (Virtanen -> Virtase-). Names are
  matched case-sensitively (capitalised) so that common words like "aino"
  stay; when in doubt it masks rather than leaks.
"""

from __future__ import annotations

import re
from typing import Any

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# starts with +, 0 or (0: Finnish and international numbers, not amounts or years
PHONE = re.compile(r"(?<![\w+])(?:\+\d|\(0|0)[\d\s()/.-]{5,}\d(?!\w)")
_DIARIZATION_LABEL = re.compile(r"^(?:SPEAKER|Speaker|speaker)[ _]?\d+$")
_DOUBLE = re.compile(r"(kk|pp|tt)([aeiouyäö])$")


def name_stems(part: str) -> set[str]:
    """The forms a name part can take before a Finnish case ending."""
    stems = {part}
    m = _DOUBLE.search(part)
    if m:  # consonant gradation: Pekka -> Pekan, Matti -> Matille
        stems.add(part[: m.start()] + m.group(1)[0] + m.group(2))
    if part.endswith("nen") and len(part) > 4:  # Virtanen -> Virtasen, Virtaselle
        stems.add(part[:-3] + "se")
    return stems


class Pseudonymizer:
    """Maps real participant names to P1..Pn and masks text.

    ``names``: participant names in order of first appearance.
    """

    def __init__(self, names: list[str]) -> None:
        self.mapping: dict[str, str] = {}
        for name in names:
            self.name(name)
        self._pattern: re.Pattern[str] | None = None

    @classmethod
    def from_store(cls, store: Any) -> Pseudonymizer:
        return cls(store.participants_by_first_appearance())

    def name(self, real: str | None) -> str | None:
        """The pseudonym of a participant (a new number for a name not seen yet)."""
        if real is None:
            return None
        if real not in self.mapping:
            self.mapping[real] = f"P{len(self.mapping) + 1}"
            self._pattern = None
        return self.mapping[real]

    def _name_pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None:
            forms: dict[str, str] = {}
            for real, alias in self.mapping.items():
                if _DIARIZATION_LABEL.match(real):
                    continue  # SPEAKER_1 does not occur in the talk
                parts = [p for p in re.split(r"[\s,]+", real) if len(p) >= 2]
                if len(parts) > 1:
                    forms.setdefault(" ".join(parts), alias)
                for part in parts:
                    for stem in name_stems(part):
                        forms.setdefault(stem, alias)
            self._forms = forms
            if not forms:
                return None
            # longest first, so "Aino Virtanen" wins over "Aino"
            alts = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
            # name, optional ":" (Johnin / John:in), then any letters (case endings)
            self._pattern = re.compile(rf"(?<!\w)({alts})(?::?[^\W\d_]*)")
        return self._pattern

    def text(self, text: str | None) -> str | None:
        """``text`` with e-mail addresses, phone numbers and participant names masked."""
        if text is None:
            return None
        text = EMAIL.sub("[email]", text)
        text = PHONE.sub(
            lambda m: "[phone]" if 7 <= sum(ch.isdigit() for ch in m.group()) <= 15 else m.group(),
            text,
        )
        pattern = self._name_pattern()
        if pattern is not None:
            text = pattern.sub(lambda m: self._forms[m.group(1)], text)
        return text
