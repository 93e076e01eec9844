"""Suggestion quality and speed, the figures quoted in docs/benchmarks.md.

    python benchmarks/suggest.py            # everything
    python benchmarks/suggest.py quality    # learning curve + Taguette check
    python benchmarks/suggest.py speed      # 100,000 units, 5,000 decisions
    python benchmarks/suggest.py agreement  # a second coder on the holdout sets
    python benchmarks/suggest.py loso [KEY=VALUE ...]  # leave-one-set-out

Quality: the emessi learning curve (micro-F1 at train fraction 0, 0.1, 0.25,
0.5; mean over seeds 0-2) on the three holdout sets in tests/data/ (see
tests/data/README.md), the codebook without its coded units on the sets the
keywords were built on, and a generalisation
check on a real study coded by others with a different codebook (Taguette
usability data: codes with labels and descriptions only, no keywords).
Leave-one-set-out (how settings were chosen, never on the holdout sets):
each development set is measured with the codebook's coded units minus that
set, codebook only and at train fraction 0.5 (seed 0), then the Taguette
study's learning curve; KEY=VALUE pairs override ``suggest:`` settings
(e.g. ``context_stay=0.4``) to compare.
Speed: units are synthesized from the evaluation set (sentences recombined,
so texts are distinct) and scored with rationale; training uses 5,000 decided
units built the same way.
"""

from __future__ import annotations

import csv
import gc
import random
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

if TYPE_CHECKING:
    from qualcode.codebook import Codebook

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "emessi-eval.csv"
TAGUETTE = ROOT / "tests" / "data" / "taguette-usability"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def taguette_files(folder: Path, out: Path) -> tuple[Path, Path]:
    """A codebook YAML (labels + descriptions) and a gold CSV (one row per
    highlighted passage, its tags as codes) from the Taguette export."""
    codes = []
    with (folder / "codebook_20220303_8.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            codes.append(
                {
                    "id": slug(row["tag"]),
                    "label": row["tag"],
                    "description": " ".join(row["description"].split()),
                }
            )
    book = out / "taguette.yaml"
    book.write_text(
        yaml.safe_dump(
            {"name": "taguette-usability", "version": 1, "languages": ["en"], "codes": codes},
            allow_unicode=True,
            sort_keys=False,
        ),
        encoding="utf-8",
    )
    passages: dict[tuple[str, str], list[str]] = {}
    with (folder / "all_tags_20220303.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["document"], " ".join(row["content"].split()))
            if key[1]:
                passages.setdefault(key, []).append(slug(row["tag"]))
    gold = out / "taguette-gold.csv"
    with gold.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "codes", "lang", "session"])
        for (doc, text), tags in passages.items():
            w.writerow([text, ";".join(dict.fromkeys(tags)), "en", Path(doc).stem])
    return book, gold


DATA = ROOT / "tests" / "data"
# written from the code definitions only (tests/data/README.md); measured,
# never tuned on, and not among the codebook's coded units
HOLDOUTS = [f"emessi-holdout{i}" for i in ("", *map(str, range(2, 16)))]
# the sets the keywords were improved on; they are the codebook's coded
# units (codebooks/emessi-coded.csv), so only the codebook without them can
# be measured on them
DEV_SETS = ["emessi-eval"] + [f"emessi-dev{i}" for i in range(2, 35)]


def learning_curve(name: str, book: Codebook, lexical: Codebook) -> None:
    from qualcode.evaluate import evaluate, iter_report_lines

    path = DATA / f"{name}.csv"
    print(f"## {name} learning curve (tests/data/{path.name}, seeds 0-2)")
    only = evaluate(path, lexical)
    print(f"keywords and examples alone (no coded units): micro-F1 {only.micro_f1:.3f}")
    print(
        "| train fraction | micro-F1 | macro-F1 | min kappa | "
        "codebook only, same test units: micro-F1 |"
    )
    print("|---|---|---|---|---|")
    for fraction in (0.0, 0.1, 0.25, 0.5):
        seeds = (0,) if fraction == 0 else (0, 1, 2)
        runs = [evaluate(path, book, train_fraction=fraction, seed=s) for s in seeds]
        base = [evaluate(path, book, train_fraction=fraction, seed=s, learn=False) for s in seeds]
        micro = np.mean([r.micro_f1 for r in runs])
        macro = np.mean([r.macro_f1 for r in runs])
        kappa = np.mean([min(m.kappa for m in r.codes.values()) for r in runs])
        same = np.mean([r.micro_f1 for r in base])
        print(f"| {fraction} | {micro:.3f} | {macro:.3f} | {kappa:.3f} | {same:.3f} |", flush=True)
    print("\nPer code, codebook only:")
    print("\n".join(iter_report_lines(evaluate(path, book))))
    print("\nPer code, half the units as decisions (seed 0):")
    half = evaluate(path, book, train_fraction=0.5, seed=0)
    print("\n".join(iter_report_lines(half)))
    print()


