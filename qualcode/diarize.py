"""Who spoke when: speaker labels for the words of a transcript.

Whisper gives words with times but no speakers, and one Whisper segment often
spans a speaker change, so labelling whole segments mislabels the second
speaker's opening words. This module labels each *word* and only then merges
consecutive words of one speaker into turns.

Two routes:

- ``diarize_channels``: online-meeting recordings often put each participant
  on their own channel; the loudest channel over a word is its speaker. No
  model, exact when the channels are clean.
- ``diarize_words``: one mixed channel. Speaker embeddings (resemblyzer's
  VoiceEncoder, whose weights ship inside its wheel, so it works offline) of
  ~1.5 s windows every 0.5 s over the speech the words cover, spectral
  clustering on a cosine affinity pruned to each window's nearest neighbours,
  the number of speakers from the eigengap of the normalized Laplacian, and a
  short mode filter over the window labels. On the real two-speaker call this
  found k=2 by itself with a few percent DER, where plain agglomerative
  clustering lumped nearly everything together and silhouette chose 3-5.

Labels are ``SPEAKER_1..N`` in order of first appearance; coders rename them
to participants later (``qualcode speakers rename``).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from qualcode.errors import QualcodeError
from qualcode.models import Word

# diarize, then turns: the library's API keeps both in one place (docs/diarization.md)
from qualcode.turns import words_to_turns as words_to_turns

SAMPLE_RATE = 16000
# resemblyzer's mel frames are 10 ms apart
_FRAMES_PER_SECOND = 100


@dataclass
class DiarizeOptions:
    """Settings of embedding-based diarization (``diarize``/``diarize_words``).

    The defaults are the ones measured on the real two-speaker call; change
    them only with a DER benchmark at hand (``benchmarks/diarize.py``).
    """

    #: seconds of audio per speaker embedding; shorter windows are noisier,
    #: longer ones straddle more speaker changes
    window: float = 1.5
    #: seconds between window starts (the time resolution of the labels)
    hop: float = 0.5
    #: fraction of each window's most similar windows kept in the affinity;
    #: pruning cuts the weak cross-speaker links that blur the clusters
    prune_fraction: float = 0.3
    #: upper bound when the number of speakers is estimated (``None`` given)
    max_speakers: int = 8
    #: windows in the mode filter over window labels (odd; 1 turns it off);
    #: it removes single-window flips that no real turn is that short to make
    mode_filter: int = 5
    #: words closer than this (seconds) belong to one stretch of speech
    max_gap: float = 0.5
    #: a pause this long (seconds) between words may be a change of speaker;
    #: a word's label is voted by the windows over its pause-free chunk
    chunk_gap: float = 0.1
    #: CPU threads for the encoder (torch) and clustering (BLAS) while
    #: diarizing; ``None`` leaves the process's settings. Keep it at or below
    #: the cores that are actually free: oversubscribed threads spin-wait
    threads: int | None = None
    #: random seed of k-means on the spectral embedding (reproducible labels)
    seed: int = 0
    #: when estimating: the second-smallest Laplacian eigenvalue of several
    #: speakers was 0.01-0.09 on our recordings, of one speaker 0.22-0.41;
    #: above this value the recording counts as one speaker
    one_speaker_eigenvalue: float = 0.15
    #: a second eigenvalue between these is a close call: said, not hidden
    #: (one recording gave 0.14 or 0.17 decoded two ways; clear single voices
    #: 0.20-0.22, a clear pair 0.10)
    uncertain_eigenvalues: tuple[float, float] = (0.12, 0.19)
    #: when estimating: fewer windows (~6 s of speech) are too few to split
    #: reliably (a 6 s single reader came out as 2-3 speakers), so one speaker
    min_windows: int = 12
    #: most windows clustered at once; longer recordings cluster an even
    #: sample and give the other windows their nearest cluster, because the
    #: affinity matrix and its eigendecomposition grow with the square/cube
    #: (2000 windows is ~17 minutes of speech)
    max_cluster_windows: int = 2000


class UncertainSpeakerCount(UserWarning):
    """The estimated number of speakers is a close call (raised as a
    warning; ``transcribe`` turns it into a note on the file)."""


def _require_encoder() -> Any:
    try:
        import torch  # noqa: F401
        from resemblyzer import VoiceEncoder  # noqa: F401
    except ImportError as e:
        raise QualcodeError(
            f"speaker diarization needs resemblyzer and torch ({e}); "
            "install qualcode[diarize] or use --speakers channels|none|1"
        ) from None
    return _encoder()


@functools.lru_cache(maxsize=1)
def _encoder() -> Any:
    # loading the weights takes ~0.1 s; keep one encoder per process
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from resemblyzer import VoiceEncoder

    return VoiceEncoder(device="cpu", verbose=False)


def speech_spans(words: Sequence[Word], max_gap: float = 0.5) -> list[tuple[float, float]]:
    """Stretches of speech covered by word timestamps, merging gaps < ``max_gap``."""
    spans: list[tuple[float, float]] = []
    for w in sorted(words, key=lambda w: w.start):
        start, end = float(w.start), max(float(w.end), float(w.start))
        if spans and start - spans[-1][1] <= max_gap:
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return [(s, e) for s, e in spans if e > s]


def _windows(
    spans: Sequence[tuple[float, float]], duration: float, options: DiarizeOptions
) -> list[tuple[float, float]]:
    """Embedding windows over the speech spans, each ``options.window`` long.

    A span shorter than a window still gets one window, centred on it and
    widened into the surrounding audio: a short interjection ("yes, exactly")
    is often a speaker change and must not be skipped.
    """
    win, hop = options.window, options.hop
    out: list[tuple[float, float]] = []
    for s, e in spans:
        if e - s <= win:
            mid = (s + e) / 2
            a = min(max(0.0, mid - win / 2), max(0.0, duration - win))
            out.append((a, min(duration, a + win)))
            continue
        t = s
        while t + win < e:
            out.append((t, t + win))
            t += hop
        out.append((e - win, e))  # the tail, so the span's end is covered
    # widened windows of short spans can start before a neighbour's last one;
    # callers rely on start order (mode filter, bisect)
    return sorted(out)


@contextlib.contextmanager
def _thread_limit(threads: int | None) -> Iterator[None]:
    """Limit torch and BLAS threads for the duration, then restore them.

    On a loaded machine, more threads than free cores make the LSTM and the
    eigendecomposition spin-wait: measured 10x slower with 2 threads than 1
    while other jobs ran on the 2 cores.
    """
    if not threads:
        yield
        return
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        torch.set_num_threads(before)


def _embed(audio: Any, windows: Sequence[tuple[float, float]], options: DiarizeOptions) -> Any:
    encoder = _require_encoder()  # first: a clear error when resemblyzer is missing
    import numpy as np
    import torch

    with warnings.catch_warnings():
        # resemblyzer imports a deprecated scipy path; not the user's concern
        warnings.simplefilter("ignore", DeprecationWarning)
        from resemblyzer.audio import normalize_volume, wav_to_mel_spectrogram
    from resemblyzer.hparams import audio_norm_target_dBFS

    wav = np.asarray(audio, dtype=np.float32)
    if np.any(wav):
        wav = normalize_volume(wav, audio_norm_target_dBFS, increase_only=True)
    # one mel spectrogram for the whole recording; windows are slices of it
    mel = wav_to_mel_spectrogram(wav)
    n_frames = int(round(options.window * _FRAMES_PER_SECOND))
    batch = np.zeros((len(windows), n_frames, mel.shape[1]), dtype=np.float32)
    for i, (a, _) in enumerate(windows):
        f0 = int(round(a * _FRAMES_PER_SECOND))
        chunk = mel[f0 : f0 + n_frames]
        batch[i, : len(chunk)] = chunk
    embeddings = []
    with torch.no_grad():
        for i in range(0, len(batch), 64):
            x = torch.from_numpy(batch[i : i + 64])
            embeddings.append(encoder(x).cpu().numpy())
    return np.concatenate(embeddings) if embeddings else np.zeros((0, 256), np.float32)


def _pruned_affinity(embeddings: Any, fraction: float) -> Any:
    """Cosine affinity keeping each row's nearest ``fraction`` of neighbours."""
    import numpy as np

    norm = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    aff = np.clip(norm @ norm.T, 0.0, 1.0)
    n = len(aff)
    keep = max(2, int(np.ceil(fraction * n)))
    if keep < n:
        # indices of the n-keep weakest links in each row
        drop = np.argsort(aff, axis=1)[:, : n - keep]
        np.put_along_axis(aff, drop, 0.0, axis=1)
    return (aff + aff.T) / 2


