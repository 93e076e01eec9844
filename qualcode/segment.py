"""Cut a session's speaker turns into coding units.

Coders judge units, not whole turns: a five-minute monologue touches several
themes, while a "Joo." carries none. A unit therefore never crosses a speaker
turn, long turns are split at sentence boundaries into a few sentences each,
and back-channel turns are kept (the transcript stays complete and offsets
stay contiguous) but marked non-codable so nobody is asked to code them.

Every unit is addressed by character offsets into the session's plain text
(``qualcode.transcript.plain_text``), the same offsets REFI-QDA exports use,
and carries start/end times so a coder can play the audio behind it.

Re-segmenting (new options, a corrected transcript) must not lose work: units
whose text is unchanged inherit their decisions, reviews and memos; retired
units whose text is gone keep their decisions and are listed in the report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from qualcode.carry import WORD as _WORD
from qualcode.carry import carry_histories
from qualcode.errors import QualcodeError
from qualcode.models import Segment, Utterance, Word
from qualcode.transcript import utterance_spans

if TYPE_CHECKING:
    from qualcode.project import Project
    from qualcode.store import Store

# One-word or two-word reactions that carry no theme on their own, in the
# languages the project is used with. Lower-case, without punctuation.
BACKCHANNEL = frozenset(
    """
    joo juu jaa jep joojoo niin nii aivan ihan just justiin totta kyllä kyl no noh
    mm mmm mhm hmm hm hm-m aa ai okei ok okay selvä jees kiitos tosiaan nimenomaan
    ja kiva hyvä oikein eli että niinpä varmaan ehkä tota tuota siis
    yeah yes yep yup no nope right sure exactly indeed uh um uh-huh mhmm ah oh
    okay ok alright fine great thanks thank you true absolutely well so and i see
    """.split()
)

# spaCy trained pipelines worth loading when installed: a parser also ends a
# sentence where a transcript has no full stop, and not after "esim." or "ti."
# as the rule-based sentencizer does
_TRAINED = {
    "fi": ("spacy_fi_experimental_web_md", "fi_core_news_sm", "fi_core_news_md"),
    "en": ("en_core_web_sm", "en_core_web_md"),
}


@dataclass
class SegmentOptions:
    """How turns become coding units (``segment:`` in ``qualcode.yaml``).

    max_sentences: at most this many sentences per unit (a turn of more is split).
    max_words: at most about this many words per unit; a single longer
        sentence is cut at a comma or word boundary.
    backchannel_words: a turn of at most this many words, all of them
        back-channel words ("joo", "yeah", "mm"), is not codable.
    min_words: a turn with fewer words than this is not codable either.
    language: spaCy language for sentence splitting; default: the session's,
        else the project's, else multilingual rules.
    spacy_model: a trained spaCy pipeline to use instead of the rule-based
        sentencizer (default: one of the known ones when installed).
    """

    # bounds checked when read from qualcode.yaml (``project.options_from_section``)
    max_sentences: int = field(default=3, metadata={"min": 1})
    max_words: int = field(default=80, metadata={"min": 1})
    # 0: no turn counts as back-channel
    backchannel_words: int = field(default=3, metadata={"min": 0})
    # a turn long enough to be split into several units is not too short to code
    min_words: int = field(default=1, metadata={"min": 0, "order": ("<=", "max_words")})
    language: str | None = None
    spacy_model: str | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> SegmentOptions:
        from qualcode.settings import options_from_section

        return options_from_section(cls, "segment", config)


@dataclass
class SegmentReport:
    """What segmentation did to one session."""

    session_id: int
    n_units: int = 0
    n_codable: int = 0
    # units whose decisions/reviews/memos were kept: on the same unit (its
    # place and text unchanged), carried over to a unit with its text (or
    # nearly: a corrected word), or joined into a unit that holds its text
    n_kept: int = 0
    # retired units that keep decisions but have no unchanged successor
    orphaned: list[Segment] = field(default_factory=list)
    # the sentence splitter used (see ``sentence_splitter``)
    sentences: str = ""


# only the parser (or a senter) and the tok2vec it listens to find sentence
# ends: the rest of a trained pipeline would cost half the time for nothing
_NOT_FOR_SENTENCES = [
    "ner",
    "entity_ruler",
    "lemmatizer",
    "trainable_lemmatizer",
    "textcat",
    "textcat_multilabel",
    "tagger",
    "morphologizer",
    "attribute_ruler",
]
# turns per batch through a trained pipeline: its matrix products run on
# many turns at once
_BATCH = 64
# characters of one turn the pipeline reads at a time (see _pieces)
_PIECE = 100_000


@lru_cache(maxsize=8)
def _pipeline(lang: str, model: str | None) -> tuple[Any, str]:
    """A spaCy pipeline that yields sentences, and what it is (for the report);
    cached per language because loading a trained one takes seconds."""
    import spacy

    names = (model,) if model else _TRAINED.get(lang, ())
    why = ""
    for name in names:
        if not (name and spacy.util.is_package(name)):
            if model:
                raise QualcodeError(
                    f"spaCy pipeline {model!r} is not installed; install it or remove "
                    "segment.spacy_model from qualcode.yaml"
                )
            continue
        try:
            nlp = spacy.load(name, exclude=_NOT_FOR_SENTENCES)
        except (OSError, ImportError, ValueError) as e:
            # an installed pipeline that cannot load (a missing system library,
            # a spaCy version it was not built for) must not stop segmentation
            if model:
                raise QualcodeError(
                    f"spaCy pipeline {model!r} could not be loaded ({e}); reinstall it "
                    "or remove segment.spacy_model from qualcode.yaml"
                ) from e
            why = f" ({name} is installed but could not be loaded: {str(e).splitlines()[0]})"
            continue
        return nlp, f"{name} {nlp.meta.get('version', '')}".strip()
    try:
        nlp = spacy.blank(lang)
    except (ImportError, KeyError, ValueError):
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return nlp, f"spaCy sentencizer ({nlp.lang}){why}"


def sentence_splitter(lang: str, options: SegmentOptions | None = None) -> str:
    """Which sentence splitter segmentation uses for ``lang``: a trained
    pipeline's name and version, or the rule-based sentencizer (and why)."""
    opts = options or SegmentOptions()
    return _pipeline(lang, opts.spacy_model)[1]


