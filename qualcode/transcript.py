"""A session's plain text: the one text every offset refers to.

Exchange formats (REFI-QDA) and coding units address text by character
offsets, so the plain text must be derivable from the utterances alone and
never change for the same utterances: one line per utterance, ``Speaker: text``
(just ``text`` when the speaker is unknown), lines joined by ``\\n``, no
trailing newline. Offsets count Unicode code points, as the REFI-QDA standard
does.
"""

from __future__ import annotations

from collections.abc import Iterable

from qualcode.models import Utterance


def line_prefix(speaker: str | None) -> str:
    return f"{speaker}: " if speaker else ""


def plain_text(utterances: Iterable[Utterance]) -> str:
    return "\n".join(line_prefix(u.speaker) + u.text for u in utterances)


def utterance_spans(utterances: Iterable[Utterance]) -> list[tuple[int, int]]:
    """(start, end) offsets of each utterance's *text* (without the speaker
    prefix) in ``plain_text`` of the same utterances."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for u in utterances:
        start = pos + len(line_prefix(u.speaker))
        end = start + len(u.text)
        spans.append((start, end))
        pos = end + 1  # the newline
    return spans


def format_time(seconds: float | None, *, millis: bool = False) -> str:
    if seconds is None:
        return "--:--"
    total_ms = int(round(seconds * 1000))
    h, rem = divmod(total_ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    base = f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
    return f"{base}.{ms:03d}" if millis else base
