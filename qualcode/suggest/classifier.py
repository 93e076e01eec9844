"""Signal 3: a classifier learned from the coders' decisions.

Coders teach the tool what the codebook means *in this project*. But a plain
classifier trained on a handful of decisions is worse than the codebook (it
reached F1 0.4 where keywords reach 0.8), so it must add to the codebook
signals, never replace them:

- each code's model sees the codebook score (its logit) as one more feature,
  scaled up so regularisation barely touches it: with few decisions the model
  stays close to the codebook and only moves where decisions disagree;
- its probability is blended with the codebook score with a weight that
  grows with the number of decisions on that code, and codes with too few
  positive or negative decisions keep the codebook score alone;
- probabilities are calibrated (Platt scaling, cross-validated) once a code
  has enough decisions, so 0.5 means what the review queue assumes.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


class DecisionClassifier:
    """One-vs-rest logistic regression on text features plus the codebook score.

    C: inverse regularisation strength of the text features.
    prior_scale: how strongly the codebook-score feature is protected from
        regularisation (it is multiplied by this before fitting).
    min_positive, min_negative: decisions a code needs before it gets a model.
    blend_half: number of decisions on a code at which the model and the
        codebook score weigh equally.
    calibrate_min: positives and negatives needed for calibrated probabilities.
    text_weight: scale of the text features (n-grams, lemmas).
    signal_scale: scale of the codebook signal features.
    tol: liblinear's stopping tolerance (looser trains faster: 2.0 gave the
        leave-one-set-out F1 of 0.3 within 0.1 points in 40% less time, and
        4.0 the same means as 2.0 at F=0 and F=0.5 in about a quarter less;
        see docs/benchmarks.md).

    The models are not fitted in threads: liblinear draws its coordinate
    order from one random generator shared by every thread, so parallel fits
    made the model (and evaluate's figures) depend on thread timing. On a
    large training set they are fitted in this process and a forked one
    instead, each with its own generator (see ``_fit_codes``).
    """

    models_: list[Any | None]  # per code: its fitted model, None without enough decisions

    def __init__(
        self,
        C: float = 16.0,
        prior_scale: float = 3.0,
        min_positive: int = 3,
        min_negative: int = 3,
        blend_half: float = 10.0,
        calibrate_min: int = 15,
        text_weight: float = 1.0,
        signal_scale: float = 1.0,
        tol: float = 4.0,
    ) -> None:
        self.C = C
        self.prior_scale = prior_scale
        self.min_positive = min_positive
        self.min_negative = min_negative
        self.blend_half = blend_half
        self.calibrate_min = calibrate_min
        self.text_weight = text_weight
        self.signal_scale = signal_scale
        self.tol = tol

    def __getstate__(self) -> dict:
        # coefficients over the hashed n-gram space are mostly zero: stored
        # sparse (and single precision) a model takes a fraction of the room
        state = dict(self.__dict__)
        if "models_" in state:
            state["models_"] = [_map_linear(m, _pack) for m in state["models_"]]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "models_" in state:
            self.models_ = [_map_linear(m, _unpack) for m in state["models_"]]

    def _design(self, x: Any, prior_col: np.ndarray, signals: np.ndarray | None) -> Any:
        """Text features, the codebook score and the signals behind it: with
        few decisions the model can still re-weight the signals for this code
        (e.g. learn that its keywords over-fire) where n-grams are too sparse."""
        from scipy import sparse

        cols = [(logit(prior_col) * self.prior_scale / 4.0).reshape(-1, 1)]
        if signals is not None:
            cols.append(signals * self.signal_scale)
        extra = sparse.csr_matrix(np.hstack(cols).astype(np.float32))
        design = sparse.hstack([x * self.text_weight, extra], format="csr")
        # canonical once here, or scikit-learn re-checks it on every CV fit
        design.sum_duplicates()
        return design

    def fit(
        self,
        x: Any,
        y: np.ndarray,
        known: np.ndarray,
        prior: np.ndarray,
        signals: np.ndarray | None = None,
    ) -> DecisionClassifier:
        """x: features (n x f); y: 1/0 labels (n x codes); known: which labels
        a coder decided (n x codes, bool); prior: codebook scores (n x codes);
        signals: what the codebook score is made of (n x codes x m)."""
        n_codes = y.shape[1]
        self.models_ = [None] * n_codes
        self.weights_ = np.zeros(n_codes, dtype=np.float32)
        self.n_positive_ = np.zeros(n_codes, dtype=np.int64)
        self.n_negative_ = np.zeros(n_codes, dtype=np.int64)
        x = x.tocsr()
        # sorted once here rather than in every code's design matrix
        x.sort_indices()
        todo = []
        for c in range(n_codes):
            labels = y[known[:, c], c]
            pos = int((labels > 0).sum())
            neg = len(labels) - pos
            self.n_positive_[c], self.n_negative_[c] = pos, neg
            if pos < self.min_positive or neg < self.min_negative:
                continue
            todo.append(c)
            n = min(pos, neg) * 2
            self.weights_[c] = n / (n + self.blend_half)
        for c, model in _fit_codes(self, todo, (x, y, known, prior, signals)):
            self.models_[c] = model
        return self

    def _fit_code(
        self,
        c: int,
        x: Any,
        y: np.ndarray,
        known: np.ndarray,
        prior: np.ndarray,
        signals: np.ndarray | None,
    ) -> Any:
        """Code ``c``'s model, from the units a coder decided on it."""
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.linear_model import LogisticRegression

        rows = np.flatnonzero(known[:, c])
        labels = (y[rows, c] > 0).astype(int)
        sig = None if signals is None else signals[rows, c]
        design = self._design(x[rows], prior[rows, c], sig)
        # dual liblinear: fast when features (hashed n-grams) far outnumber units
        base = LogisticRegression(
            C=self.C,
            solver="liblinear",
            dual=True,
            class_weight="balanced",
            tol=self.tol,
            max_iter=1000,
            random_state=0,  # liblinear shuffles: the same decisions, the same model
        )
        pos = int(labels.sum())
        if min(pos, len(labels) - pos) >= self.calibrate_min:
            model: Any = CalibratedClassifierCV(base, method="sigmoid", cv=3)
        else:
            model = base
        return model.fit(design, labels)

    def predict_proba(
        self, x: Any, prior: np.ndarray, signals: np.ndarray | None = None
    ) -> np.ndarray:
        """Blended probabilities (n x codes); the codebook score where a code
        has no model."""
        out = prior.astype(np.float32).copy()
        linear = self._linear_models()
        if linear is None:  # a model of another shape: score its design matrix
            x = x.stacked() if hasattr(x, "stacked") else x.tocsr()
            for c, model in enumerate(self.models_):
                if model is None:
                    continue
                sig = None if signals is None else signals[:, c]
                p = model.predict_proba(self._design(x, prior[:, c], sig))[:, 1]
                out[:, c] = (1 - self.weights_[c]) * prior[:, c] + self.weights_[c] * p
            return out
        if not linear:  # no code has enough decisions yet
            return out
        # every model is linear in the design matrix [text | codebook signals]:
        # one sparse x dense product gives all their text terms at once,
        # instead of stacking a design matrix per code (the costly part on a
        # large batch)
        n_text = x.shape[1]
        coefs = np.stack([coef[:n_text] for _, _, coef, _, _ in linear], axis=1)
        coefs = coefs.astype(np.float32)
        # split rows (see similarity.SplitRows) multiply part by part
        text_terms = x.dot_dense(coefs) if hasattr(x, "dot_dense") else x.tocsr() @ coefs
        text_terms *= self.text_weight
        for c in {c for c, *_ in linear}:
            cols = [logit(prior[:, c]).reshape(-1, 1) * self.prior_scale / 4.0]
            if signals is not None:
                cols.append(signals[:, c] * self.signal_scale)
            extra = np.hstack(cols).astype(np.float32)
            members = [(k, m) for k, m in enumerate(linear) if m[0] == c]
            p = np.zeros(len(prior), dtype=np.float64)
            for k, (_, intercept, coef, a, b) in members:
                f = text_terms[:, k] + extra @ coef[n_text:] + intercept
                if a is None:
                    p += 1.0 / (1.0 + np.exp(-f))
                else:  # Platt scaling, as sklearn's _SigmoidCalibration
                    p += 1.0 / (1.0 + np.exp(a * f + b))
            p /= len(members)
            out[:, c] = (1 - self.weights_[c]) * prior[:, c] + self.weights_[c] * p
        return out

    def _linear_models(self) -> list[tuple[int, float, np.ndarray, Any, Any]] | None:
        """(code, intercept, coefficients, Platt a, Platt b) of every fitted
        logistic model (three per calibrated code), or None when a model is
        not of that shape."""
        out: list[tuple[int, float, np.ndarray, Any, Any]] = []
        try:
            for c, model in enumerate(self.models_):
                if model is None:
                    continue
                if hasattr(model, "calibrated_classifiers_"):
                    if getattr(model, "method", "sigmoid") != "sigmoid":
                        return None
                    for cc in model.calibrated_classifiers_:
                        lr = cc.estimator
                        (cal,) = cc.calibrators
                        out.append(
                            (c, float(lr.intercept_[0]), lr.coef_[0], float(cal.a_), float(cal.b_))
                        )
                elif hasattr(model, "coef_"):
                    out.append((c, float(model.intercept_[0]), model.coef_[0], None, None))
                else:
                    return None
        except (AttributeError, ValueError):
            return None
        return out


# below this many decided units the models are fitted in this process:
# starting workers costs more than it saves
MIN_UNITS_TO_FORK = 2_000
_job: Any = None


def _take(todo: list[int], taken: Any) -> int | None:
    """The next code nobody has started, from a counter both processes share."""
    with taken.get_lock():
        k = taken.value
        taken.value += 1
    return todo[k] if k < len(todo) else None


def _fit_in_worker() -> list[tuple[int, Any]]:
    from threadpoolctl import threadpool_limits

    clf, data, todo, taken = _job
    done = []
    # one BLAS/OpenMP thread per worker: two workers with a pool of threads
    # each oversubscribed the cores (training took a fifth longer)
    with threadpool_limits(1):
        while (c := _take(todo, taken)) is not None:
            # sparse but lossless: the same model as one fitted here, in a
            # fraction of the bytes sent back
            done.append((c, _map_linear(clf._fit_code(c, *data), _pack_exact)))
    return done


def _fit_codes(clf: DecisionClassifier, codes: list[int], data: tuple) -> list[tuple[int, Any]]:
    """(code, fitted model) for each of ``codes``, split between this
    process and a forked worker where that pays: each process seeds
    liblinear's generator for each fit, so the models are the ones a single
    process would fit (threads would share the generator). Only from the
    main thread, so a review screen's background retraining never forks a
    threaded app."""
    import threading

    from qualcode.suggest.parallel import default_threads

    procs = min(default_threads(), len(codes))
    if (
        procs < 2
        or data[0].shape[0] < MIN_UNITS_TO_FORK
        or not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return [(c, clf._fit_code(c, *data)) for c in codes]
    import multiprocessing

    from threadpoolctl import threadpool_limits

    global _job
    # this process and the worker each take the next code not yet started
    # until none is left: the codes' costs differ (0.7-1.0 s each on the
    # emessi coded units), so taking turns left one side idle at the end
    ctx = multiprocessing.get_context("fork")
    taken = ctx.Value("i", 0)
    _job = (clf, data, codes, taken)
    try:
        with ctx.Pool(1) as pool:
            pending = pool.apply_async(_fit_in_worker)
            done = []
            with threadpool_limits(1):
                while (c := _take(codes, taken)) is not None:
                    done.append((c, clf._fit_code(c, *data)))
            done += [(c, _map_linear(model, _unpack)) for c, model in pending.get()]
    finally:
        _job = None
    return sorted(done, key=lambda item: item[0])


def _pack_exact(coef: Any) -> Any:
    from scipy import sparse

    return sparse.csr_matrix(np.asarray(coef))


def _pack(coef: Any) -> Any:
    from scipy import sparse

    return sparse.csr_matrix(np.asarray(coef, dtype=np.float32))


def _unpack(coef: Any) -> Any:
    return coef.toarray().astype(np.float64) if hasattr(coef, "toarray") else coef


def _map_linear(model: Any, convert: Any) -> Any:
    """A copy of ``model`` whose logistic models' ``coef_`` went through
    ``convert`` (the fitted model itself is left as it is)."""
    import copy

    def one(lr: Any) -> Any:
        if not hasattr(lr, "coef_"):
            return lr
        out = copy.copy(lr)
        out.coef_ = convert(lr.coef_)
        return out

    if model is None:
        return None
    if hasattr(model, "calibrated_classifiers_"):
        out = copy.copy(model)
        out.calibrated_classifiers_ = []
        for cc in model.calibrated_classifiers_:
            cc2 = copy.copy(cc)
            cc2.estimator = one(cc.estimator)
            out.calibrated_classifiers_.append(cc2)
        return out
    return one(model)
