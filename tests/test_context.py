"""Conversation context: neighbours' evidence, on a hand case and real sets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qualcode.codebook import load_codebook
from qualcode.evaluate import GoldUnit, read_gold, score_sets
from qualcode.models import Decision, Session, Transcript, Utterance
from qualcode.segment import segment_session
from qualcode.suggest import suggest_segments, suggestions_for
from qualcode.suggest.coded import positions
from qualcode.suggest.context import (
    PRIOR_PAIRS,
    PRIOR_STAY,
    PRIOR_UNITS,
    RATE_SCALE,
    STAY_SCALE,
    ThemeChain,
    chain_for,
    context_logits,
    fit_chain,
    group_ids,
    with_context,
)
from qualcode.suggest.engine import Suggester, SuggestOptions, suggestable_codes
from qualcode.suggest.parallel import _split_points

DATA = Path(__file__).parent / "data"
EMESSI = Path(__file__).parent.parent / "codebooks" / "emessi.yaml"


CHAIN = ThemeChain(base=0.12, stay=0.5)


def _exact(score: np.ndarray, chain: ThemeChain, decided: np.ndarray | None = None) -> np.ndarray:
    """Forward-backward over one whole session, state by state, with no
    windows: what context_logits must give (as scores)."""
    stay, base = chain.stay, chain.base
    q = (1 - stay) * base / (1 - base)
    trans = np.array([[stay, 1 - stay], [q, 1 - q]])
    lb = np.log(base / (1 - base))
    own = np.log(score / (1 - score))
    z = own
    if decided is not None:  # a decision reads as a score of 0.95 or 0.02
        sure = np.where(decided > 0, 0.95, 0.02)
        z = np.where(np.isnan(decided), own, np.log(sure / (1 - sure)))
    out = np.zeros(score.shape)
    for c in range(score.shape[1]):
        e = np.exp(np.maximum(z[:, c] - lb, chain.floor))
        n = len(e)
        fwd = np.zeros((n, 2))  # before t's own evidence
        p = np.array([base, 1 - base])
        for t in range(n):
            fwd[t] = p
            p = (p * [e[t], 1.0]) @ trans
            p /= p.sum()
        bwd = np.ones((n, 2))
        for t in range(n - 2, -1, -1):
            bwd[t] = trans @ (np.array([e[t + 1], 1.0]) * bwd[t + 1])
            bwd[t] /= bwd[t].sum()
        own_e = np.exp(np.maximum(own[:, c] - lb, chain.floor))
        post = fwd * bwd * np.stack([own_e, np.ones(n)], 1)
        out[:, c] = post[:, 0] / post.sum(1)
    return out


def test_context_is_the_whole_sessions_forward_backward() -> None:
    # long sessions run in overlapping windows: the same as one pass over
    # the session, and sessions never mix
    rng = np.random.default_rng(0)
    score = rng.beta(0.4, 2.5, size=(700, 3)).clip(1e-4, 1 - 1e-4)
    groups = ["long"] * 450 + ["one"] + ["short"] * 9 + ["mid"] * 240
    for chain in (CHAIN, ThemeChain(base=0.05, stay=0.2), ThemeChain(base=0.2, stay=0.9)):
        got = with_context(score, context_logits(score, groups, chain))
        bounds = [0, 450, 451, 460, 700]
        for lo, hi in zip(bounds, bounds[1:], strict=False):
            assert got[lo:hi] == pytest.approx(_exact(score[lo:hi], chain), abs=1e-6)
    # how far a rescored unit must be read: the more the talk stays, the further
    assert ThemeChain(0.05, 0.2).reach() < CHAIN.reach() < 40 < ThemeChain(0.2, 0.9).reach()


def test_a_theme_carries_through_vague_turns_and_fades() -> None:
    # two vague replies with no words of their own between two clear turns
    score = np.array([[0.9], [0.12], [0.12], [0.9]])
    after = with_context(score, context_logits(score, ["s"] * 4, CHAIN))[:, 0]
    assert after[1] > 0.5 and after[2] > 0.5
    # after one clear turn the lift fades turn by turn
    score = np.array([[0.97]] + [[0.12]] * 12)
    after = with_context(score, context_logits(score, ["s"] * 13, CHAIN))[:, 0]
    lifted = after[1:] - score[1:, 0]
    assert lifted[0] > 0.3 and (np.diff(lifted) < 0).all() and lifted[-1] < 0.01
    # a clear turn stays suggested among unlikely ones, a little less sure
    clear = np.array([[0.001], [0.9], [0.001]])
    mid = with_context(clear, context_logits(clear, ["s"] * 3, CHAIN))[1, 0]
    assert 0.5 < mid < 0.9
    # a turn alone in its session keeps its own score
    assert context_logits(np.array([[0.3]]), ["x"], CHAIN)[0, 0] == pytest.approx(0.0)


def test_a_decided_neighbour_counts_with_the_coders_answer() -> None:
    score = np.array([[0.5], [0.3], [0.5]])
    none = with_context(score, context_logits(score, ["s"] * 3, CHAIN))
    yes = np.array([[1.0], [np.nan], [1.0]])
    no = np.array([[0.0], [np.nan], [0.0]])
    raised = with_context(score, context_logits(score, ["s"] * 3, CHAIN, yes))
    lowered = with_context(score, context_logits(score, ["s"] * 3, CHAIN, no))
    assert lowered[1, 0] < none[1, 0] < raised[1, 0]
    assert raised[1, 0] == pytest.approx(_exact(score, CHAIN, yes)[1, 0], abs=1e-6)
    assert not context_logits(score, ["s"] * 3, None).any()


def test_how_talk_moves_between_themes_is_learned_from_labelled_sessions() -> None:
    # code 0 comes in runs of three, code 1 never follows itself
    y = np.zeros((60, 2))
    y[[k for k in range(60) if k % 6 < 3], 0] = 1
    y[1::4, 1] = 1
    known = np.ones_like(y, dtype=bool)
    where = [("s", k) for k in range(60)]
    rate, stay, labels, pairs = fit_chain(y, known, where)
    positive = 30 + 15
    assert labels == 120
    assert rate == pytest.approx((positive + PRIOR_UNITS) / (120 + 2 * PRIOR_UNITS))
    # code 0: 30 units on, each followed by its run 20 times; code 1: 15, never
    assert pairs == 30 + 15
    assert stay == pytest.approx((20 + PRIOR_STAY * PRIOR_PAIRS) / (45 + PRIOR_PAIRS))
    # units not next to each other (another session, a gap, unknown) are no pair
    apart = [("s", 2 * k) for k in range(30)] + [(f"t{k}", 0) for k in range(30)]
    assert fit_chain(y, known, apart)[3] == 0
    assert fit_chain(y, known, [None] * 60)[1] == pytest.approx(PRIOR_STAY)
    # what the suggestions use: scaled, a project's settings first, off
    # where a theme would be no more likely to stay than to start
    chain = chain_for(SuggestOptions(), (rate, stay), 2)
    assert chain == ThemeChain(RATE_SCALE * rate, STAY_SCALE * stay)
    assert chain_for(SuggestOptions(), None, 4) == ThemeChain(
        RATE_SCALE * 0.25, STAY_SCALE * PRIOR_STAY
    )
    set_by_hand = replace(SuggestOptions(), context_stay=0.6, context_base=0.1)
    assert chain_for(set_by_hand, (rate, stay), 2) == ThemeChain(0.1, 0.6)
    assert chain_for(SuggestOptions(), (0.3, 0.2), 2) is None
    assert chain_for(replace(SuggestOptions(), context=False), (rate, stay), 2) is None


def test_coded_rows_are_neighbours_only_next_to_each_other_in_their_session() -> None:
    rows = [GoldUnit("t", [], k, session=s) for k, s in enumerate(["a", "a", "b", "a", "", "a"])]
    got = positions(rows)
    assert got[0] == (got[1][0], 0) and got[1][1] == 1
    # "a" again after "b" (and after a row without a session) starts a new run
    assert got[3][0] not in (got[0][0], got[5][0]) and got[4] is None
    assert [g[1] for g in got if g is not None] == [0, 1, 0, 0, 0]


def test_the_codebooks_coded_sessions_teach_how_long_talk_stays_on_a_theme() -> None:
    book = load_codebook(EMESSI)
    model = Suggester(book).fit()
    rate, stay = model.context_
    # six broad themes: about one unit in six has each, and a theme usually
    # goes on to the next turn
    assert 0.12 < rate < 0.2 and 0.55 < stay < 0.7
    chain = model.chain()
    assert chain is not None and chain.stay == pytest.approx(STAY_SCALE * stay)
    without_sessions = Suggester(replace(book, coded_units=None)).fit()
    assert without_sessions.context_ is None
    assert without_sessions.chain() == chain_for(SuggestOptions(), None, len(model.code_ids))


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
    # "Same here. And they're getting tired too." is about volunteers only
    # through the turns before it
    third = {s.code_id: s for s in suggestions_for(store, units[2].id)}
    assert "neighbouring turns" in third["volunteers"].rationale
    # a coder's answer on a neighbour now stands in for its score
    store.record_decision(Decision(units[1].id, "volunteers", "anna", "rejected"))
    store.mark_reviewed(units[1].id, "anna")
    suggest_segments(store, project, [units[2].id])
    after = {s.code_id: s.score for s in suggestions_for(store, units[2].id)}
    assert after.get("volunteers", 0.0) < dict(whole[units[2].id])["volunteers"]
