"""Speed and accuracy of the transcription engines, on the same weights.

Why: issue 3 sets targets (faster-whisper ``base`` int8 real-time factor
<= 0.08 on a 10-minute session; the default pipeline >= 2.5x faster than
openai-whisper's own ``transcribe`` on the same weights with WER at most
1 point worse; DER <= 8% with ``--speakers auto``) and asks what int8, VAD
and batching each contribute. This prints one table: engine x model x
compute type x VAD x batching per recording, with wall time (median of
``--repeat`` runs, model load excluded), real-time factor, peak memory, WER,
CER and DER.

Each run is a fresh subprocess so its peak RSS (``os.wait4``) is its own,
native libraries included. openai-whisper runs on a checkpoint converted from
the same CTranslate2 folder faster-whisper uses (``qualcode.convert``).
DER uses ``pyannote.metrics`` with 0.25 s forgiven on each side of every
reference boundary (pyannote's ``collar`` is the total width, so 0.5).

Usage::

    python benchmarks/make_session.py        # once: benchmarks/.cache/session.*
    python benchmarks/transcribe.py --quick  # 1 run each, session cut to 120 s
    python benchmarks/transcribe.py --repeat 3 --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
SPEECH = ROOT / "tests" / "data" / "speech"
SHARED = ROOT.parent / "shared" / "data" / "speech"

# (engine, compute type, vad, batched): the default pipeline first, then the
# steps that separate its gain into engine, int8, VAD and batching
DEFAULT = ("faster-whisper", "int8", True, None)
ABLATION = [
    ("openai-whisper", "float32", False, False),
    ("faster-whisper", "float32", False, False),
    ("faster-whisper", "int8", False, False),
    ("faster-whisper", "int8", True, False),
    ("faster-whisper", "int8", True, True),
]


def normalize(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _find(name: str) -> Path | None:
    for folder in (SPEECH, SHARED):
        if (folder / name).is_file():
            return folder / name
    return None


def recordings(args) -> list[dict]:
    """name, path, language, reference text, reference RTTM (or None)."""
    out = []
    for name, wav, ref, lang in (
        ("jfk", "jfk.flac", "jfk.ref.txt", "en"),
        ("fi-css10", "fi-css10-0040.wav", "fi-css10-0040.ref.txt", "fi"),
    ):
        if (p := _find(wav)) and (r := _find(ref)):
            out.append({"name": name, "path": p, "lang": lang, "ref": r.read_text(), "rttm": None})
    if (p := _find("two-speakers.wav")) and (stm := _find("two-speakers.stm")):
        text = " ".join(line.split(maxsplit=5)[5] for line in stm.read_text().splitlines())
        out.append(
            {
                "name": "two-speakers",
                "path": p,
                "lang": "en",
                "ref": text,
                "rttm": _find("two-speakers.rttm"),
            }
        )
    session = Path(args.session_wav) if args.session_wav else CACHE / "session.wav"
    if session.is_file():
        lines = session.with_suffix(".txt").read_text().splitlines()
        entry = {
            "name": "session-10min",
            "path": session,
            "lang": "en",
            "ref": " ".join(line.split(": ", 1)[1] for line in lines if ": " in line),
            "rttm": session.with_suffix(".rttm"),
        }
        if args.session_seconds:
            entry = _cut_session(entry, args.session_seconds)
        out.append(entry)
    else:
        print(
            f"no {session}; run benchmarks/make_session.py for the 10-minute session",
            file=sys.stderr,
        )
    return out


def _cut_session(entry: dict, seconds: float) -> dict:
    """The first ``seconds`` of the session, with the turns inside it."""
    import soundfile

    audio, rate = soundfile.read(str(entry["path"]), dtype="int16")
    out = CACHE / f"session-{int(seconds)}s.wav"
    soundfile.write(str(out), audio[: int(seconds * rate)], rate, subtype="PCM_16")
    turns = [line.split() for line in entry["rttm"].read_text().splitlines()]
    kept = [t for t in turns if float(t[3]) + float(t[4]) <= seconds]
    rttm = out.with_suffix(".rttm")
    rttm.write_text("".join(" ".join(t) + "\n" for t in kept))
    texts = entry["path"].with_suffix(".txt").read_text().splitlines()[: len(kept)]
    ref = " ".join(line.split(": ", 1)[1] for line in texts)
    return {**entry, "name": f"session-{int(seconds)}s", "path": out, "ref": ref, "rttm": rttm}


# -- one run, in a child process ---------------------------------------------


def child(spec: dict) -> dict:
    from qualcode.audio import load_audio
    from qualcode.engines import TranscribeOptions, get_engine

    audio = load_audio(spec["path"])
    options = TranscribeOptions(
        model=spec["model"],
        language=spec["lang"],
        device="cpu",
        compute_type=spec["compute"],
        vad=spec["vad"],
        batched=spec["batched"],
        cpu_threads=spec["threads"],
        beam_size=5,
    )
    engine = get_engine(spec["engine"])
    began = time.perf_counter()
    engine.load(options)  # type: ignore[attr-defined]
    load = time.perf_counter() - began
    began = time.perf_counter()
    result = engine.transcribe(audio.samples, options)
    wall = time.perf_counter() - began
    out = {
        "load": load,
        "wall": wall,
        "duration": audio.duration,
        "language": result.language,
        "text": " ".join(s.text for s in result.segments),
        "batched": result.settings.get("batched"),
    }
    if spec["diarize"]:
        from qualcode.diarize import diarize_words, words_to_turns

        began = time.perf_counter()
        labels = diarize_words(audio.samples, result.words, None)
        out["diarize_wall"] = time.perf_counter() - began
        out["turns"] = [(u.start, u.end, u.speaker) for u in words_to_turns(result.words, labels)]
    return out


def run_child(spec: dict) -> tuple[dict, float]:
    """(child's result, its peak RSS in MB)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"])}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", json.dumps({**spec, "path": str(spec["path"])})],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"run failed: {spec}")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def der(rttm: Path, turns: list) -> float:
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    ref, hyp = Annotation(), Annotation()
    for line in rttm.read_text().splitlines():
        f = line.split()
        ref[Segment(float(f[3]), float(f[3]) + float(f[4]))] = f[7]
    for start, end, speaker in turns:
        if end > start:
            hyp[Segment(start, end)] = speaker
    return float(DiarizationErrorRate(collar=0.5)(ref, hyp))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 run each, session cut to 120 s, ablation on the session only",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (median wall time)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--session-wav", help="the 10-minute session (default benchmarks/.cache)")
    parser.add_argument("--session-seconds", type=float, help="use only the session's start")
    parser.add_argument("--only", help="run only recordings whose name contains this")
    parser.add_argument(
        "--skip-engine", action="append", default=[], help="leave out rows of this engine"
    )
    parser.add_argument(
        "--config",
        help="run only configurations whose label holds all these words, e.g. "
        "'faster-whisper int8 vad batched' (labels: ENGINE COMPUTE vad|novad batched|plain)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="put the table under '## Transcription' in docs/benchmarks.md",
    )
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    import jiwer

    if args.quick:
        args.repeat = 1
        args.session_seconds = args.session_seconds or 120
    rows = []
    header = (
        "| recording | engine | model | compute | VAD | batched | wall s | RTF | "
        "peak MB | WER | CER | DER | lang |"
    )
    print(header)
    print("|" + "---|" * 13)
    for rec in recordings(args):
        if args.only and args.only not in rec["name"]:
            continue
        # the targets are about base; the session with tiny.en would only add time
        base_only = rec["lang"] == "fi" or rec["name"].startswith("session")
        models = ["base"] if base_only else ["tiny.en", "base"]
        for model in models:
            configs = (
                ABLATION
                if rec["name"].startswith("session") and model == "base"
                else [("openai-whisper", "float32", False, False), DEFAULT]
            )
            for engine, compute, vad, batched in configs:
                if engine in args.skip_engine:
                    continue
                label = (
                    f"{engine} {compute} {'vad' if vad else 'novad'} "
                    f"{'batched' if batched else 'plain'}"
                ).split()
                if args.config and not all(w in label for w in args.config.split()):
                    continue
                spec = {
                    "path": rec["path"],
                    "lang": rec["lang"],
                    "model": model,
                    "engine": engine,
                    "compute": compute,
                    "vad": vad,
                    "batched": batched,
                    "threads": args.threads,
                    "diarize": rec["rttm"] is not None
                    and (engine, compute, vad, batched) in (DEFAULT, ABLATION[-1]),
                }
                runs = [run_child(spec) for _ in range(args.repeat)]
                result = runs[0][0]
                wall = statistics.median(r["wall"] for r, _ in runs)
                peak = max(mb for _, mb in runs)
                ref, hyp = normalize(rec["ref"]), normalize(result["text"])
                row = {
                    "recording": rec["name"],
                    "engine": engine,
                    "model": model,
                    "compute": compute,
                    "vad": vad,
                    "batched": result["batched"],
                    "wall": wall,
                    "rtf": wall / result["duration"],
                    "duration": result["duration"],
                    "peak_mb": peak,
                    "wer": jiwer.wer(ref, hyp),
                    "cer": jiwer.cer(ref, hyp),
                    "der": der(rec["rttm"], result["turns"]) if "turns" in result else None,
                    "language": result["language"],
                }
                rows.append(row)
                line = _row(row)
                print(line, flush=True)
    lines = [header, "|" + "---|" * 13] + [_row(r) for r in rows]
    notes = _shares(rows)
    for n in notes:
        print(n)
    if args.write_docs:
        _write_docs(lines, notes, args)
    return 0


