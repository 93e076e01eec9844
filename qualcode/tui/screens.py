"""The screens of the review UI: the main review screen and small dialogs
(code search, text edit/memo, help). They only call ``ReviewSession``;
every rule about what a key writes lives in ``qualcode.review``."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.markup import escape
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from qualcode.errors import QualcodeError
from qualcode.review import QueueReloaded, ReviewSession
from qualcode.review_views import KEYS, UnitView, code_label, search_codes
from qualcode.transcript import format_time

BAR = 10


def _when(seg) -> str:
    # imported plain-text transcripts have no times: show nothing, not "--:--"
    return f"{format_time(seg.start)} " if seg.start is not None else ""


def _line(seg) -> Text:
    return Text(
        f"  {_when(seg)}{seg.speaker or '?'}: {seg.text}", no_wrap=True, overflow="ellipsis"
    )


def _lines(segs, empty: str) -> Text:
    if not segs:
        return Text(empty)
    out = Text("\n").join(_line(u) for u in segs)
    out.no_wrap, out.overflow = True, "ellipsis"
    return out


def score_bar(score: float | None) -> str:
    if score is None:
        return "added".ljust(BAR)
    full = round(max(0.0, min(1.0, score)) * BAR)
    return "█" * full + "░" * (BAR - full)


def render_codes(view: UnitView) -> Text:
    out = Text()
    if not view.items:
        out.append("No suggestions for this unit. Press / to find and apply a code, ")
        out.append("x to mark it as having none.")
        return out
    for n, item in enumerate(view.items, 1):
        mark = "[x]" if item.checked else "[ ]"
        score = f"{item.score:.2f}" if item.score is not None else "    "
        style = "bold" if item.checked else ""
        out.append(f"{n} {mark} ", style=style)
        out.append(f"{score_bar(item.score)} {score} ", style="cyan")
        out.append(f"{item.label} ({item.code_id})", style=style)
        if item.verdict:
            out.append(f"  - you: {item.verdict}", style="green" if item.checked else "red")
        out.append("\n")
        if item.rationale:
            out.append(f"      why: {item.rationale}\n", style="dim")
    out.rstrip()
    return out


class ReviewScreen(Screen):
    """One unit at a time, its context, its codes and the keys."""

    BINDINGS = [
        # help and quit first: the footer cuts what does not fit on narrow terminals
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
        Binding("a", "accept", "accept"),
        Binding("x", "reject", "reject"),
        Binding("1", "toggle_code(1)", "toggle 1-9"),
        *[Binding(str(n), f"toggle_code({n})", show=False) for n in range(2, 10)],
        Binding("slash", "search", "find"),
        Binding("n", "next", "next"),
        Binding("p", "previous", "prev"),
        # priority: the scrolling pane would take them when the unit is long
        Binding("right,down", "next", show=False, priority=True),
        Binding("left,up", "previous", show=False, priority=True),
        Binding("e", "edit", "edit"),
        Binding("m", "memo", "memo"),
        Binding("u", "undo", "undo"),
        Binding("s", "skip", "skip"),
        Binding("space", "play", "play"),
    ]

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self._retrains = 0

    def compose(self) -> ComposeResult:
        yield Static(id="status")
        with VerticalScroll(id="pane"):
            yield Static(id="before", classes="context")
            yield Static(id="unit")
            yield Static(id="after", classes="context")
            yield Static(id="codes")
            yield Static(id="memo")
        # outside the scrolling pane: a refusal or a confirmation is always seen
        yield Static(id="message")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.refresh_view()
        ok, why = self.session.playback()
        self.say("" if ok else f"Audio: not available: {why}.")
        self.set_interval(0.5, self._check_retraining)

    def _check_retraining(self) -> None:
        if self.session.retrains != self._retrains:
            self._retrains = self.session.retrains
            self.refresh_view()
            self.say(self.session.retrain_message)
        elif self.session.retrain_message.startswith("background retraining failed"):
            self.say(self.session.retrain_message, error=True)

    def say(self, message: str, *, error: bool = False) -> None:
        widget = self.query_one("#message", Static)
        widget.update(Text(message))
        widget.set_class(error, "error")

    def refresh_view(self) -> None:
        s = self.session
        progress = s.progress()
        view = s.view()
        status = Text(no_wrap=True, overflow="ellipsis")
        status.append(f"Coder {s.coder}", style="bold")
        status.append(f" · reviewed {progress.reviewed}/{progress.total}")
        here = view.session_name if view is not None else None
        per = [
            f"{name} {done}/{total}"
            for name, done, total in progress.per_session
            # many sessions would fill the screen: then only the unit's own
            if len(progress.per_session) <= 3 or name == here
        ]
        if per:
            status.append(f" ({', '.join(per)})")
        if view is None:
            n = len(s.queue)
            status.append(f" · end of queue ({n} unit{'s' * (n != 1)})")
            self.query_one("#status", Static).update(status)
            self.query_one("#before", Static).update("")
            self.query_one("#after", Static).update("")
            self.query_one("#codes", Static).update("")
            self.query_one("#memo", Static).update("")
            codes = self.query_one("#codes", Static)
            codes.border_title = None
            unit = self.query_one("#unit", Static)
            unit.border_title = unit.border_subtitle = None
            unit.update(
                Text(s.end_message() + " `qualcode review --all` shows reviewed units again.")
            )
            return
        status.append(f" · unit {view.position + 1} of {view.queue_size} in this queue")
        self.query_one("#status", Static).update(status)
        self.query_one("#before", Static).update(_lines(view.before, "  (start of session)"))
        self.query_one("#after", Static).update(_lines(view.after, "  (end of session)"))
        seg = view.segment
        unit = self.query_one("#unit", Static)
        state = {"done": "reviewed", "skipped": "skipped"}.get(view.status or "", "not reviewed")
        parts = [seg.speaker or "?", _when(seg).strip(), view.session_name, f"#{seg.id}"]
        # names are shown as written: "[b]" in a session name is not markup
        unit.border_title = escape(" · ".join(x for x in parts if x))
        unit.border_subtitle = state + (" · text edited" if seg.original_text else "")
        unit.update(Text(seg.text))
        codes = self.query_one("#codes", Static)
        codes.border_title = "Codes (1-9 toggle, a accept as shown, x reject all, / find)"
        codes.update(render_codes(view))
        self.query_one("#memo", Static).update(Text(f"Memo: {view.memo}") if view.memo else "")

    def _run(self, fn, *args, done: str = "") -> bool:
        """Call the session; show its error, or ``done`` (or what it returned)
        on success. Returns whether it succeeded, so that callers never show a
        success message over a refusal."""
        try:
            result = fn(*args)
        except QualcodeError as e:
            if isinstance(e, QueueReloaded):
                self.refresh_view()  # the unit it was about is gone
            self.say(str(e), error=True)
            return False
        self.refresh_view()
        if isinstance(result, str):
            ended = " End of the queue." if self.session.finished else ""
            self.say(result + ended)
        elif done:
            self.say(done)
        elif self.session.finished:
            self.say("End of the queue.")
        else:
            self.say("")
        return True

    def action_accept(self) -> None:
        self._run(self.session.accept)

    def action_reject(self) -> None:
        self._run(self.session.reject_all)

    def action_toggle_code(self, n: int) -> None:
        self._run(self.session.toggle, n)

    def action_next(self) -> None:
        self._run(self.session.next)

    def action_previous(self) -> None:
        self._run(self.session.previous)

    def action_skip(self) -> None:
        self._run(self.session.skip)

    def action_undo(self) -> None:
        self._run(self.session.undo)

    def action_play(self) -> None:
        self._run(self.session.play)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()

    def action_search(self) -> None:
        if self.session.finished:
            self.say("No unit selected: press p to go back.", error=True)
            return
        lang = None
        view = self.session.view()
        if view is not None:
            lang = self.session.languages.get(view.segment.session_id)

        def done(code_id: str | None) -> None:
            if code_id:
                self._run(self.session.apply_code, code_id)
            else:
                self.say("Nothing applied.")

        self.app.push_screen(
            CodeSearchScreen(self.session.codes, lang, self.session.no_match), done
        )

    def action_edit(self) -> None:
        view = self.session.view()
        if view is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                self._run(self.session.edit_text, text)

        title = "Edit the unit's text"
        self.app.push_screen(TextScreen(title, view.segment.text), done)

    def action_memo(self) -> None:
        view = self.session.view()
        if view is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                self._run(self.session.set_memo, text)

        self.app.push_screen(TextScreen("Memo on this unit", view.memo or ""), done)


class CodeSearchScreen(ModalScreen[str | None]):
    """Type part of a code's id or label; Enter applies the highlighted one."""

    BINDINGS = [
        Binding("escape", "cancel", "cancel"),
        Binding("down", "down", show=False),
        Binding("up", "up", show=False),
    ]

    def __init__(self, codes, lang: str | None = None, no_match=None) -> None:
        super().__init__()
        self.codes = codes
        self.lang = lang
        # what to say when nothing matches (a code with sub-codes, say)
        self.no_match = no_match

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Find a code: type part of its id or label (fi or en)")
            yield Input(placeholder="e.g. vapaaeh, funding, tuki", id="query")
            yield OptionList(id="matches")
            yield Static("Enter apply · ↑↓ choose · Escape cancel", classes="hint")

    def on_mount(self) -> None:
        self._fill("")

    def _fill(self, query: str) -> None:
        matches = self.query_one("#matches", OptionList)
        matches.clear_options()
        for c in search_codes(self.codes, query):
            other = " / ".join(v for k, v in sorted(c.labels.items()) if v != code_label(c))
            label = f"{c.id}: {code_label(c, self.lang)}" + (f" ({other})" if other else "")
            matches.add_option(Option(Text(label), id=c.id))
        if matches.option_count:
            matches.highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        # an empty query lists every code: Enter would apply the first one by
        # accident, so it cancels, as an empty find does in the plain mode
        if not event.value.strip():
            self.dismiss(None)
            return
        matches = self.query_one("#matches", OptionList)
        if matches.highlighted is None:
            said = self.no_match(event.value) if self.no_match else "No code matches"
            self.notify(f"{said}; change the text or press Escape", severity="warning")
            return
        self.dismiss(matches.get_option_at_index(matches.highlighted).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_down(self) -> None:
        self.query_one("#matches", OptionList).action_cursor_down()

    def action_up(self) -> None:
        self.query_one("#matches", OptionList).action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[str | None]):
    """Edit a piece of text (the unit's text or a memo)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "save"),
        Binding("escape", "cancel", "cancel"),
    ]

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self._warned = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text)
            yield TextArea(self.text, id="text")
            yield Static("Ctrl+S save · Escape cancel", id="hint", classes="hint")

    def on_mount(self) -> None:
        # typing starts at the end: most fixes append or change the last words
        area = self.query_one("#text", TextArea)
        area.move_cursor(area.document.end)
        area.focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one("#text", TextArea).text)

    def holds_quit(self) -> bool:
        """Whether Ctrl+Q should wait: the first press with unsaved text warns
        (a long memo is lost otherwise); a second press quits."""
        if self._warned or self.query_one("#text", TextArea).text == self.text:
            return False
        self._warned = True
        hint = self.query_one("#hint", Static)
        hint.update("Unsaved text: Ctrl+S save · Escape cancel · Ctrl+Q again quits without saving")
        hint.add_class("warning")
        return True

    def action_cancel(self) -> None:
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape,q,question_mark", "close", "close"),
    ]

    def compose(self) -> ComposeResult:
        text = Text("Keys\n\n", style="bold")
        for key, what in KEYS:
            text.append(f"{key:>7}  ", style="bold cyan")
            text.append(f"{what}\n")
        text.append(
            "\nEvery decision is saved the moment you make it. Other coders' "
            "decisions are never shown.\nEscape closes this help.",
        )
        with VerticalScroll(classes="dialog"):
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)
