"""``qualcode review --plain``: the review loop as line prompts.

For screen readers and terminals where a full-screen UI does not work. The
same keys as the Textual app, typed as a line and Enter (whole words work
too: ``accept``, ``next``, ``undo`` ...). Output is plain lines, read top to
bottom: unit, codes, then the prompt.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from qualcode.errors import QualcodeError
from qualcode.review import QueueReloaded, ReviewSession
from qualcode.review_views import KEYS, search_codes
from qualcode.transcript import format_time

WORDS = {
    "accept": "a",
    "reject": "x",
    "find": "/",
    "search": "/",
    "next": "n",
    "prev": "p",
    "previous": "p",
    "edit": "e",
    "memo": "m",
    "undo": "u",
    "skip": "s",
    "play": " ",
    "space": " ",
    "help": "?",
    "quit": "q",
    "exit": "q",
}


def _seg_line(seg) -> str:
    when = f"{format_time(seg.start)} " if seg.start is not None else ""
    return f"{when}{seg.speaker or '?'}: {seg.text}"


def show_unit(session: ReviewSession, console: Console) -> None:
    progress = session.progress()
    view = session.view()
    if view is None:
        only = session.options.session
        where = f"in {escape(str(only))}." if only else "overall."
        console.print(
            f"{session.end_message()} Reviewed {progress.reviewed} of {progress.total} {where}"
        )
        return
    seg = view.segment
    state = {"done": "reviewed", "skipped": "skipped"}.get(view.status or "", "not reviewed")
    console.print(
        f"Unit {view.position + 1} of {view.queue_size}, {state}. "
        f"Reviewed {progress.reviewed} of {progress.total}. Session {escape(view.session_name)}."
    )
    for u in view.before:
        console.print(f"  before: {escape(_seg_line(u))}", style="dim")
    console.print(f"UNIT #{seg.id}: {escape(_seg_line(seg))}", style="bold")
    for u in view.after:
        console.print(f"  after: {escape(_seg_line(u))}", style="dim")
    if not view.items:
        console.print(
            "No suggested codes. / finds a code to apply; x marks the unit as having none."
        )
    for n, item in enumerate(view.items, 1):
        mark = "checked" if item.checked else "not checked"
        score = f"score {item.score:.2f}" if item.score is not None else "added by you"
        console.print(
            f"  {n}: {escape(item.label)} ({item.code_id}), {score}, {mark}. "
            f"Why: {escape(item.rationale)}"
        )
    if view.memo:
        console.print(f"  Memo: {escape(view.memo)}")


def show_help(console: Console) -> None:
    console.print("Keys (type the key or the word, then Enter):")
    for key, what in KEYS:
        console.print(f"  {key}: {what}")
    console.print(
        "  Words work too: accept, reject, find, next, prev, edit, memo, undo, skip, play."
    )


def run_plain(
    session: ReviewSession,
    read: Callable[[str], str] | None = None,
    console: Console | None = None,
) -> None:
    """Run the loop until ``q`` or end of input. ``read`` takes a prompt and
    returns a line (default: rich's ``Console.input``)."""
    console = console or Console(highlight=False)
    read_line = read or (lambda prompt: console.input(prompt))

    def ask(prompt: str) -> str:
        # a terminal in another encoding sends bytes Python keeps as lone
        # surrogates, which no store can write: the bytes become U+FFFD
        line = read_line(prompt)
        return line.encode("utf-8", "surrogateescape").decode("utf-8", "replace")

    console.print(f"Reviewing as {session.coder}. Type ? and Enter for the keys.")
    ok, why = session.playback()
    if not ok:
        console.print(f"Audio playback is not available: {why}.")
    show = True
    retrains, failure = session.retrains, ""
    while True:
        # the model retrains in the background: say so when it finishes
        if session.retrains != retrains:
            retrains = session.retrains
            console.print(escape(session.retrain_message) + ".")
        elif session.retrain_message.startswith("background") and failure != (
            failure := session.retrain_message
        ):
            console.print(escape(failure))
        if show:
            show_unit(session, console)
        show = True
        try:
            line = ask("Key (a accept, x reject, 1-9 toggle, / find, n next, ? help, q quit): ")
        except EOFError:
            break
        raw = line.strip()
        cmd, _, rest = raw.partition(" ")
        if raw.startswith("/"):
            cmd, rest = "/", raw[1:].strip()
        cmd = WORDS.get(cmd.lower(), cmd.lower()) if cmd else (" " if line == " " else "")
        try:
            if cmd == "q":
                break
            elif cmd == "":
                continue
            elif cmd == "?":
                show_help(console)
                show = False
            elif cmd == "a":
                console.print(escape(session.accept()) + ".")
            elif cmd == "x":
                console.print(escape(session.reject_all()) + ".")
            elif cmd.isdigit():
                item = session.toggle(int(cmd))
                state = "applied" if item.checked else "rejected"
                console.print(f"{item.code_id} {state}.")
            elif cmd == "/":
                _find(session, console, ask, rest)
            elif cmd in ("n", "right", "down"):
                session.next()
            elif cmd in ("p", "left", "up"):
                session.previous()
            elif cmd == "e":
                view = session.view()
                if view is not None:
                    console.print(f"Current text: {escape(view.segment.text)}")
                    text = ask("New text (Enter keeps it): ")
                    if text.strip():
                        console.print(escape(session.edit_text(text)).capitalize() + ".")
            elif cmd == "m":
                view = session.view()
                if view is not None:
                    if view.memo:
                        console.print(f"Current memo: {escape(view.memo)}")
                    text = ask("Memo (Enter keeps it, - removes it): ")
                    if text.strip():
                        said = session.set_memo("" if text.strip() == "-" else text)
                        console.print(said.capitalize() + ".")
            elif cmd == "u":
                console.print(session.undo())
            elif cmd == "s":
                console.print(session.skip().capitalize() + ".")
            elif cmd == " ":
                console.print(session.play())
            else:
                console.print(f"Unknown key {raw!r}. Type ? and Enter for the keys.")
                show = False
        except QueueReloaded as e:
            console.print(escape(str(e)) + ".")  # and the unit now current is shown
        except QualcodeError as e:
            console.print(f"Error: {escape(str(e))}")
            show = False
        except EOFError:
            break  # Ctrl-D at a find, edit or memo prompt ends the review as at the key prompt
    session.wait_for_retraining(timeout=0)


def _find(session: ReviewSession, console: Console, ask: Callable[[str], str], query: str) -> None:
    if session.finished:
        console.print("No unit selected: type p to go back.")
        return
    if not query:
        query = ask("Find code (part of its id or label, fi or en): ").strip()
        if not query:
            return
    matches = search_codes(session.codes, query)
    if not matches:
        console.print(escape(session.no_match(query)) + ".")
        return
    if len(matches) > 1:
        for n, c in enumerate(matches, 1):
            labels = " / ".join(c.labels.values()) or c.label
            console.print(f"  {n}: {c.id} ({escape(labels)})")
        pick = ask("Number to apply (Enter cancels): ").strip()
        if not pick.isdigit() or not 1 <= int(pick) <= len(matches):
            console.print("Nothing applied.")
            return
        matches = [matches[int(pick) - 1]]
    console.print(escape(session.apply_code(matches[0].id)) + ".")