def _row(r: dict) -> str:
    der_text = f"{r['der']:.1%}" if r["der"] is not None else ""
    return (
        f"| {r['recording']} | {r['engine']} | {r['model']} | {r['compute']} | "
        f"{'on' if r['vad'] else 'off'} | {'yes' if r['batched'] else 'no'} | "
        f"{r['wall']:.1f} | {r['rtf']:.3f} | {r['peak_mb']:.0f} | {r['wer']:.1%} | "
        f"{r['cer']:.1%} | {der_text} | {r['language']} |"
    )


def _shares(rows: list[dict]) -> list[str]:
    """Speed-up of each step over openai-whisper fp32 on the session, base."""
    session = [r for r in rows if r["recording"].startswith("session") and r["model"] == "base"]
    if len(session) < len(ABLATION) or session[0]["engine"] != "openai-whisper":
        return []
    walls = [r["wall"] for r in session]
    steps = ["faster-whisper engine (fp32)", "int8", "VAD", "batching"]
    notes = [f"On {session[0]['recording']} (base): openai-whisper fp32 {walls[0]:.1f} s."]
    for name, before, after in zip(steps, walls, walls[1:], strict=False):
        notes.append(f"- {name}: {before:.1f} s -> {after:.1f} s ({before / after:.2f}x)")
    # the default pipeline: int8 + VAD, batched on long files (BATCH_MIN_SECONDS)
    from qualcode.engines import BATCH_MIN_SECONDS

    default = next(
        r
        for r in session
        if r["vad"]
        and r["compute"] == "int8"
        and r["batched"] == (r["duration"] >= BATCH_MIN_SECONDS)
    )
    notes.append(
        f"- default pipeline vs openai-whisper: {walls[0] / default['wall']:.2f}x faster, "
        f"WER {default['wer']:.1%} vs {session[0]['wer']:.1%}"
    )
    return notes


def _write_docs(lines: list[str], notes: list[str], args) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.is_file() else "# Benchmarks\n"
    cmd = "python benchmarks/transcribe.py " + " ".join(sys.argv[1:])
    section = (
        "## Transcription\n\n"
        f"`{cmd.strip()}` ({args.threads} threads, median of {args.repeat} run(s); "
        f"{time.strftime('%Y-%m-%d')}). WER/CER after lowercasing and removing punctuation; "
        "DER with 0.25 s collar, `--speakers auto`.\n\n"
        + "\n".join(lines)
        + "\n\n"
        + "\n".join(notes)
        + "\n"
    )
    match = re.search(r"^## Transcription\n.*?(?=^## |\Z)", text, flags=re.S | re.M)
    text = (
        text[: match.start()] + section + "\n" + text[match.end() :]
        if match
        else (text.rstrip("\n") + "\n\n" + section)
    )
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