# sessions whose units are a coder's passages, not cut by qualcode: a
# REFI-QDA project's coded selections, a coded CSV's rows (``qualcode
# segment`` leaves them as they are)
UNITS_GIVEN = ("qdpx", "csv")


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def is_backchannel(text: str, options: SegmentOptions | None = None) -> bool:
    """True for a turn that carries no codable content ("Joo.", "Yeah, right.")."""
    opts = options or SegmentOptions()
    words = [w.lower() for w in _words(text)]
    if len(words) < opts.min_words:
        return True
    return len(words) <= opts.backchannel_words and all(w in BACKCHANNEL for w in words)


def _split_long(text: str, start: int, end: int, max_words: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence text[start:end] into pieces of at most
    ``max_words`` words, preferring to cut after a comma or semicolon."""
    matches = list(_WORD.finditer(text, start, end))
    pieces: list[tuple[int, int]] = []
    i = 0
    while len(matches) - i > max_words:
        window = matches[i : i + max_words]
        cut = len(window) - 1
        # latest word in the second half of the window that ends a clause
        for j in range(len(window) - 1, len(window) // 2, -1):
            tail = text[window[j].end() : window[j].end() + 1]
            if tail in (",", ";", ":"):
                cut = j
                break
        piece_end = window[cut].end()
        if text[piece_end : piece_end + 1] in (",", ";", ":"):
            piece_end += 1
        pieces.append((start if not pieces else matches[i].start(), piece_end))
        i += cut + 1
    pieces.append((start if not pieces else matches[i].start(), end))
    return pieces


def split_turn(
    text: str, lang: str = "xx", options: SegmentOptions | None = None
) -> list[tuple[int, int]]:
    """(start, end) offsets into ``text`` of the units of one turn; stripped of
    surrounding whitespace, in order, never overlapping."""
    return split_turns([text], lang, options)[0]


def split_turns(
    texts: Sequence[str], lang: str = "xx", options: SegmentOptions | None = None
) -> list[list[tuple[int, int]]]:
    """``split_turn`` of many turns, read through the pipeline in batches."""
    opts = options or SegmentOptions()
    nlp = _pipeline(lang, opts.spacy_model)[0]
    pieces = [
        (i, start, end)
        for i, text in enumerate(texts)
        if text.strip()
        for start, end in _pieces(text)
    ]
    docs = nlp.pipe((texts[i][start:end] for i, start, end in pieces), batch_size=_BATCH)
    spans: dict[int, list[tuple[int, int]]] = {}
    for (i, start, _), doc in zip(pieces, docs, strict=True):
        spans.setdefault(i, []).extend(
            (start + sent.start_char, start + sent.end_char) for sent in doc.sents
        )
    return [_units(text, spans.get(i, []), opts) for i, text in enumerate(texts)]


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of the parts of a turn the pipeline reads one at a time:
    the whole turn, unless it is longer than ``_PIECE`` characters (a whole
    interview pasted as one paragraph), which spaCy would refuse past its
    ``max_length`` and parse in memory that grows with the length. A cut
    falls after a full stop, else at a space."""
    out: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > _PIECE:
        cut = text.rfind(". ", start + 1, start + _PIECE)
        cut = cut + 1 if cut > start else text.rfind(" ", start + 1, start + _PIECE)
        if cut <= start:
            cut = start + _PIECE
        out.append((start, cut))
        start = cut
    out.append((start, len(text)))
    return out


def _units(
    text: str, sents: Sequence[tuple[int, int]], opts: SegmentOptions
) -> list[tuple[int, int]]:
    """The units of one turn from its sentences' (start, end) characters."""
    sentences: list[tuple[int, int, int]] = []  # start, end, n_words
    for s, e in sents:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s == e:
            continue
        n = len(_words(text[s:e]))
        if n > opts.max_words:
            for ps, pe in _split_long(text, s, e, opts.max_words):
                sentences.append((ps, pe, len(_words(text[ps:pe]))))
        else:
            sentences.append((s, e, n))
    units: list[tuple[int, int]] = []
    cur_start, cur_end, cur_n, cur_sents = -1, -1, 0, 0
    for s, e, n in sentences:
        # a word-less fragment ("...") joins the unit before it
        fits = cur_sents < opts.max_sentences and cur_n + n <= opts.max_words
        if cur_start >= 0 and (fits or n == 0):
            cur_end, cur_n, cur_sents = e, cur_n + n, cur_sents + (1 if n else 0)
            continue
        if cur_start >= 0:
            units.append((cur_start, cur_end))
        cur_start, cur_end, cur_n, cur_sents = s, e, n, 1
    if cur_start >= 0:
        units.append((cur_start, cur_end))
    return units


def _word_offsets(text: str, words: list[Word]) -> list[tuple[int, int, Word]]:
    """Find each timed word in the utterance text, in order; words that cannot
    be found (the text was corrected) are skipped."""
    out: list[tuple[int, int, Word]] = []
    pos = 0
    for w in words:
        token = w.word.strip()
        if not token:
            continue
        at = text.find(token, pos)
        if at < 0 or at - pos > 40 + len(token):
            continue
        out.append((at, at + len(token), w))
        pos = at + len(token)
    return out


def _times(
    u: Utterance, start: int, end: int, located: list[tuple[int, int, Word]]
) -> tuple[float | None, float | None]:
    inside = [w for ws, we, w in located if we > start and ws < end]
    if inside:
        return inside[0].start, inside[-1].end
    if u.start is None or u.end is None:
        return u.start, u.end
    n = max(len(u.text), 1)
    span = u.end - u.start
    return u.start + span * start / n, u.start + span * end / n


def _headings(utterances: list[Utterance]) -> list[int]:
    """Lines before the first speaker of a transcript whose turns have
    speakers, short and without a sentence end ("Ryhmä 1, tapaaminen 2"):
    a title, kept in the text but not offered for coding."""
    if not any(u.speaker for u in utterances):
        return []
    out = []
    for i, u in enumerate(utterances):
        if u.speaker:
            break
        text = u.text.strip()
        if text and len(_words(text)) <= 12 and not re.search(r"[.?!…]['\"”’)]*$", text):
            out.append(i)
    return out


def segment_utterances(
    utterances: list[Utterance],
    session_id: int,
    *,
    lang: str = "xx",
    options: SegmentOptions | None = None,
) -> list[Segment]:
    """Coding units of a session's utterances (not stored). Offsets refer to
    ``plain_text(utterances)``."""
    opts = options or SegmentOptions()
    segments: list[Segment] = []
    back = [not u.text.strip() or is_backchannel(u.text, opts) for u in utterances]
    for i in _headings(utterances):
        back[i] = True
    turns = [u.text for u, b in zip(utterances, back, strict=True) if not b]
    split = iter(split_turns(turns, lang, opts))
    for u, b, (base, _) in zip(utterances, back, utterance_spans(utterances), strict=True):
        if not u.text.strip():
            continue
        located = _word_offsets(u.text, u.words) if u.words else []
        if b:
            s = len(u.text) - len(u.text.lstrip())
            e = len(u.text.rstrip())
            pieces, codable = [(s, e)], False
        else:
            pieces, codable = next(split), True
        for s, e in pieces:
            start, end = _times(u, s, e, located)
            segments.append(
                Segment(
                    session_id=session_id,
                    seq=len(segments),
                    text=u.text[s:e],
                    char_start=base + s,
                    char_end=base + e,
                    speaker=u.speaker,
                    utterance_id=u.id,
                    start=start,
                    end=end,
                    codable=codable,
                )
            )
    return segments


def _language(store: Store, session_id: int, project: Project | None, opts: SegmentOptions) -> str:
    if opts.language:
        return opts.language
    session = store.get_session(session_id)
    for lang in (session.language, project.config.language if project else None):
        if lang and lang != "auto":
            return lang
    return "xx"


def segment_session(
    store: Store,
    session_id: int,
    project: Project | None = None,
    options: SegmentOptions | None = None,
) -> SegmentReport:
    """(Re-)segment one stored session, carrying decisions over to units whose
    text is unchanged. Options default to ``segment:`` in the project config."""
    if options is None:
        options = SegmentOptions.from_config(project.config.segment if project else None)
    lang = _language(store, session_id, project, options)
    utterances = store.utterances(session_id)
    units = segment_utterances(utterances, session_id, lang=lang, options=options)
    # speaker names become participant ids so reports can group by them
    pids: dict[str, int] = {}
    for unit in units:
        if unit.speaker:
            if unit.speaker not in pids:
                pids[unit.speaker] = store.participant_id(unit.speaker)
            unit.participant_id = pids[unit.speaker]
    report = SegmentReport(
        session_id=session_id, n_units=len(units), sentences=sentence_splitter(lang, options)
    )
    report.n_codable = sum(u.codable for u in units)
    with store.transaction():
        new_ids = store.replace_segments(session_id, units)
        for unit, new_id in zip(units, new_ids, strict=True):
            unit.id = new_id
        report.n_kept, report.orphaned = carry_histories(store, session_id, units, new_ids)
    return report
