"""Speed of theme counts on a large project: 1,000,000 decisions.

Why: issue 6 asks for the per-code report and a cross-table over a million
decisions in under a second, so report authors can re-cut the numbers
interactively. The counting is SQL with GROUP BY (``qualcode.store.reports``);
this script builds a synthetic project of that size and times each query in
both decision views (one coder, and the reconciled view, which compares
coders per unit and reads the per-unit table ``unit_codings``).

The synthetic project: 100 sessions of 2,500 units each (250,000 units), 20
speakers with a ``sector`` attribute, the emessi codebook, and two coders
who each apply two codes to every unit (1,000,000 decisions; the coders agree
on about half). The database is kept in ``benchmarks/.cache/report-bench/``
so reruns only time the reports (``--rebuild`` makes it again).

Usage::

    python benchmarks/report.py
    python benchmarks/report.py --rebuild --decisions 1000000
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache" / "report-bench"

sys.path.insert(0, str(ROOT))

from qualcode.models import Segment, Session, Transcript, Utterance  # noqa: E402
from qualcode.project import Project, init_project  # noqa: E402
from qualcode.report import build_cooccurrence, build_crosstab, build_report  # noqa: E402
from qualcode.store.reports import View  # noqa: E402

SESSIONS = 100
SPEAKERS = 20
CODERS = ("ann", "bob")
PER_UNIT = 2  # codes each coder applies to each unit


def build(root: Path, decisions: int) -> Project:
    if root.exists():
        shutil.rmtree(root)
    project = init_project(root, codebook="emessi", language="fi")
    store = project.store
    leaves = [c.id for c in store.codes() if c.parent_id is not None]
    units = decisions // (len(CODERS) * PER_UNIT)
    per_session = units // SESSIONS
    rng = random.Random(6)
    speakers = [f"Speaker {i:02d}" for i in range(SPEAKERS)]
    t0 = time.perf_counter()
    for s in range(SESSIONS):
        utts = [Utterance(text="x", speaker=speakers[(s + i) % SPEAKERS]) for i in range(4)]
        sid = store.add_session(
            Session(name=f"session-{s:03d}", group=f"group-{s % 4}"), Transcript(utterances=utts)
        )
        pids = [store.participant_id(speakers[(s + i) % SPEAKERS]) for i in range(4)]
        segs = [
            Segment(
                session_id=sid,
                seq=i,
                text="unit",
                char_start=i * 5,
                char_end=i * 5 + 4,
                participant_id=pids[i % 4],
                start=i * 10.0,
                end=i * 10.0 + 8.0,
            )
            for i in range(per_session)
        ]
        ids = store.replace_segments(sid, segs)
        rows = []
        for gid in ids:
            first = rng.sample(leaves, PER_UNIT)
            # the second coder agrees on this unit about half the time
            second = first if rng.random() < 0.5 else rng.sample(leaves, PER_UNIT)
            rows += [(gid, c, "ann", "accepted") for c in first]
            rows += [(gid, c, "bob", "added") for c in second]
        store.bulk_insert_decisions(rows)
    for i, name in enumerate(speakers):
        store.set_attributes(name, {"sector": ("ngo", "municipality", "private")[i % 3]})
    store.db.execute("ANALYZE")
    print(f"built {store.count_decisions():,} decisions in {time.perf_counter() - t0:.1f} s")
    return project


def timed(label: str, fn, *args) -> float:
    """Wall and CPU seconds; on a shared, loaded machine the CPU time is the
    better estimate of the wall time on an idle one (SQLite runs on one core)."""
    t0, c0 = time.perf_counter(), time.process_time()
    fn(*args)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"{label:<45} {dt:6.3f} s wall {cpu:6.3f} s cpu")
    return cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    if args.rebuild or not (CACHE / "qualcode.yaml").exists():
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        build(CACHE, args.decisions).close()
    with Project(CACHE) as project:
        store = project.store
        units = sum(n for _, _, n in store.codable_unit_counts())
        print(f"{store.count_decisions():,} decisions, {units:,} units")
        worst = 0.0
        for view in (View(coder="ann"), View(lead="ann"), View(lead=None)):
            name = view.coder and f"coder {view.coder}" or f"reconciled lead={view.lead}"
            worst = max(worst, timed(f"per-code report ({name})", build_report, store, view))
            for by in ("session", "sector"):
                worst = max(
                    worst,
                    timed(f"cross-table by {by} ({name})", build_crosstab, store, view, by),
                )
        timed("co-occurrence (coder ann)", build_cooccurrence, store, View(coder="ann"))
        print(f"slowest report or cross-table: {worst:.3f} s cpu (target < 1 s)")


if __name__ == "__main__":
    main()