def quality() -> None:
    from qualcode.codebook import load_codebook
    from qualcode.evaluate import evaluate

    book = load_codebook(ROOT / "codebooks" / "emessi.yaml")
    lexical = replace(book, coded_units=None)
    for name in HOLDOUTS:
        learning_curve(name, book, lexical)
    print("## development sets, keywords and examples alone (micro-F1, codebook only)")
    for name in DEV_SETS:
        r = evaluate(DATA / f"{name}.csv", lexical)
        print(f"{name}: {r.micro_f1:.3f}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        book_path, gold = taguette_files(TAGUETTE, Path(tmp))
        tbook = load_codebook(book_path)
        print("\n## Taguette usability study (22 codes, no keywords or examples)")
        for fraction in (0.0, 0.1, 0.25, 0.5):
            t = time.perf_counter()
            r = evaluate(gold, tbook, train_fraction=fraction, seed=0)
            print(
                f"train fraction {fraction}: micro-F1 {r.micro_f1:.3f}, macro-F1 "
                f"{r.macro_f1:.3f} ({r.n_train} train / {r.n_test} test, "
                f"{time.perf_counter() - t:.1f} s)",
                flush=True,
            )


SECOND_CODER = DATA / "second-coder"


def _second_coding(name: str) -> dict[str, list[str]] | None:
    """text -> the second coder's codes for a holdout set, None without one."""
    path = SECOND_CODER / f"{name}.csv"
    if not path.exists():
        return None
    with (DATA / f"{name}.csv").open(encoding="utf-8", newline="") as f:
        texts = {r["id"]: r["text"] for r in csv.DictReader(f)}
    with path.open(encoding="utf-8", newline="") as f:
        return {texts[r["id"]]: [c for c in r["codes"].split(";") if c] for r in csv.DictReader(f)}


def agreement() -> None:
    """How far two people agree on the same units: the ceiling the
    suggestions are measured under. A second coder coded each holdout set
    blind (text only, the same code definitions as its writer); the model is
    scored against both on the same test units."""
    from qualcode.codebook import load_codebook
    from qualcode.evaluate import evaluate, score_sets

    book = load_codebook(ROOT / "codebooks" / "emessi.yaml")
    print("## Two people on the same units (tests/data/second-coder/)")
    print(
        "| set | train fraction | second coder vs writer: micro-F1 | min kappa | "
        "model vs writer: micro-F1 | min kappa | model vs second coder: micro-F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in HOLDOUTS:
        second = _second_coding(name)
        if second is None:
            continue
        for fraction in (0.0, 0.5):
            seeds = (0,) if fraction == 0 else (0, 1, 2)
            rows: list[tuple[float, float, float, float, float]] = []
            for seed in seeds:
                r = evaluate(DATA / f"{name}.csv", book, train_fraction=fraction, seed=seed)
                writer = [t for _, t, _ in r.predictions]
                model = [p for _, _, p in r.predictions]
                coder = [second[text] for text, _, _ in r.predictions]
                h_codes, h_micro, _ = score_sets(writer, coder, list(r.codes))
                m_codes, m_micro, _ = score_sets(writer, model, list(r.codes))
                _, mc_micro, _ = score_sets(coder, model, list(r.codes))
                rows.append(
                    (
                        h_micro,
                        min(m.kappa for m in h_codes.values()),
                        m_micro,
                        min(m.kappa for m in m_codes.values()),
                        mc_micro,
                    )
                )
            cells = " | ".join(f"{v:.3f}" for v in np.mean(rows, axis=0))
            print(f"| {name} | {fraction} | {cells} |", flush=True)
    print()


def _synthesize(n: int, seed: int = 0) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """n distinct units: two evaluation units of the same language joined,
    labels the union of theirs."""
    from qualcode.codebook import load_codebook
    from qualcode.suggest.engine import suggestable_codes

    rows = list(csv.DictReader(EVAL.open(encoding="utf-8")))
    ids = [c.id for c in suggestable_codes(load_codebook(ROOT / "codebooks" / "emessi.yaml"))]
    by_lang: dict[str, list[dict]] = {}
    for r in rows:
        by_lang.setdefault(r["lang"], []).append(r)
    rng = random.Random(seed)
    texts, langs = [], []
    y = np.zeros((n, len(ids)), dtype=np.float32)
    for i in range(n):
        lang = "fi" if i % 2 else "en"
        a, b = rng.choice(by_lang[lang]), rng.choice(by_lang[lang])
        texts.append(f"{a['text']} {b['text']}")
        langs.append(lang)
        for code in (a["codes"] + ";" + b["codes"]).split(";"):
            if code:
                y[i, ids.index(code)] = 1
    return texts, langs, y, ids


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the forked
    workers that fit the decision models)."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def speed() -> None:
    from qualcode.codebook import load_codebook
    from qualcode.suggest.engine import Suggester
    from qualcode.suggest.parallel import default_threads, suggest_in_processes

    book = load_codebook(ROOT / "codebooks" / "emessi.yaml")
    texts, langs, y, _ = _synthesize(100_000)
    # as from the store: sessions of 250 units, each unit read in its context
    groups = [i // 250 for i in range(len(texts))]
    print(f"## speed ({len(set(texts))} distinct synthesized units, sessions of 250)")
    t = time.perf_counter()
    suggester = Suggester(book).fit()
    print(
        f"learning from the codebook's {suggester.n_coded_units_:,} coded units "
        f"(first run, dictionaries loading): {time.perf_counter() - t:.2f} s wall",
        flush=True,
    )
    suggester.score(texts[:50], langs[:50])  # load the lemmatizer dictionaries once
    # one process: where the time goes
    t, cpu = time.perf_counter(), time.process_time()
    scores = suggester.score(texts, langs, groups)
    scored = time.perf_counter() - t
    n_one = sum(len(suggester.top(scores, i)) for i in range(len(texts)))
    total, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(
        f"suggestions for {len(texts):,} units, one process: {total:.2f} s wall, {cpu:.2f} s cpu "
        f"(scoring {scored:.2f} s, rationale {total - scored:.2f} s; {n_one:,} suggestions)",
        flush=True,
    )
    del scores
    gc.collect()
    # as `qualcode suggest` runs it: the batch split between worker processes
    t = time.perf_counter()
    found = suggest_in_processes(suggester, texts, langs, groups=groups)
    print(
        f"suggestions for {len(texts):,} units, {default_threads()} processes: "
        f"{time.perf_counter() - t:.2f} s wall ({sum(len(f) for f in found):,} suggestions)",
        flush=True,
    )
    # a decision is one (unit, code) verdict: 834 fully coded units hold 5,004
    trained = {}
    for n_units in (834, 5_000):
        t_texts, t_langs, t_y, _ = _synthesize(n_units, seed=1)
        t, cpu = time.perf_counter(), _cpu()
        trained[n_units] = Suggester(book).fit(t_texts, t_langs, t_y, np.ones_like(t_y, dtype=bool))
        print(
            f"training on {n_units:,} decided units ({t_y.size:,} decisions) "
            f"+ the coded units: {time.perf_counter() - t:.2f} s wall, "
            f"{_cpu() - cpu:.2f} s cpu",
            flush=True,
        )
    for n_units in (834, 5_000):
        t_texts, t_langs, t_y, _ = _synthesize(n_units, seed=1)
        t, cpu = time.perf_counter(), _cpu()
        lexical = replace(book, coded_units=None)
        Suggester(lexical).fit(t_texts, t_langs, t_y, np.ones_like(t_y, dtype=bool))
        print(
            f"training on {n_units:,} decided units ({t_y.size:,} decisions) alone: "
            f"{time.perf_counter() - t:.2f} s wall, {_cpu() - cpu:.2f} s cpu",
            flush=True,
        )
    # the same 100,000 units once a coder has decided 834 units; the other
    # model goes first, as `qualcode suggest` would not hold it: the forked
    # workers' start-up grows with the parent's memory
    model = trained.pop(834)
    trained.clear()
    gc.collect()
    model.score(texts[:50], langs[:50])
    t = time.perf_counter()
    found = suggest_in_processes(model, texts, langs, groups=groups)
    print(
        f"suggestions for {len(texts):,} units, model trained on 834 units, "
        f"{default_threads()} processes: {time.perf_counter() - t:.2f} s wall "
        f"({sum(len(f) for f in found):,} suggestions)",
        flush=True,
    )


def _override(pair: str) -> tuple[str, object]:
    key, _, value = pair.partition("=")
    return key, yaml.safe_load(value)


def leave_one_set_out(pairs: list[str]) -> None:
    """Each development set measured with a model that never saw it."""
    from types import SimpleNamespace

    from qualcode.codebook import load_codebook
    from qualcode.evaluate import evaluate

    overrides = dict(_override(p) for p in pairs)
    # evaluate reads the suggest: settings from the project's config only
    project: Any = SimpleNamespace(config=SimpleNamespace(suggest=overrides))
    book = load_codebook(ROOT / "codebooks" / "emessi.yaml")
    rows = {
        name: list(csv.DictReader((DATA / f"{name}.csv").open(encoding="utf-8")))
        for name in DEV_SETS
    }
    print(
        f"## leave-one-set-out over {len(DEV_SETS)} development sets, "
        f"settings {overrides or 'as shipped'}"
    )
    print("| set | codebook only | half as decisions (seed 0) |")
    print("|---|---|---|")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in DEV_SETS:
            coded = Path(tmp) / f"without-{name}.csv"
            with coded.open("w", encoding="utf-8", newline="") as f:
                out = csv.writer(f)
                out.writerow(["id", "text", "codes", "lang", "session"])
                for other, items in rows.items():
                    if other != name:
                        out.writerows(
                            [r["id"], r["text"], r["codes"], r["lang"], r["session"]] for r in items
                        )
            without = replace(book, coded_units=coded)
            path = DATA / f"{name}.csv"
            f0 = evaluate(path, without, project=project).micro_f1
            f5 = evaluate(path, without, train_fraction=0.5, seed=0, project=project).micro_f1
            results.append((f0, f5))
            print(f"| {name} | {f0:.4f} | {f5:.4f} |", flush=True)
    mean = np.mean(results, axis=0)
    newest = np.mean(results[-8:], axis=0)
    print(f"| mean | {mean[0]:.4f} | {mean[1]:.4f} |")
    print(f"| mean of the newest eight ({DEV_SETS[-8]}-) | {newest[0]:.4f} | {newest[1]:.4f} |")
    # a setting must not only suit the emessi codebook: the real study too
    with tempfile.TemporaryDirectory() as tmp:
        book_path, gold = taguette_files(TAGUETTE, Path(tmp))
        tbook = load_codebook(book_path)
        curve = [
            evaluate(gold, tbook, train_fraction=f, seed=0, project=project).micro_f1
            for f in (0.0, 0.1, 0.25, 0.5)
        ]
    print(
        "Taguette study, micro-F1 at 0 / 0.1 / 0.25 / 0.5 (seed 0): "
        + " / ".join(f"{x:.3f}" for x in curve)
    )


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Suggestion quality, agreement and speed (docs/benchmarks.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n")[1],
    )
    parser.add_argument(
        "what", nargs="?", default="all", choices=("all", "quality", "agreement", "speed", "loso")
    )
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE", help="loso only")
    args = parser.parse_args()
    if args.overrides and args.what != "loso":
        parser.error("KEY=VALUE overrides are for loso only")
    if args.what in ("all", "quality"):
        quality()
    if args.what in ("all", "agreement"):
        agreement()
    if args.what in ("all", "speed"):
        speed()
    if args.what == "loso":
        leave_one_set_out(args.overrides)
