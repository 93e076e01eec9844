"""Retraining the suggestion model while a coder reviews.

The model should learn from a coder's answers during the session, not only
at the next ``qualcode train``, but a fit takes seconds and a key press
must not. So every N decisions a worker thread retrains on its own store
connection (the review's connection stays the review's) and re-scores only
the units the coder reaches next; the review then drops its cached
suggestions of those units. A failure is reported, never raised: the
coder's work goes on with the old model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qualcode.project import Project


class BackgroundRetrainer:
    """Retrain ``project``'s model after every ``every`` decisions (0: never).

    ``count`` is how many retrainings finished and ``message`` says what the
    last one did (or why it failed); front ends show a new message when
    ``count`` moves.
    """

    def __init__(self, project: Project | None, every: int) -> None:
        self.project = project
        self.every = every
        self.count = 0
        self.message = ""
        self._worker: threading.Thread | None = None

    def after_decision(
        self, n_decisions: int, upcoming: list[int], refreshed: Callable[[list[int]], None]
    ) -> None:
        """Start a retraining when ``n_decisions`` reaches a multiple of
        ``every`` and none is running; ``refreshed(upcoming)`` is called from
        the worker once ``upcoming`` have new suggestions."""
        if not self.every or n_decisions % self.every or self.project is None:
            return
        if self._worker is not None and self._worker.is_alive():
            return
        self._worker = threading.Thread(
            target=self._run, args=(upcoming, refreshed), name="qualcode-retrain", daemon=True
        )
        self._worker.start()

    def _run(self, upcoming: list[int], refreshed: Callable[[list[int]], None]) -> None:
        from qualcode.suggest import maybe_retrain, suggest_segments

        assert self.project is not None
        try:
            with self.project.connect() as own:
                report = maybe_retrain(own, self.project, every=self.every)
                if report is None:
                    return
                if upcoming:
                    suggest_segments(own, self.project, upcoming)
            refreshed(upcoming)
            self.message = (
                f"model retrained on {report.n_decisions} decisions (v{report.version}); "
                f"next {len(upcoming)} units updated"
            )
            self.count += 1
        except Exception as e:  # never take the review down with the model
            self.message = f"background retraining failed: {e}"

    def wait(self, timeout: float | None = None) -> None:
        if self._worker is not None:
            self._worker.join(timeout)
