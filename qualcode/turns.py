"""Words into utterances: a speaker's turn, cut where talk pauses long.

Diarization labels each word with a speaker; a transcript reads in turns.
Consecutive words of one speaker make a turn, but not across a long
silence (a minute of silence inside one cue and one coding unit made the
minutes per code wrong), and a turn that runs on for minutes ends at a
sentence end (one speaker heard in a whole recording was one six-minute
utterance). Whisper's own segments are cut by the same rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from qualcode.errors import QualcodeError
from qualcode.models import Utterance, Word


def _join_words(words: Sequence[Word]) -> str:
    """Words back into text: Whisper words carry their leading space."""
    parts: list[str] = []
    for w in words:
        token = w.word
        if parts and token and not token[0].isspace() and token[0] not in ".,;:!?%)'’":
            token = " " + token
        parts.append(token)
    return " ".join("".join(parts).split())


# a silence this long ends an utterance even when the same voice goes on
# (a minute of silence inside one cue, one coding unit spanning it, wrong
# minutes per code); an utterance this long ends at its next sentence end
# (one speaker heard in a whole recording was one utterance of six minutes)
MAX_PAUSE = 2.0
LONG_TURN = 60.0


def words_to_turns(words: list[Word], speakers: list[str]) -> list[Utterance]:
    """Consecutive words of one speaker merged into an utterance (a turn),
    cut at a long silence and, in a long turn, at a sentence end."""
    if len(words) != len(speakers):
        raise QualcodeError(
            f"{len(words)} words but {len(speakers)} speaker labels; "
            "this is a bug in the diarization stage, please report it"
        )
    turns: list[Utterance] = []
    group: list[Word] = []
    current: str | None = None
    for w, sp in zip(words, speakers, strict=True):
        pause = bool(group) and w.start - group[-1].end > MAX_PAUSE
        long = (
            bool(group)
            and group[-1].end - group[0].start > LONG_TURN
            and group[-1].word.rstrip().endswith((".", "?", "!"))
        )
        if group and (sp != current or pause or long):
            turns.append(_turn(group, current))
            group = []
        group.append(w)
        current = sp
    if group:
        turns.append(_turn(group, current))
    return [t for t in turns if t.text]


def _turn(words: list[Word], speaker: str | None) -> Utterance:
    return Utterance(
        text=_join_words(words),
        speaker=speaker,
        start=words[0].start,
        end=max(w.end for w in words),
        words=list(words),
    )


def split_at_silences(segments: list[Utterance]) -> list[Utterance]:
    """Whisper's segments, each cut where its words leave a long silence
    (``diarize.MAX_PAUSE``): a segment ran across a minute of silence,
    making one subtitle cue and one coding unit of it."""
    out: list[Utterance] = []
    for u in segments:
        gaps = [b.start - a.end for a, b in zip(u.words, u.words[1:], strict=False)]
        if gaps and max(gaps) > MAX_PAUSE:
            out.extend(words_to_turns(u.words, [u.speaker or ""] * len(u.words)))
        else:
            out.append(u)
    for u in out:
        u.speaker = u.speaker or None
    return out
