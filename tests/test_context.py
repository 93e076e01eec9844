"""Conversation context: neighbours' evidence, on a hand case and real sets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qualcode.codebook import load_codebook
from qualcode.evaluate import read_gold, score_sets
from qualcode.models import Decision, Session, Transcript, Utterance
from qualcode.segment import segment_session
from qualcode.suggest import suggest_segments, suggestions_for
from qualcode.suggest.context import context_logits, group_ids, with_context
from qualcode.suggest.engine import Suggester, SuggestOptions, suggestable_codes
from qualcode.suggest.parallel import _split_points

DATA = Path(__file__).parent / "data"
EMESSI = Path(__file__).parent.parent / "codebooks" / "emessi.yaml"


def test_neighbours_raise_a_code_but_never_lower_it() -> None:
    o = SuggestOptions()
    # one code; units 0-2 in session a, 3-4 in session b
    score = np.array([[0.9], [0.1], [0.9], [0.9], [0.001]])
    added = context_logits(score, ["a", "a", "a", "b", "b"], o)
    shift = o.context_shift
    evidence = max(np.log(9) + shift, 0)
    # unit 1 sits between two likely turns; unit 0 has unit 1 next and unit 2
    # two turns on; the sessions do not mix
    assert added[1, 0] == pytest.approx((o.context_previous + o.context_next) * evidence)
    unit1 = max(np.log(0.1 / 0.9) + shift, 0)
    assert added[0, 0] == pytest.approx(
        o.context_next * unit1 + o.context_next * o.context_far * evidence
    )
    assert added[4, 0] == pytest.approx(o.context_previous * evidence)
    assert added[3, 0] == 0.0  # its only neighbour is very unlikely: no evidence, no penalty
    assert (added >= 0).all()
    raised = with_context(score, added)
    assert (raised >= score - 1e-6).all() and raised[1, 0] > 0.5


def test_a_neighbour_on_another_theme_lowers_a_code_when_asked() -> None:
    o = replace(SuggestOptions(), context_cross=0.1)
    # two codes: the turn before is clearly about the first, this one is vague
    score = np.array([[0.95, 0.01], [0.3, 0.3]])
    added = context_logits(score, ["s", "s"], o)
    evidence = np.log(0.95 / 0.05) + o.context_shift
    assert added[1, 0] == pytest.approx(o.context_previous * evidence)
    assert added[1, 1] == pytest.approx(-0.1 * o.context_previous * evidence)
    after = with_context(score, added)
    assert after[1, 0] > 0.5 > 0.3 > after[1, 1]
    # by default the other theme's evidence changes nothing
    plain = context_logits(score, ["s", "s"], SuggestOptions())
    assert plain[1, 1] == 0.0 and plain[1, 0] == pytest.approx(added[1, 0])


def test_a_decided_neighbour_counts_with_the_coders_answer() -> None:
    o = SuggestOptions()
    score = np.array([[0.5], [0.1], [0.5]])
    none = context_logits(score, ["s"] * 3, o)
    decided = np.array([[0.0], [np.nan], [1.0]])
    with_decisions = context_logits(score, ["s"] * 3, o, decided)
    # the unit before was decided against (no evidence), the one after for it
    assert with_decisions[1, 0] == pytest.approx(
        o.context_next * (np.log(0.95 / 0.05) + o.context_shift)
    )
    assert with_decisions[1, 0] != pytest.approx(none[1, 0])
    off = replace(o, context_previous=0.0, context_next=0.0)
    assert not context_logits(score, ["s"] * 3, off).any()


def test_runs_and_process_splits_follow_sessions() -> None:
    assert group_ids(["a", "a", "b", "a"]).tolist() == [0, 0, 1, 2]
    groups = ["s1"] * 7 + ["s2"] * 5 + ["s3"] * 8
    cuts = _split_points(len(groups), 2, groups)
    assert cuts[0] == 0 and cuts[-1] == 20
    assert all(groups[c] != groups[c - 1] for c in cuts[1:-1])
    assert _split_points(20, 2, None) == [0, 10, 20]


@pytest.mark.parametrize("name", ["emessi-holdout4", "emessi-holdout5"])
def test_reading_turns_in_context_finds_more_of_the_themes(name: str) -> None:
    # held-out talk that tells its themes through episodes: context must
    # lift micro-F1 clearly, recall far more than it costs precision
    # (holdout5 with 7,187 coded units: recall +0.150, precision -0.082)
    book = load_codebook(EMESSI)
    codes = [c.id for c in suggestable_codes(book)]
    rows = read_gold(DATA / f"{name}.csv", codes)
    truth = [r.codes for r in rows]
    model = Suggester(book).fit()
    texts, langs = [r.text for r in rows], [r.lang for r in rows]

    def f1(groups: list[str] | None) -> tuple[float, float, float]:
        s = model.score(texts, langs, groups).score
        pred = [[c for c, v in zip(codes, row, strict=True) if v >= 0.5] for row in s]
        per, micro, _ = score_sets(truth, pred, codes)
        tp = sum(len(set(t) & set(p)) for t, p in zip(truth, pred, strict=True))
        return micro, tp / sum(map(len, truth)), tp / max(sum(map(len, pred)), 1)

    alone, in_context = f1(None), f1([r.session or "" for r in rows])
    assert in_context[0] >= alone[0] + 0.03
    gained, lost = in_context[1] - alone[1], alone[2] - in_context[2]
    assert gained > 0.05 and lost < gained / 1.5


def test_units_rescored_after_retraining_keep_their_context(project) -> None:
    store = project.store
    utterances = [
        Utterance("Miten te saatte vapaaehtoisia mukaan toimintaan?", "Fasilitaattori"),
        Utterance("Meillä ne on aina samat kolme ihmistä, jotka jaksaa tulla.", "Aino"),
        Utterance("Sama täällä. Ja nekin alkaa olla väsyneitä.", "Ville"),
        Utterance("Avustus loppuu ensi vuonna, ja raportti rahoittajalle on myöhässä.", "Kaisa"),
        Utterance("Kuuluuko mun ääni nyt?", "Kaisa"),
    ]
    sid = store.add_session(Session(name="s1", language="fi"), Transcript(utterances))
    segment_session(store, sid, project)
    suggest_segments(store, project, session="s1")
    units = store.segments(sid, codable_only=True)
    whole = {
        u.id: [(s.code_id, round(s.score, 6)) for s in suggestions_for(store, u.id)] for u in units
    }
    # the review screen rescores a few upcoming units after a retrain: each
    # must be read with its neighbours exactly as when the session was scored
    suggest_segments(store, project, [units[2].id, units[4].id])
    for u in units:
        got = [(s.code_id, round(s.score, 6)) for s in suggestions_for(store, u.id)]
        assert got == whole[u.id]
    third = suggestions_for(store, units[2].id)
    assert third[0].code_id == "volunteers" and "neighbouring turns" in third[0].rationale
    # a coder's answer on a neighbour now stands in for its score
    store.record_decision(Decision(units[1].id, "volunteers", "anna", "rejected"))
    store.mark_reviewed(units[1].id, "anna")
    suggest_segments(store, project, [units[2].id])
    after = {s.code_id: s.score for s in suggestions_for(store, units[2].id)}
    assert after.get("volunteers", 0.0) < dict(whole[units[2].id])["volunteers"]
