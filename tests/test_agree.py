"""Agreement statistics against independent implementations, and on a store."""

from __future__ import annotations

import random

import krippendorff  # GPL: a test dependency only, never imported by qualcode
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from qualcode.agree import (
    cohen_kappa,
    compute_agreement,
    krippendorff_alpha_nominal,
    percent_agreement,
)
from qualcode.errors import QualcodeError
from qualcode.models import Decision, Segment, Session, Suggestion, Transcript, Utterance


@pytest.mark.parametrize("seed", range(6))
def test_kappa_matches_sklearn(seed):
    rng = random.Random(seed)
    a = [rng.choice("xyz") for _ in range(50)]
    b = [v if rng.random() < 0.6 else rng.choice("xyz") for v in a]
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


@pytest.mark.parametrize("seed", range(6))
def test_alpha_matches_krippendorff_with_missing_values(seed):
    rng = random.Random(seed)
    coders, units = 3 + seed % 2, 40
    truth = [rng.randrange(3) for _ in range(units)]
    ratings = []
    for t in truth:
        row = []
        for _ in range(coders):
            if rng.random() < 0.15:
                row.append(None)
            else:
                row.append(t if rng.random() < 0.7 else rng.randrange(3))
        ratings.append(row)
    reliability = np.array(
        [[np.nan if r[c] is None else r[c] for r in ratings] for c in range(coders)], dtype=float
    )
    expected = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert krippendorff_alpha_nominal(ratings) == pytest.approx(expected)


def test_undefined_statistics_are_none():
    assert cohen_kappa([1, 1, 1], [1, 1, 1]) is None
    assert krippendorff_alpha_nominal([[1, 1], [1, 1]]) is None
    assert percent_agreement([[1, 1], [1, 0]]) == 50.0
    assert percent_agreement([]) is None


def _project_with_two_coders(store, rng):
    utts = [Utterance(text=f"unit {i}", speaker="Aino" if i % 2 else "Bert") for i in range(30)]
    sid = store.add_session(Session(name="s1"), Transcript(utterances=utts))
    segs = [
        Segment(
            session_id=sid,
            seq=i,
            text=u.text,
            char_start=0,
            char_end=len(u.text),
            participant_id=store.participant_id(u.speaker),
        )
        for i, u in enumerate(utts)
    ]
    ids = store.replace_segments(sid, segs)
    truth = {}
    for gid in ids:
        for code in ("support", "funding", "volunteers"):
            ann = rng.random() < 0.4
            bob = ann if rng.random() < 0.75 else not ann
            truth[(gid, code)] = (ann, bob)
            for coder, yes in (("ann", ann), ("bob", bob)):
                store.record_decision(Decision(gid, code, coder, "accepted" if yes else "rejected"))
    # a unit only ann coded: not shared, so not rated
    store.record_decision(Decision(ids[0], "prioritisation", "ann", "added"))
    store.db.execute("DELETE FROM decisions WHERE segment_id = ? AND coder = 'bob'", (ids[0],))
    return ids, truth


def test_store_agreement_matches_references(project):
    store = project.store
    ids, truth = _project_with_two_coders(store, random.Random(3))
    result = compute_agreement(store, ["ann", "bob"], with_disagreements=True)
    assert result.units == len(ids) - 1
    shared = set(ids[1:])
    by_code = {c.code_id: c for c in result.codes}
    assert "prioritisation" not in by_code  # only on the unit bob did not code
    pooled_a, pooled_b = [], []
    for code in ("support", "funding", "volunteers"):
        a = [truth[(u, code)][0] for u in sorted(shared)]
        b = [truth[(u, code)][1] for u in sorted(shared)]
        pooled_a += a
        pooled_b += b
        got = by_code[code]
        assert got.kappa == pytest.approx(cohen_kappa_score(a, b))
        assert got.percent == pytest.approx(100 * np.mean(np.array(a) == np.array(b)))
        assert got.applied == {"ann": sum(a), "bob": sum(b)}
        ref = krippendorff.alpha(
            reliability_data=np.array([a, b], dtype=float), level_of_measurement="nominal"
        )
        assert got.alpha == pytest.approx(ref)
    assert result.kappa == pytest.approx(cohen_kappa_score(pooled_a, pooled_b))
    n_disagree = sum(1 for x, y in zip(pooled_a, pooled_b, strict=True) if x != y)
    assert len(result.disagreements) == n_disagree
    d = result.disagreements[0]
    assert d.session == "s1" and d.text.startswith("unit ")
    assert sorted(d.applied_by + d.not_applied_by) == ["ann", "bob"]