def _spectral(affinity: Any, num_speakers: int | None, options: DiarizeOptions) -> tuple[Any, int]:
    """Cluster labels and the number of clusters (eigengap when not given)."""
    import numpy as np
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    n = len(affinity)
    degree = affinity.sum(axis=1)
    d = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
    laplacian = np.eye(n) - d[:, None] * affinity * d[None, :]
    values, vectors = eigh(laplacian)
    if num_speakers is None:
        k_max = max(1, min(options.max_speakers, n - 1))
        # the largest gap among the smallest eigenvalues separates the
        # near-zero ones (one per well-separated cluster) from the rest
        gaps = np.diff(values[: k_max + 1])
        k = int(np.argmax(gaps)) + 1 if len(gaps) else 1
        if n < options.min_windows or values[1] > options.one_speaker_eigenvalue:
            # no near-zero second eigenvalue: the graph does not split
            k = 1
        low, high = options.uncertain_eigenvalues
        if n >= options.min_windows and low < values[1] < high:
            # between what one voice and several gave on our recordings: the
            # same audio decoded a little differently can fall either side
            warnings.warn(
                UncertainSpeakerCount(
                    f"whether this is one speaker or several was a close call (found {k}); "
                    "check the transcript, or give the number with --speakers N"
                ),
                stacklevel=2,
            )
    else:
        k = max(1, min(num_speakers, n))
    if k == 1:
        return np.zeros(n, dtype=int), 1
    spectral = vectors[:, :k]
    spectral = spectral / np.maximum(np.linalg.norm(spectral, axis=1, keepdims=True), 1e-12)
    labels = KMeans(n_clusters=k, n_init=10, random_state=options.seed).fit_predict(spectral)
    return labels, k


