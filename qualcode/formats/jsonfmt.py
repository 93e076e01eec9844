"""qualcode's own JSON transcript format (see docs/formats.md).

The one format that keeps everything a transcription produces: word timings
and probabilities, the language, the engine settings. Transcription writes
it, import reads it back, so a transcript can be corrected outside qualcode
or moved between projects without losing anything. Whisper's own
``--output_format json`` (``{"text", "segments": [...]}``) is read too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, TextIO

from qualcode.errors import FormatError
from qualcode.formats._text import read_text, strip_controls
from qualcode.models import Transcript, Utterance, Word

VERSION = 1


def _number(path: Path, where: str, value: Any, *, required: bool = False) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FormatError(path, f"{where}: expected a number of seconds, found {value!r}")
    return float(value)


def _text(path: Path, where: str, value: Any, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise FormatError(path, f"{where}: expected a string, found {value!r}")
    # read_text removed raw control characters; JSON escapes (\u001b) bring them back
    return strip_controls(value)


def _words(path: Path, where: str, items: Any) -> list[Word]:
    if items is None:
        return []
    if not isinstance(items, list):
        raise FormatError(path, f"{where}: expected a list of words")
    words = []
    for j, w in enumerate(items):
        at = f"{where}[{j}]"
        if not isinstance(w, dict):
            raise FormatError(path, f"{at}: expected an object with start, end, word")
        prob = w.get("probability")
        words.append(
            Word(
                start=_number(path, f"{at}.start", w.get("start"), required=True) or 0.0,
                end=_number(path, f"{at}.end", w.get("end"), required=True) or 0.0,
                word=_text(path, f"{at}.word", w.get("word")) or "",
                probability=_number(path, f"{at}.probability", prob) if prob is not None else None,
            )
        )
    return words


def _utterance(path: Path, where: str, item: Any, text_key: str = "text") -> Utterance:
    if not isinstance(item, dict):
        raise FormatError(path, f"{where}: expected an object with speaker, start, end, text")
    start = _number(path, f"{where}.start", item.get("start"))
    end = _number(path, f"{where}.end", item.get("end"))
    if start is not None and end is not None and end < start:
        raise FormatError(path, f"{where}: end {end} is before start {start}")
    return Utterance(
        text=_text(path, f"{where}.{text_key}", item.get(text_key)) or "",
        speaker=_text(path, f"{where}.speaker", item.get("speaker"), optional=True),
        start=start,
        end=end,
        words=_words(path, f"{where}.words", item.get("words")),
    )


def read_json(path: Path) -> Transcript:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as e:
        raise FormatError(path, f"not valid JSON: {e.msg} (column {e.colno})", e.lineno) from None
    if not isinstance(data, dict):
        raise FormatError(path, "expected a JSON object with qualcode_transcript and utterances")
    if "qualcode_transcript" not in data and isinstance(data.get("segments"), list):
        return _read_whisper(path, data)
    version = data.get("qualcode_transcript")
    if version is None:
        raise FormatError(
            path, 'not a qualcode transcript: no "qualcode_transcript": 1 (see docs/formats.md)'
        )
    if isinstance(version, str) and version.strip() == str(VERSION):
        raise FormatError(
            path, f'"qualcode_transcript" is the text "{version}"; write the number {VERSION}'
        )
    if version != VERSION:
        raise FormatError(
            path,
            f"qualcode_transcript version {version!r} is not supported (this qualcode "
            f"reads version {VERSION}); upgrade qualcode",
        )
    items = data.get("utterances")
    if not isinstance(items, list):
        raise FormatError(path, '"utterances": expected a list')
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise FormatError(path, '"metadata": expected an object')
    return Transcript(
        utterances=[_utterance(path, f"utterances[{i}]", u) for i, u in enumerate(items)],
        language=_text(path, "language", data.get("language"), optional=True),
        duration=_number(path, "duration", data.get("duration")),
        source_format="json",
        metadata=metadata,
    )


def _read_whisper(path: Path, data: dict) -> Transcript:
    utterances = []
    for i, seg in enumerate(data["segments"]):
        u = _utterance(path, f"segments[{i}]", seg)
        u.text = u.text.strip()
        for w in u.words:
            w.word = w.word.strip()
        if u.text:
            utterances.append(u)
    return Transcript(
        utterances=utterances,
        language=_text(path, "language", data.get("language"), optional=True),
        duration=max((u.end for u in utterances if u.end is not None), default=None),
        source_format="json",
        metadata={"from": "whisper-json"},
    )


def transcript_dict(transcript: Transcript) -> dict:
    return {
        "qualcode_transcript": VERSION,
        "language": transcript.language,
        "duration": transcript.duration,
        "metadata": transcript.metadata,
        "utterances": [
            {
                "speaker": u.speaker,
                "start": u.start,
                "end": u.end,
                "text": u.text,
                "words": [
                    {"start": w.start, "end": w.end, "word": w.word, "probability": w.probability}
                    for w in u.words
                ],
            }
            for u in transcript.utterances
        ],
    }


def write_json(transcript: Transcript, out: TextIO | str | Path) -> None:
    """Write ``transcript`` as qualcode JSON to a stream or a path (UTF-8)."""
    if isinstance(out, str | Path):
        from qualcode.outfile import replacing

        with replacing(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
            write_json(transcript, f)
        return
    json.dump(transcript_dict(transcript), out, ensure_ascii=False, indent=1)
    out.write("\n")