def test_against_model(project):
    store = project.store
    ids, truth = _project_with_two_coders(store, random.Random(5))
    # suggestions only in a session bob did not code (his were imported after
    # suggest ran)
    other = store.add_session(Session(name="s2"), Transcript([Utterance("uusi")]))
    [new] = store.replace_segments(other, [Segment(other, 0, "uusi", 0, 4)])
    store.replace_suggestions([Suggestion(new, "support", 0.9)], segment_ids=[new])
    with pytest.raises(QualcodeError, match="not scored any unit 'bob' coded; run `qualcode sugg"):
        compute_agreement(store, ["bob"], against_model=True)
    store.replace_suggestions(
        [Suggestion(u, "support", 0.9 if i % 3 else 0.2) for i, u in enumerate(ids)]
    )
    result = compute_agreement(store, ["bob"], against_model=True, threshold=0.5)
    assert result.coders == ["model", "bob"]
    # bob did not code ids[0]
    model = [bool(i % 3) for i, u in enumerate(ids) if i > 0]
    bob = [truth[(u, "support")][1] for u in ids[1:]]
    assert result.units == len(ids) - 1
    by_code = {c.code_id: c for c in result.codes}
    assert by_code["support"].kappa == pytest.approx(cohen_kappa_score(model, bob))
    with pytest.raises(QualcodeError, match="one coder"):
        compute_agreement(store, ["ann", "bob"], against_model=True)
    with pytest.raises(QualcodeError, match="--threshold 1.5: give a score above 0"):
        compute_agreement(store, ["bob"], against_model=True, threshold=1.5)
    # a unit the model scored with every code below the stored floor (no
    # suggestion row) is the model's "no code", not a unit left out
    store.replace_suggestions([], segment_ids=[ids[1]])
    result = compute_agreement(store, ["bob"], against_model=True, threshold=0.5)
    assert result.units == len(ids) - 1
    model[0] = False
    by_code = {c.code_id: c for c in result.codes}
    assert by_code["support"].kappa == pytest.approx(cohen_kappa_score(model, bob))


def test_errors(project):
    store = project.store
    _project_with_two_coders(store, random.Random(1))
    with pytest.raises(QualcodeError, match="at least two"):
        compute_agreement(store, ["ann"])
    with pytest.raises(QualcodeError, match="coded no units"):
        compute_agreement(store, ["ann", "zed"])
    with pytest.raises(QualcodeError, match="ann named twice"):
        compute_agreement(store, ["ann", "ann"])


def test_two_coders_hand_coding_imported_from_files(project) -> None:
    # a second coder coded holdout4 blind (tests/data/second-coder/); both
    # files imported land on the same units, and every unit counts, also
    # those neither coder gave a code
    from pathlib import Path

    from qualcode.codebook import load_codebook
    from qualcode.coded_import import import_coded
    from qualcode.evaluate import read_gold

    data = Path(__file__).parent / "data"
    book = load_codebook(project.codebook_path)
    leaves = [c.id for c in book.leaves()]
    first = read_gold(data / "emessi-holdout4.csv", leaves)
    second = read_gold(data / "second-coder" / "emessi-holdout4.csv", leaves)
    assert [u.text for u in first] == [u.text for u in second]
    import_coded(project.store, book, data / "emessi-holdout4.csv", coder="writer")
    report = import_coded(
        project.store, book, data / "second-coder" / "emessi-holdout4.csv", coder="second"
    )
    assert report.sessions == [] and len(report.attached) == 8
    result = compute_agreement(project.store, ["writer", "second"])
    assert result.units == 240
    by_code = {c.code_id: c for c in result.codes}
    assert set(by_code) == set(leaves)
    for code in leaves:
        a = [code in u.codes for u in first]
        b = [code in u.codes for u in second]
        assert by_code[code].kappa == pytest.approx(cohen_kappa_score(a, b))
        assert by_code[code].applied == {"writer": sum(a), "second": sum(b)}