def _cluster(embeddings: Any, num_speakers: int | None, options: DiarizeOptions) -> Any:
    """Cluster labels for all windows (sampled spectral clustering if many)."""
    import numpy as np

    n = len(embeddings)
    if n <= options.max_cluster_windows:
        affinity = _pruned_affinity(embeddings, options.prune_fraction)
        return _spectral(affinity, num_speakers, options)[0]
    sample = np.linspace(0, n - 1, options.max_cluster_windows).round().astype(int)
    affinity = _pruned_affinity(embeddings[sample], options.prune_fraction)
    sampled, _ = _spectral(affinity, num_speakers, options)
    norm = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9)
    present = np.unique(sampled)
    centroids = np.stack([norm[sample][sampled == c].mean(axis=0) for c in present])
    labels = present[np.argmax(norm @ centroids.T, axis=1)]
    labels[sample] = sampled
    return labels


def _mode_filter(labels: Sequence[int], width: int) -> list[int]:
    if width <= 1 or len(labels) < 3:
        return list(labels)
    half = width // 2
    out = []
    for i, own in enumerate(labels):
        counts = Counter(labels[max(0, i - half) : i + half + 1])
        best = max(counts.values())
        # ties keep the window's own label so the filter never invents a flip
        out.append(own if counts[own] == best else counts.most_common(1)[0][0])
    return out


def _window_labels(
    audio: Any,
    spans: Sequence[tuple[float, float]],
    num_speakers: int | None,
    options: DiarizeOptions,
) -> tuple[list[tuple[float, float]], list[str]]:
    """Embedding windows and their ``SPEAKER_n`` labels, in time order."""
    import numpy as np

    if num_speakers is not None and num_speakers < 1:
        raise QualcodeError(f"number of speakers must be at least 1, not {num_speakers}")
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim != 1:
        raise QualcodeError(
            f"diarization needs mono audio, got an array of shape {samples.shape}; "
            "mix the channels down or use --speakers channels"
        )
    duration = len(samples) / SAMPLE_RATE
    spans = sorted((max(0.0, s), min(duration, e)) for s, e in spans if e > s)
    windows = _windows([(s, e) for s, e in spans if e > s], duration, options)
    if not windows:
        return [], []
    if num_speakers == 1 or len(windows) < 3:
        return windows, ["SPEAKER_1"] * len(windows)
    _require_encoder()  # a clear error before any torch import
    with _thread_limit(options.threads):
        embeddings = _embed(samples, windows, options)
        raw = _cluster(embeddings, num_speakers, options)
    smoothed = _mode_filter([int(x) for x in raw], options.mode_filter)
    # SPEAKER_1 is whoever speaks first, so labels read naturally
    names: dict[int, str] = {}
    for c in smoothed:
        names.setdefault(c, f"SPEAKER_{len(names) + 1}")
    return windows, [names[c] for c in smoothed]


def diarize(
    audio: Any,
    speech_spans: Sequence[tuple[float, float]],
    num_speakers: int | None = None,
    options: DiarizeOptions | None = None,
) -> list[tuple[float, float, str]]:
    """Speaker turns ``(start, end, label)`` over the given speech spans.

    ``audio`` is mono float32 at 16 kHz; ``speech_spans`` are (start, end)
    seconds of speech (e.g. from ``speech_spans(words)``); ``num_speakers``
    ``None`` estimates it. Each stretch of a span goes to the window whose
    centre is nearest, so turn boundaries have the hop's resolution.
    """
    options = options or DiarizeOptions()
    windows, labels = _window_labels(audio, speech_spans, num_speakers, options)
    if not windows:
        return []
    centres = [(a + b) / 2 for a, b in windows]
    starts = [a for a, _ in windows]  # ascending: windows are made in time order
    pieces: list[tuple[float, float, str]] = []
    for s, e in sorted(speech_spans):
        # windows belonging to this span (short spans have widened windows)
        lo = bisect.bisect_left(starts, s - options.window - 1e-6)
        hi = bisect.bisect_left(starts, e)
        inside = [i for i in range(lo, hi) if windows[i][1] > s]
        if not inside:
            continue
        inside.sort(key=lambda i: centres[i])
        t = s
        for j, i in enumerate(inside):
            cut = e if j == len(inside) - 1 else (centres[i] + centres[inside[j + 1]]) / 2
            cut = min(max(cut, t), e)
            if cut > t:
                pieces.append((t, cut, labels[i]))
            t = cut
    turns: list[tuple[float, float, str]] = []
    for s, e, lab in pieces:
        if turns and turns[-1][2] == lab and s - turns[-1][1] < 1e-6:
            turns[-1] = (turns[-1][0], e, lab)
        else:
            turns.append((s, e, lab))
    return turns


