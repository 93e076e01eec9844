"""Suggestion settings: the ``suggest:`` section of ``qualcode.yaml``.

Kept apart from the engine so a project's settings can be read (and checked)
without loading the scoring code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SuggestOptions:
    """Suggestion settings (``suggest:`` in ``qualcode.yaml``).

    threshold: a score at or above this counts as "suggested" (evaluate,
        the review queue's uncertainty, the accept-all shortcut).
    min_score: suggestions scoring below this are not stored or shown.
    max_suggestions: at most this many suggestions per unit.
    retrain_every: retrain automatically after this many new decisions.
    max_accepted_examples: accepted units kept per code as examples for the
        similarity signal (the latest ones; bounds scoring time).
    keyword_weight, extra_keyword_weight: logit added by the first matched
        keyword and by each further one (capped at three more).
    similarity_weight, margin_weight: logit per unit of cosine similarity to the
        nearest example, and per unit of its lead over the best other code.
    vocabulary_weight, vocabulary_margin_weight: the same for the similarity
        to the code's keyword list read as one text (catches keywords that
        appear in a form the rules do not match, and compounds).
    bias: logit of a code with no keyword and no similarity.
    coded_units: learn from the codebook's own coded units (its
        ``coded_units:`` CSV) as if they were decisions, before the project's.
    context: read each unit in its session, with the turns around it (see
        ``context``); false scores every unit on its own.
    context_base, context_stay: the chance that a turn takes up a code's
        theme, and that the next turn stays on it; unset (the default),
        they are learned from the codebook's coded units and the coders'
        decisions in their sessions.
    context_floor: the most a unit's own low score counts against a theme,
        in log-odds (negative): lower trusts a unit's own score more against
        the turns around it.
    """

    # bounds are checked when read from qualcode.yaml
    # (``project.options_from_section``): "min"/"max" closed, "above"/"below" open
    threshold: float = field(default=0.5, metadata={"min": 0, "max": 1})
    # above the threshold it would drop suggestions review should pre-select
    min_score: float = field(
        default=0.1, metadata={"min": 0, "max": 1, "order": ("<=", "threshold")}
    )
    max_suggestions: int = field(default=5, metadata={"min": 1})
    # not 0: review would read it as never, ``maybe_retrain`` as always
    retrain_every: int = field(default=20, metadata={"min": 1})
    # 0: accepted units are not used as examples
    max_accepted_examples: int = field(default=50, metadata={"min": 0})
    # weights of evidence for a code: a negative one would count it against
    keyword_weight: float = field(default=3.5, metadata={"min": 0})
    extra_keyword_weight: float = field(default=0.6, metadata={"min": 0})
    similarity_weight: float = field(default=8.5, metadata={"min": 0})
    margin_weight: float = field(default=8.0, metadata={"min": 0})
    vocabulary_weight: float = field(default=7.0, metadata={"min": 0})
    vocabulary_margin_weight: float = field(default=13.5, metadata={"min": 0})
    bias: float = -4.3
    coded_units: bool = True
    context: bool = True
    # probabilities; ``context.chain_for`` drops the context unless base < stay
    context_base: float | None = field(
        default=None, metadata={"above": 0, "below": 1, "order": ("<", "context_stay")}
    )
    context_stay: float | None = field(default=None, metadata={"above": 0, "below": 1})
    context_floor: float = field(default=-3.0, metadata={"max": 0})

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> SuggestOptions:
        from qualcode.settings import options_from_section

        return options_from_section(cls, "suggest", config)
