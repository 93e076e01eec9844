"""evaluate: gold CSV reading, metrics checked against scikit-learn and
the throwaway store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, precision_score, recall_score

from qualcode.errors import FormatError
from qualcode.evaluate import evaluate, iter_report_lines, score_sets
from qualcode.gold import read_gold

DATA = Path(__file__).parent / "data"
LEAVES = ["prioritisation", "support", "work_sharing", "hr_management", "funding", "volunteers"]


def test_metrics_match_scikit_learn() -> None:
    codes = ["a", "b", "c"]
    truth = [["a"], ["a", "b"], [], ["c"], ["b"], ["a", "c"], [], ["b"]]
    pred = [["a"], ["b"], ["a"], ["c"], [], ["a"], [], ["b", "c"]]
    per_code, micro, macro = score_sets(truth, pred, codes)
    yt = [[int(c in t) for c in codes] for t in truth]
    yp = [[int(c in p) for c in codes] for p in pred]
    assert micro == pytest.approx(f1_score(yt, yp, average="micro"))
    assert macro == pytest.approx(f1_score(yt, yp, average="macro"))
    for j, code in enumerate(codes):
        t = [row[j] for row in yt]
        p = [row[j] for row in yp]
        m = per_code[code]
        assert m.precision == pytest.approx(precision_score(t, p, zero_division=0))
        assert m.recall == pytest.approx(recall_score(t, p, zero_division=0))
        assert m.f1 == pytest.approx(f1_score(t, p, zero_division=0))
        assert m.kappa == pytest.approx(cohen_kappa_score(t, p))
        assert m.support == sum(t) and m.predicted == sum(p)


def test_undefined_ratios_are_null_in_the_json() -> None:
    """A code nobody gave and nothing suggested has no precision, recall,
    F1 or kappa to report: null, as `agree --json` says it, not 0 and 1."""
    from qualcode.evaluate import EvalReport

    codes, micro, macro = score_sets([["a"], [], ["a"]], [["a"], ["b"], []], ["a", "b", "c"])
    got = EvalReport(micro, macro, codes, n_test=3).to_json()["codes"]
    assert got["c"] == {
        "precision": None,
        "recall": None,
        "f1": None,
        "kappa": None,
        "support": 0,
        "predicted": 0,
    }
    assert got["b"]["recall"] is None and got["b"]["precision"] == 0.0 and got["b"]["f1"] == 0.0
    assert got["a"]["precision"] == 1.0 and got["a"]["recall"] == 0.5


def test_evaluate_codebook_only_and_with_training(emessi) -> None:
    zero = evaluate(DATA / "emessi-eval.csv", emessi)
    assert zero.n_train == 0 and zero.n_test == 227
    # the eval set is among the codebook's coded units: the figures say so
    longer = sum(len(p[0].split()) > 4 for p in zero.predictions)
    assert zero.n_seen == longer > 200 and zero.to_json()["seen_in_coded_units"] == longer
    assert f"warning: {longer} of the 227 test units are among" in list(iter_report_lines(zero))[-1]
    assert set(zero.codes) == set(LEAVES)
    assert zero.micro_f1 >= 0.75  # the codebook alone is already useful
    half = evaluate(DATA / "emessi-eval.csv", emessi, train_fraction=0.5, seed=1)
    assert (half.n_train, half.n_test) == (114, 113)
    assert half.micro_f1 >= 0.75
    shape = half.to_json()
    assert set(shape) >= {"micro_f1", "macro_f1", "codes"}
    fields = {"precision", "recall", "f1", "kappa", "support", "predicted"}
    assert set(shape["codes"]["funding"]) == fields
    # the same split gives the same numbers
    again = evaluate(DATA / "emessi-eval.csv", emessi, train_fraction=0.5, seed=1)
    assert again.micro_f1 == half.micro_f1
    # the codebook-only baseline on the same test units
    baseline = evaluate(DATA / "emessi-eval.csv", emessi, train_fraction=0.5, seed=1, learn=False)
    assert [p[0] for p in baseline.predictions] == [p[0] for p in half.predictions]
    assert baseline.n_test == 113


@pytest.mark.parametrize(
    "name", ["emessi-holdout.csv", "emessi-holdout2.csv", "emessi-holdout3.csv"]
)
def test_codebook_generalises_to_talk_it_was_not_built_on(emessi, name: str) -> None:
    # written from the code definitions alone, never tuned on (tests/data/README.md)
    lexical = evaluate(DATA / name, replace(emessi, coded_units=None))
    assert lexical.n_test == 240
    assert lexical.micro_f1 >= 0.72
    assert min(m.f1 for m in lexical.codes.values()) >= 0.5
    # the codebook's coded units teach what keywords and examples miss
    report = evaluate(DATA / name, emessi)
    assert report.micro_f1 >= max(0.77, lexical.micro_f1 + 0.015)
    assert report.n_seen == 0 and not list(iter_report_lines(report))[-1].startswith("warning")


@pytest.mark.parametrize("name", ["emessi-holdout4.csv", "emessi-holdout5.csv"])
def test_coded_units_help_on_talk_that_avoids_topic_words(emessi, name: str) -> None:
    # writers asked to tell the themes through episodes rather than topic
    # words (tests/data/README.md): keywords miss much more, and what the
    # coded units teach matters more
    lexical = evaluate(DATA / name, replace(emessi, coded_units=None))
    assert lexical.n_test == 240 and lexical.micro_f1 >= 0.55
    report = evaluate(DATA / name, emessi)
    assert report.micro_f1 >= max(0.6, lexical.micro_f1 + 0.02)


def test_a_code_absent_from_test_and_suggestions_shows_no_numbers() -> None:
    from qualcode.evaluate import EvalReport

    per_code, micro, macro = score_sets([["a"], []], [["a"], []], ["a", "b"])
    lines = list(iter_report_lines(EvalReport(micro, macro, per_code)))
    assert lines[1].split()[:5] == ["a", "1.000", "1.000", "1.000", "1.000"]
    assert lines[2].split()[1:] == ["–", "–", "–", "–", "0", "not", "in", "the", "test", "units"]


def test_the_table_shows_a_dash_wherever_the_json_has_null() -> None:
    """A code on every test row in gold and suggestions has no kappa; one
    never suggested has no precision: the table printed 1.000 and 0.000."""
    from qualcode.evaluate import EvalReport, _metrics_json

    truth, predicted = [["f", "p"], ["f"]], [["f"], ["f"]]
    per_code, micro, macro = score_sets(truth, predicted, ["f", "p"])
    report = EvalReport(micro, macro, per_code, n_test=2)
    lines = list(iter_report_lines(report))
    assert lines[1].split()[:6] == ["f", "1.000", "1.000", "1.000", "–", "2"]
    assert lines[2].split()[:6] == ["p", "–", "0.000", "0.000", "0.000", "1"]
    assert _metrics_json(per_code["f"], 2)["kappa"] is None
    assert _metrics_json(per_code["p"], 2)["precision"] is None


def test_too_few_rows_to_train_on_is_refused(emessi, tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("text,codes\nRaha loppuu.,funding\n", encoding="utf-8")
    with pytest.raises(FormatError, match=r"one.csv: 1 row\(s\) are too few for train fraction"):
        evaluate(path, emessi, train_fraction=0.5)


def test_the_codebooks_coded_units_are_the_development_sets(emessi) -> None:
    # the shipped coded units are exactly the sets the keywords were built on,
    # and none of the holdout sets the figures are reported on
    dev = ["emessi-eval.csv"] + [f"emessi-dev{i}.csv" for i in range(2, 35)]
    leaves = [c.id for c in emessi.leaves()]
    parents = [c.id for c in emessi.iter_codes() if not c.is_leaf]
    bank = read_gold(emessi.coded_units, leaves, parents=parents)
    expected = [u for name in dev for u in read_gold(DATA / name, leaves, parents=parents)]
    assert [(u.text, u.codes, u.lang) for u in bank] == [
        (u.text, u.codes, u.lang) for u in expected
    ]
    # a turn of a few words ("What did you do?", "Fiksua.") is talk any two
    # groups share: only longer turns would be a holdout set leaking in
    held_out = {
        u.text
        for i in ("", *map(str, range(2, 16)))
        for u in read_gold(DATA / f"emessi-holdout{i}.csv", leaves)
        if len(u.text.split()) > 4
    }
    assert len(bank) == 8147 and not held_out & {u.text for u in bank}