def diarize_words(
    audio: Any,
    words: list[Word],
    num_speakers: int | None = None,
    options: DiarizeOptions | None = None,
) -> list[str]:
    """A speaker label per word, from one mono 16 kHz float32 recording.

    A word votes among the embedding windows over its *chunk* (the words
    around it without a pause of ``options.chunk_gap``), each window weighted
    by how much of it lies in the chunk and how near its centre the word is.
    People rarely hand over without a pause, so a window that mostly covers
    the next speaker's chunk should not decide a word at the edge of this one
    (on the real call: 96% of words right against 93% with plain overlap).
    """
    options = options or DiarizeOptions()
    if not words:
        return []
    spans = speech_spans(words, options.max_gap)
    windows, labels = _window_labels(audio, spans, num_speakers, options)
    if not windows:
        return ["SPEAKER_1"] * len(words)
    chunks = speech_spans(words, options.chunk_gap)
    chunk_starts = [s for s, _ in chunks]
    starts = [a for a, _ in windows]  # ascending: windows are made in time order
    out: list[str] = []
    for w in words:
        mid = (w.start + w.end) / 2
        j = bisect.bisect_right(chunk_starts, mid + 1e-6) - 1
        cs, ce = chunks[j] if j >= 0 and chunks[j][1] >= mid - 1e-6 else (w.start, w.end)
        votes: dict[str, float] = {}
        lo = bisect.bisect_left(starts, cs - options.window - 1e-6)
        hi = bisect.bisect_right(starts, ce)
        for (a, b), lab in zip(windows[lo:hi], labels[lo:hi], strict=True):
            in_chunk = min(b, ce) - max(a, cs)
            if in_chunk <= 0:
                continue
            centre_weight = max(1.0 - abs(mid - (a + b) / 2) / (b - a), 0.05)
            on_word = 1.0 if min(b, w.end) - max(a, w.start) > 0 else 0.3
            votes[lab] = votes.get(lab, 0.0) + in_chunk / (b - a) * centre_weight * on_word
        if not votes:
            nearest = min(range(len(windows)), key=lambda i: abs(sum(windows[i]) / 2 - mid))
            votes[labels[nearest]] = 1.0
        out.append(max(votes, key=lambda lab: votes[lab]))
    return out


def diarize_channels(audio_channels: Any, words: list[Word]) -> list[str]:
    """A speaker label per word: ``SPEAKER_n`` for the loudest channel n.

    ``audio_channels`` is ``(n_channels, n_samples)`` float32 at 16 kHz. A
    word's channel is the one with the most energy over the word's span (a
    little widened, since Whisper's word edges are approximate).
    """
    import numpy as np

    data = np.asarray(audio_channels, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2:
        raise QualcodeError(
            f"channel diarization needs (channels, samples) audio, got shape {data.shape}"
        )
    n_channels, n_samples = data.shape
    out = []
    for w in words:
        a = max(0, int((w.start - 0.05) * SAMPLE_RATE))
        b = min(n_samples, int((w.end + 0.05) * SAMPLE_RATE))
        if b <= a or n_channels == 1:
            out.append("SPEAKER_1")
            continue
        energy = np.square(data[:, a:b], dtype=np.float64).sum(axis=1)
        out.append(f"SPEAKER_{int(np.argmax(energy)) + 1}")
    return out


def merge_channel_words(channel_words: Sequence[Sequence[Word]]) -> tuple[list[Word], list[str]]:
    """Words transcribed channel by channel, merged in time order with labels.

    When participants talk over each other, energy cannot say whose a word is
    (both channels are loud), and Whisper on the mixed-down audio garbles
    both voices. Transcribing each channel on its own and labelling its words
    ``SPEAKER_<channel>`` avoids both problems, at the cost of one
    transcription per channel.
    """
    tagged = [
        (w.start, ch, i, w) for ch, words in enumerate(channel_words) for i, w in enumerate(words)
    ]
    tagged.sort(key=lambda t: (t[0], t[1], t[2]))
    return [t[3] for t in tagged], [f"SPEAKER_{t[1] + 1}" for t in tagged]
