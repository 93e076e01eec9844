"""The coder's review loop, without any user interface.

Both front ends (the Textual app in ``qualcode.tui`` and the line-prompt
``--plain`` mode for screen readers) drive one ``ReviewSession``: it owns the
queue, what the current unit shows, and every change a key makes. Keeping it
UI-free means the rules (what "accept as shown" writes, what undo reverts,
that one coder never sees another's decisions) are tested once, and the
front ends stay thin.

Speed: everything a key press needs (units, the coder's decisions, review
status, progress counters) is loaded once and kept up to date in memory;
a key press reads one unit's suggestions (cached) and writes its own rows,
so moving and coding stay well under 50 ms on 10,000 units. Retraining
runs in a worker thread with its own store connection and only refreshes
suggestions of units the coder has not reached yet.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from qualcode.errors import QualcodeError, UnitGone
from qualcode.models import Decision, Suggestion
from qualcode.review_queue import QueueMixin
from qualcode.review_retrain import BackgroundRetrainer
from qualcode.review_views import (
    CodeItem,
    Progress,
    ReviewOptions,
    UnitView,
    code_items,
    search_codes,
)

if TYPE_CHECKING:
    from qualcode.project import Project
    from qualcode.store import Store

F = TypeVar("F", bound=Callable[..., Any])


class QueueReloaded(QualcodeError):
    """The unit on screen was re-cut by someone else; the review now shows
    the new units (front ends draw the view again)."""


def _reloads(method: F) -> F:
    """An action whose unit a colleague re-cut between the check and the
    write (their import was still storing): reload instead of failing."""

    @functools.wraps(method)
    def wrapper(self: ReviewSession, *args: Any, **kw: Any) -> Any:
        try:
            return method(self, *args, **kw)
        except UnitGone as e:
            raise self._reloaded(e.segment_id) from e

    return cast(F, wrapper)


class ReviewSession(QueueMixin):
    """One coder reviewing a queue of units in a project."""

    def __init__(self, store: Store, project: Project | None, options: ReviewOptions) -> None:
        if options.order not in ("uncertain", "chronological"):
            raise QualcodeError(f"unknown order {options.order!r}; use uncertain or chronological")
        self.store = store
        self.project = project
        self.options = options
        self.coder = options.coder
        active = store.codes()
        parents = {c.parent_id for c in active if c.parent_id}
        # what a coder can apply: a unit is coded "volunteers", not the
        # umbrella "third sector" above it (as suggestions, import-coded and
        # evaluate have it); a parent still filters with --code
        self.codes = [c for c in active if c.id not in parents]
        self._children = {p: [c.id for c in active if c.parent_id == p] for p in parents}
        self.code_by_id = {c.id: c for c in store.codes(include_inactive=True)}
        if options.code is not None and options.code not in self.code_by_id:
            known = ", ".join(c.id for c in self.codes)
            raise QualcodeError(f"unknown code {options.code!r}; known codes: {known}")
        # labels for a session of unknown language: the project's, if set
        given = project.config.language if project else None
        self._project_language = given if given and given != "auto" else None
        self._lock = threading.Lock()
        self.threshold: float = self._setting("threshold")
        self._load()
        self.n_decisions = 0
        self.retrain_every: int = self._setting("retrain_every")
        self.retrainer = BackgroundRetrainer(project, self.retrain_every)

    def _load(self) -> None:
        """Read the units, this coder's answers and the queue (again, when a
        colleague re-cut sessions while this review was open)."""
        store = self.store
        sessions = store.sessions()
        self.session_names = {s.id or 0: s.name for s in sessions}
        # a relative recording path (from a REFI-QDA import) is the project's
        root = self.project.root if self.project is not None else None
        self.media = {
            s.id or 0: str(root / m) if (m := s.media_path) and root else m for s in sessions
        }
        self.languages = {s.id or 0: s.language for s in sessions}
        self.units = {u.id or 0: u for u in store.segments()}
        self.decided = store.coder_codes(self.coder)
        self.status = store.review_statuses(self.coder)
        # context: a unit's neighbours in its session, codable or not;
        # progress: the codable units per session and those this coder finished
        self._by_session: dict[int, list[int]] = {}
        self._index_in_session: dict[int, int] = {}
        self._totals: dict[int, int] = {}
        self._reviewed: dict[int, int] = {}
        for uid, u in self.units.items():
            ids = self._by_session.setdefault(u.session_id, [])
            self._index_in_session[uid] = len(ids)
            ids.append(uid)
            if u.codable:
                self._totals[u.session_id] = self._totals.get(u.session_id, 0) + 1
                done = self.status.get(uid) == "done"
                self._reviewed[u.session_id] = self._reviewed.get(u.session_id, 0) + done
        with self._lock:
            self._suggestions: dict[int, list[Suggestion]] = {}
            self._stale: set[int] = set()  # retrained while on screen: reread on leaving
        self._requeued: set[int] = set()  # skipped in this sitting, moved to the end
        self.queue = self._build_queue()
        self.index = self._first_unreviewed()

    # -- queue --------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True when the position is past the end of the queue."""
        return self.index >= len(self.queue)

    @property
    def current_id(self) -> int | None:
        return None if self.finished else self.queue[self.index]

    def next(self) -> None:
        if self.index < len(self.queue):
            self._leave()
            self.index += 1

    def previous(self) -> None:
        if self.index > 0:
            self._leave()
            self.index -= 1

    def go_to(self, segment_id: int) -> None:
        if segment_id in self.queue:
            self._leave()
            self.index = self.queue.index(segment_id)

    # -- what is shown ------------------------------------------------------

    def suggestions(self, segment_id: int) -> list[Suggestion]:
        with self._lock:
            cached = self._suggestions.get(segment_id)
        if cached is None:
            cached = sorted(self.store.suggestions(segment_id), key=lambda s: -s.score)
            with self._lock:
                self._suggestions[segment_id] = cached
        return cached

    def items(self, segment_id: int) -> list[CodeItem]:
        """The numbered code list: suggestions best first, then codes the
        coder added; checked = the coder's decision, else the model's pick."""
        lang = self.languages.get(self.units[segment_id].session_id) or self._project_language
        return code_items(
            self.suggestions(segment_id),
            self.decided.get(segment_id, {}),
            self.code_by_id,
            lang,
            self.threshold,
        )

    def view(self) -> UnitView | None:
        sid = self.current_id
        if sid is None:
            return None
        seg = self.units[sid]
        around = self._by_session[seg.session_id]
        k = self._index_in_session[sid]
        n = self.options.context
        return UnitView(
            segment=seg,
            session_name=self.session_names.get(seg.session_id, str(seg.session_id)),
            position=self.index,
            queue_size=len(self.queue),
            before=[self.units[i] for i in around[max(0, k - n) : k]],
            after=[self.units[i] for i in around[k + 1 : k + 1 + n]],
            items=self.items(sid),
            status=self.status.get(sid),
            memo=self.store.memo(sid, self.coder),
        )

    def progress(self) -> Progress:
        """Units reviewed of the codable units: of the one session when the
        review is limited to it, else of every session."""
        per = [
            (self.session_names.get(s, str(s)), self._reviewed.get(s, 0), total)
            for s, total in self._totals.items()
            if self.options.session in (None, s, self.session_names.get(s))
        ]
        return Progress(sum(r for _, r, _ in per), sum(t for _, _, t in per), per)

    # -- decisions ----------------------------------------------------------

    def _decide(self, segment_id: int, code_id: str, verdict: str) -> None:
        if self.decided.get(segment_id, {}).get(code_id) == verdict:
            return
        self.store.record_decision(Decision(segment_id, code_id, self.coder, verdict))
        self.decided.setdefault(segment_id, {})[code_id] = verdict
        self.n_decisions += 1
        self._maybe_retrain()

    def _mark(self, segment_id: int, status: str) -> None:
        if self.status.get(segment_id) != status:
            self.store.mark_reviewed(segment_id, self.coder, status)
            self._track(segment_id, status)

    def _track(self, segment_id: int, status: str | None) -> None:
        """Keep the review status and the progress counts in memory."""
        before = self.status.pop(segment_id, None)
        if status is not None:
            self.status[segment_id] = status
        if segment_id in self.units:
            session = self.units[segment_id].session_id
            delta = (status == "done") - (before == "done")
            self._reviewed[session] = self._reviewed.get(session, 0) + delta

    def _require(self) -> int:
        sid = self.current_id
        if sid is None:
            raise QualcodeError("no unit selected: the queue is finished")
        if not self.store.is_current(sid):
            raise self._reloaded(sid)
        return sid

    def _reloaded(self, sid: int) -> QueueReloaded:
        """A colleague re-imported or re-segmented the session meanwhile:
        score its new units, read the units again, say so."""
        if self.project is not None:
            from qualcode.suggest import suggest_unscored

            suggest_unscored(self.store, self.project, self.options.session)
        self._load()
        return QueueReloaded(
            f"unit #{sid} was re-cut since this review opened (its session was re-imported "
            "or re-segmented); nothing was written to it, and the review now shows the new "
            f"units: {len(self.queue)} in the queue. Everything you did before is saved"
        )

    @_reloads
    def accept(self) -> str:
        """Apply the list as shown (checked: accepted/added, unchecked
        suggestions: rejected), mark the unit done and move on; returns
        what was saved, in one line."""
        sid = self._require()
        self.store.log_action(self.coder, "accept", sid)
        applied, rejected = [], []
        for item in self.items(sid):
            if item.checked:
                self._decide(sid, item.code_id, "accepted" if item.score is not None else "added")
                applied.append(item.code_id)
            else:
                self._decide(sid, item.code_id, "rejected")
                rejected.append(item.code_id)
        self._mark(sid, "done")
        self.next()
        return f"unit #{sid} done: applied {', '.join(applied) or 'no code'}" + (
            f"; rejected {', '.join(rejected)}" if rejected else ""
        )

    @_reloads
    def reject_all(self) -> str:
        """Reject every code in the list, mark the unit done and move on."""
        sid = self._require()
        self.store.log_action(self.coder, "reject all", sid)
        items = self.items(sid)
        for item in items:
            self._decide(sid, item.code_id, "rejected")
        self._mark(sid, "done")
        self.next()
        return f"unit #{sid} done: no code" + (
            f" (rejected {', '.join(i.code_id for i in items)})" if items else ""
        )

    @_reloads
    def toggle(self, n: int) -> CodeItem:
        """Flip the n-th (1-based) code of the list and store it at once."""
        sid = self._require()
        items = self.items(sid)
        if not 1 <= n <= len(items):
            if not items:
                raise QualcodeError("this unit has no codes to pick; / finds a code to apply")
            raise QualcodeError(f"there is no code {n} on this unit; pick 1-{len(items)}")
        item = items[n - 1]
        self.store.log_action(self.coder, f"toggle {item.code_id}", sid)
        if item.checked:
            self._decide(sid, item.code_id, "rejected")
        else:
            self._decide(sid, item.code_id, "accepted" if item.score is not None else "added")
        return self.items(sid)[n - 1]

    def no_match(self, query: str) -> str:
        """What to say when find matches no code that can be applied: a
        code with sub-codes is applied as one of them."""
        parents = [self.code_by_id[c] for c in self._children if c in self.code_by_id]
        hit = search_codes(parents, query)
        if hit:
            return f"{hit[0].id} has sub-codes; find one of them: " + ", ".join(
                self._leaves_under(hit[0].id)
            )
        return f"No code matches {query!r}"

    def _leaves_under(self, code_id: str) -> list[str]:
        """The codes that can be applied under ``code_id`` (sub-codes of
        sub-codes included)."""
        out: list[str] = []
        for child in self._children.get(code_id, []):
            out.extend(self._leaves_under(child) if child in self._children else [child])
        return out

    @_reloads
    def apply_code(self, code_id: str) -> str:
        """Apply any codebook code (found with ``search_codes``) to the unit,
        or take it off when it is applied (so the codes past 9 in the list
        can be changed too); says which, in a line."""
        sid = self._require()
        if code_id not in self.code_by_id:
            raise QualcodeError(f"unknown code {code_id!r}; search with part of its id or label")
        applied = self.decided.get(sid, {}).get(code_id) in ("accepted", "added")
        if code_id in self._children and not applied:
            raise QualcodeError(
                f"{code_id} has sub-codes; apply one of them: "
                + ", ".join(self._leaves_under(code_id))
            )
        if applied:
            self.store.log_action(self.coder, f"remove {code_id}", sid)
            self._decide(sid, code_id, "rejected")
            return f"{code_id} removed"
        suggested = any(s.code_id == code_id for s in self.suggestions(sid))
        self.store.log_action(self.coder, f"apply {code_id}", sid)
        self._decide(sid, code_id, "accepted" if suggested else "added")
        return f"{code_id} applied"

    @_reloads
    def skip(self) -> str:
        """Leave the unit for later: it comes back after the units not yet
        seen, in this sitting too (skipped again, it stays behind). A unit
        already finished stays finished (its coding keeps counting): skip
        just moves on. Says which, in a line."""
        sid = self._require()
        if self.status.get(sid) == "done":
            self.next()
            return "already reviewed: it stays reviewed (its codes count); moved on"
        self.store.log_action(self.coder, "skip", sid)
        self._mark(sid, "skipped")
        later = "skipped: the unit stays in your queue for later"
        if sid in self._requeued or self.index == len(self.queue) - 1:
            self.next()
            return later
        self._requeued.add(sid)
        self._leave()
        del self.queue[self.index]  # the next unit moves up to this position
        self.queue.append(sid)
        return later

    @_reloads
    def edit_text(self, text: str) -> str:
        """Correct the unit's text (the original is kept in the store); says
        what happened, in a line."""
        sid = self._require()
        # an undo step only for a change: a refused or unchanged edit would
        # leave an "undid edit" that undoes nothing
        if not text.strip():
            raise QualcodeError(f"unit {sid}: the text cannot be empty; press Escape to keep it")
        if text.strip() == self.store.get_segment(sid).text:
            return "text unchanged"
        self.store.log_action(self.coder, "edit", sid)
        self.store.edit_segment_text(sid, self.coder, text)
        self.units[sid] = self.store.get_segment(sid)
        return "text saved (the original is kept)"

    @_reloads
    def set_memo(self, text: str) -> str:
        """Write, change or (empty text) remove the coder's memo on the
        unit; says what happened, in a line."""
        sid = self._require()
        before = self.store.memo(sid, self.coder) or ""
        if text.strip() == before:
            return "memo unchanged"  # and no undo step
        self.store.log_action(self.coder, "memo", sid)
        self.store.set_memo(sid, self.coder, text)
        return "memo saved" if text.strip() else "memo removed"

    def undo(self) -> str:
        """Revert the coder's last action (this session or an earlier one) and
        go back to its unit; returns a one-line description."""
        events = self.store.undo_last(self.coder)
        if not events:
            return "nothing to undo"
        touched = {e.segment_id for e in events if e.segment_id is not None}
        for sid in touched:
            # the list keeps its order, so the numbers 1-9 stay where they were
            was, now = self.decided.get(sid, {}), self.store.coder_codes_for(sid, self.coder)
            self.decided[sid] = {c: now[c] for c in was if c in now} | now
            self._track(sid, self.store.review_statuses_for(sid, self.coder))
            if sid in self.units:
                self.units[sid] = self.store.get_segment(sid)
        target = events[0].segment_id
        if target is not None and target in self.units and self.units[target].codable:
            # back where the coder is: a skip undone (the unit had moved to
            # the end), or a unit of an earlier sitting this queue left out
            if target in self.queue and self.queue.index(target) > self.index:
                self._requeued.discard(target)
                self.queue.remove(target)
            if target not in self.queue:
                self.queue.insert(min(self.index, len(self.queue)), target)
            self.go_to(target)
        name = events[0].payload.get("name", events[0].kind)
        n = len(touched)
        where = f"on unit #{target}" if target is not None else f"on {n} unit{'s' * (n != 1)}"
        kept = [
            e.segment_id
            for e in events
            if e.kind == "edit"
            and (seg := self.units.get(e.segment_id or 0)) is not None
            and seg.text != e.payload.get("before")
        ]
        if kept:
            return (
                f"undid {name} {where}; the text of unit #{kept[0]} stays as another coder "
                "corrected it since your edit"
            )
        return f"undid {name} {where}"

    # -- audio ----------------------------------------------------------------

    def playback(self) -> tuple[bool, str]:
        """(available, why) for the current unit."""
        from qualcode.playback import availability

        sid = self.current_id
        if sid is None:
            return False, "no unit selected"
        seg = self.units[sid]
        return availability(self.media.get(seg.session_id), seg.start)

    def play(self) -> str:
        """Play the current unit's stretch of the recording in the background."""
        from qualcode.playback import play_clip

        ok, why = self.playback()
        if not ok:
            return f"playback not available: {why}"
        seg = self.units[self._require()]
        return play_clip(self.media.get(seg.session_id) or "", seg.start or 0.0, seg.end)

    # -- background retraining ---------------------------------------------

    def _setting(self, name: str) -> Any:
        """``threshold`` or ``retrain_every``: the option given, else the
        project's ``suggest:`` setting (no project: never retrain)."""
        from qualcode.suggest.workflow import project_options

        given = getattr(self.options, name)
        if given is not None:
            return given
        if self.project is None and name == "retrain_every":
            return 0
        return getattr(project_options(self.project), name)

    def _maybe_retrain(self) -> None:
        upcoming = self.queue[self.index + 1 : self.index + 51]
        self.retrainer.after_decision(self.n_decisions, upcoming, self._forget_suggestions)

    def _forget_suggestions(self, segment_ids: list[int]) -> None:
        """New scores are stored for these units: read them when shown next.
        The unit on screen keeps the list the coder is looking at (its keys
        1-9 and "accept as shown" act on it) until the coder moves on."""
        with self._lock:
            for sid in segment_ids:
                if sid == self.current_id and sid in self._suggestions:
                    self._stale.add(sid)
                else:
                    self._suggestions.pop(sid, None)

    def _leave(self) -> None:
        with self._lock:
            sid = self.current_id
            if sid in self._stale:
                self._stale.discard(sid)
                self._suggestions.pop(sid, None)

    @property
    def retrains(self) -> int:
        """Background retrainings finished; front ends say ``retrain_message``
        when it moves."""
        return self.retrainer.count

    @property
    def retrain_message(self) -> str:
        return self.retrainer.message

    def wait_for_retraining(self, timeout: float | None = None) -> None:
        self.retrainer.wait(timeout)


def default_options(project: Project, **kw: Any) -> ReviewOptions:
    coder = kw.pop("coder", None) or project.default_coder()
    return ReviewOptions(coder=coder, **kw)
