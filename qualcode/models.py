"""Plain dataclasses that pass between pipeline stages.

Stages take and return these, never database rows, so the store can change
(SQLite now, a shared PostgreSQL later) without touching any stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["accepted", "rejected", "added"]
VERDICTS: tuple[str, ...] = ("accepted", "rejected", "added")


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float | None = None


@dataclass
class Utterance:
    """One speaker turn (or subtitle cue / paragraph) in a session."""

    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    words: list[Word] = field(default_factory=list)
    id: int | None = None
    seq: int | None = None


@dataclass
class Transcript:
    """What an importer or transcription engine produces for one file."""

    utterances: list[Utterance]
    language: str | None = None
    duration: float | None = None
    source_format: str | None = None
    # engine, model and settings for transcribed sessions; free-form for imports
    metadata: dict = field(default_factory=dict)


@dataclass
class Session:
    name: str
    id: int | None = None
    group: str | None = None
    recorded_at: str | None = None
    media_path: str | None = None
    media_sha256: str | None = None
    source_path: str | None = None
    source_sha256: str | None = None
    source_format: str | None = None
    language: str | None = None
    duration: float | None = None
    settings: dict = field(default_factory=dict)
    settings_key: str | None = None
    created_at: str | None = None
    # filled by listings
    n_utterances: int = 0
    n_speakers: int = 0


@dataclass
class Participant:
    name: str
    id: int | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    # filled by listings
    n_utterances: int = 0
    sessions: list[str] = field(default_factory=list)


@dataclass
class Segment:
    """A coding unit: part of one speaker turn, addressed by character offsets
    into the session's plain text (see ``qualcode.transcript.plain_text``)."""

    session_id: int
    seq: int
    text: str
    char_start: int
    char_end: int
    speaker: str | None = None
    participant_id: int | None = None
    utterance_id: int | None = None
    start: float | None = None
    end: float | None = None
    codable: bool = True
    original_text: str | None = None
    id: int | None = None


@dataclass
class Code:
    id: str
    label: str
    parent_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    description: dict[str, str] = field(default_factory=dict)
    color: str | None = None
    position: int = 0
    active: bool = True


@dataclass
class Suggestion:
    segment_id: int
    code_id: str
    score: float
    rationale: str = ""
    model_version: str | None = None


@dataclass
class Decision:
    segment_id: int
    code_id: str
    coder: str
    verdict: str  # one of VERDICTS
    memo: str | None = None
    decided_at: str | None = None
    id: int | None = None
