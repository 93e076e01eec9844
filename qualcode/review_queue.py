"""Which units a review shows, in which order, and where it starts.

The model proposes, the coder's time decides: by default the units whose
suggestions sit closest to the threshold come first (what the coder's
answer teaches the model most), or the session's order; filters by
session or code never use another coder's decisions. Kept apart from the
review loop (``qualcode.review``), which mixes this in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qualcode.models import Suggestion
    from qualcode.review_views import ReviewOptions
    from qualcode.store import Store


class QueueMixin:
    """The queue of a ``ReviewSession`` (its attributes are declared here
    for the type checker; the session sets them)."""

    store: Store
    coder: str
    options: ReviewOptions
    threshold: float
    decided: dict[int, dict[str, str]]
    status: dict[int, str]
    queue: list[int]

    def suggestions(self, segment_id: int) -> list[Suggestion]:
        raise NotImplementedError

    def _build_queue(self) -> list[int]:
        from qualcode.suggest import review_queue

        o = self.options
        only_unreviewed = o.only_unreviewed and not o.disagreements
        ids = review_queue(
            self.store,
            self.coder,
            session=o.session,
            code=o.code,
            order=o.order,
            only_unreviewed=only_unreviewed,
            threshold=self.threshold,
        )
        if o.code is not None:
            from qualcode.suggest.workflow import code_family

            # a code filter must not reveal other coders' decisions: keep
            # units the model suggested it (or a code under it) for, or this
            # coder applied it
            family = code_family(self.store, o.code)
            ids = [
                i
                for i in ids
                if any(s.code_id in family for s in self.suggestions(i))
                or any(self.decided.get(i, {}).get(c) in ("accepted", "added") for c in family)
            ]
        if o.disagreements:
            ids = [i for i in ids if self.status.get(i) == "done" and self.disagrees(i)]
        return ids

    def disagrees(self, segment_id: int) -> bool:
        """Does this coder's code set differ from the model's pre-selection?"""
        model = {s.code_id for s in self.suggestions(segment_id) if s.score >= self.threshold}
        mine = {
            c for c, v in self.decided.get(segment_id, {}).items() if v in ("accepted", "added")
        }
        return model != mine

    def _first_unreviewed(self) -> int:
        for i, sid in enumerate(self.queue):
            if sid not in self.status:
                return i
        # then the units skipped earlier
        for i, sid in enumerate(self.queue):
            if self.status.get(sid) != "done":
                return i
        # a queue of units already reviewed (--all, --disagreements) is gone
        # through again from its start; otherwise everything is done
        revisit = self.options.disagreements or not self.options.only_unreviewed
        return 0 if revisit else len(self.queue)

    def end_message(self) -> str:
        """What to say past the last unit of the queue."""
        n = len(self.queue)
        left = n - sum(self.status.get(i) == "done" for i in self.queue)
        first = (
            "All units in this queue are reviewed."
            if not left
            else f"End of the queue: {left} of its {n} unit{'s' * (n != 1)} "
            f"{'is' if left == 1 else 'are'} not reviewed yet."
        )
        return f"{first} Press p to go back, u to undo, q to quit."
