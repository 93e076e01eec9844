"""The Textual review app driven with pilot key presses on a real project."""

from __future__ import annotations

import asyncio
import html
import os
import re
from pathlib import Path

import pytest

from qualcode.review import ReviewOptions, ReviewSession
from qualcode.tui.app import ReviewApp

SNAPSHOT = Path(__file__).parent / "data" / "review" / "main-screen.svg"
SIZE = (110, 40)


def make_app(p) -> ReviewApp:
    rs = ReviewSession(p.store, p, ReviewOptions("anna", order="chronological", retrain_every=0))
    return ReviewApp(rs)


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def test_accept_toggle_search_and_undo(proj):
    asyncio.run(_accept_toggle_search_and_undo(proj))


async def _accept_toggle_search_and_undo(proj):
    app = make_app(proj)
    rs = app.session
    async with app.run_test(size=SIZE) as pilot:
        first = rs.current_id
        assert proj.store.get_segment(first).text[:30] in text_of(app, "#unit")
        assert "reviewed 0/" in text_of(app, "#status")
        assert "no recording" in text_of(app, "#message")  # playback explained
        await pilot.press("a")
        assert rs.current_id != first
        assert proj.store.review_statuses("anna") == {first: "done"}
        assert "reviewed 1/" in text_of(app, "#status")
        # find a unit with a suggestion and toggle it
        while not rs.view().items:
            await pilot.press("n")
        sid = rs.current_id
        was = rs.view().items[0].checked
        await pilot.press("1")
        (d,) = proj.store.decisions(coder="anna", segment_id=sid)
        assert d.verdict == ("rejected" if was else "accepted")
        assert ("[x]" if not was else "[ ]") in text_of(app, "#codes").splitlines()[0]
        # search by a Finnish label without accents and apply
        await pilot.press("slash", *"tyon jak", "enter")
        await pilot.pause()
        assert rs.decided[sid]["work_sharing"] in ("accepted", "added")
        assert "work_sharing" in text_of(app, "#codes")
        await pilot.press("u")
        assert "work_sharing" not in rs.decided.get(sid, {})
        assert "undid apply work_sharing" in text_of(app, "#message")
        await pilot.press("question_mark")
        assert "accept the codes as shown" in str(app.screen.query_one("Static").render())
        await pilot.press("escape", "q")
    assert not app.is_running


def test_edit_memo_quit_and_resume(proj):
    asyncio.run(_edit_memo_quit_and_resume(proj))


async def _edit_memo_quit_and_resume(proj):
    app = make_app(proj)
    async with app.run_test(size=SIZE) as pilot:
        sid = app.session.current_id
        original = proj.store.get_segment(sid).text
        await pilot.press("e")
        await pilot.pause()
        area = app.screen.query_one("#text")
        area.text = "Korjattu lause."
        await pilot.press("ctrl+s")
        await pilot.pause()
        seg = proj.store.get_segment(sid)
        assert seg.text == "Korjattu lause." and seg.original_text == original
        assert "Korjattu lause." in text_of(app, "#unit")
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#text").text = "tarkista nauhalta"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert proj.store.memo(sid, "anna") == "tarkista nauhalta"
        assert "tarkista nauhalta" in text_of(app, "#memo")
        await pilot.press("a", "a", "s", "q")
    done = proj.store.review_statuses("anna")
    assert sorted(done.values()) == ["done", "done", "skipped"]
    # reopening resumes at the first unit never reviewed
    again = make_app(proj)
    async with again.run_test(size=SIZE):
        assert again.session.current_id not in done
        assert "reviewed 2/" in text_of(again, "#status")


def test_blank_edit_shows_the_refusal(proj):
    asyncio.run(_blank_edit_shows_the_refusal(proj))


async def _blank_edit_shows_the_refusal(proj):
    app = make_app(proj)
    async with app.run_test(size=SIZE) as pilot:
        sid = app.session.current_id
        original = proj.store.get_segment(sid).text
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#text").text = "   "
        await pilot.press("ctrl+s")
        await pilot.pause()
        message = app.screen.query_one("#message")
        assert "cannot be empty" in text_of(app, "#message")
        assert "saved" not in text_of(app, "#message")
        assert message.has_class("error")
        assert proj.store.get_segment(sid).text == original


def test_empty_find_applies_nothing(proj):
    asyncio.run(_empty_find_applies_nothing(proj))


async def _empty_find_applies_nothing(proj):
    app = make_app(proj)
    async with app.run_test(size=SIZE) as pilot:
        sid = app.session.current_id
        await pilot.press("slash", "enter")
        await pilot.pause()
        assert proj.store.decisions(coder="anna", segment_id=sid) == []
        assert not app.session.decided.get(sid)
        assert "Nothing applied" in text_of(app, "#message")


def test_ctrl_q_with_unsaved_memo_warns_first(proj):
    asyncio.run(_ctrl_q_with_unsaved_memo_warns_first(proj))


async def _ctrl_q_with_unsaved_memo_warns_first(proj):
    from qualcode.tui.screens import TextScreen

    app = make_app(proj)
    async with app.run_test(size=SIZE) as pilot:
        sid = app.session.current_id
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#text").text = "pitkä muistiinpano"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, TextScreen)
        assert "Ctrl+Q again quits" in text_of(app, "#hint")
        assert app.screen.query_one("#text").text == "pitkä muistiinpano"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert not app.is_running
    assert proj.store.memo(sid, "anna") is None  # quitting saves nothing


def normalise(svg: str) -> str:
    # Textual numbers its CSS classes and clip paths per export
    svg = re.sub(r"terminal-\d+", "terminal", svg)
    return re.sub(r"\s+", " ", svg)


def test_main_screen_snapshot(proj):
    asyncio.run(_main_screen_snapshot(proj))


async def _main_screen_snapshot(proj):
    from qualcode.models import Suggestion

    # fixed suggestions on the first unit: the snapshot tests the screen,
    # not the suggestion engine's current scores
    first = proj.store.segments(codable_only=True)[0].id
    proj.store.replace_suggestions(
        [
            Suggestion(first, "prioritisation", 0.81, "keyword: kiire", "snapshot"),
            Suggestion(first, "support", 0.35, "like: “Kukaan ei kysy, miten menee”", "snapshot"),
        ],
        [first],
    )
    app = make_app(proj)
    async with app.run_test(size=SIZE) as pilot:
        # settle before the picture: on a busy machine (a full test run) one
        # pause once caught the screen before its styles were final
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = app.export_screenshot(title="qualcode review")
    if os.environ.get("QUALCODE_UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(svg, encoding="utf-8")
        pytest.fail(f"wrote {SNAPSHOT}; check it and run again")
    assert normalise(svg) == normalise(SNAPSHOT.read_text(encoding="utf-8"))


def test_a_unit_re_cut_by_a_colleague_is_replaced_on_screen(proj, tmp_path):
    asyncio.run(_re_cut_on_screen(proj, tmp_path))


async def _re_cut_on_screen(proj, tmp_path):
    from qualcode.importer import import_files

    rs = ReviewSession(
        proj.store,
        proj,
        ReviewOptions("anna", session="emessi-fi-session1", order="chronological", retrain_every=0),
    )
    app = ReviewApp(rs)
    old = rs.units[rs.current_id].text
    source = Path(__file__).parent / "data" / "review" / "emessi-fi-session1.txt"
    corrected = tmp_path / "emessi-fi-session1.txt"
    corrected.write_text(
        source.read_text(encoding="utf-8").replace(old, "Hyvää huomenta."), "utf-8"
    )
    async with app.run_test(size=SIZE) as pilot:
        assert old[:30] in text_of(app, "#unit")
        list(import_files(proj, [corrected], session="emessi-fi-session1", force=True))
        await pilot.press("a")
        await pilot.pause()
        assert "was re-cut since this review opened" in text_of(app, "#message")
        assert "Hyvää huomenta." in text_of(app, "#unit")
        assert proj.store.review_statuses("anna") == {}


def test_names_are_not_markup_and_arrows_move_on_long_units(proj):
    asyncio.run(_names_and_arrows(proj))


async def _names_and_arrows(proj):
    sid = proj.store.segments(codable_only=True)[0].session_id  # the first unit's
    proj.store.db.execute("UPDATE sessions SET name = 'ryhmä [/b] loppu' WHERE id = ?", (sid,))
    app = make_app(proj)
    rs = app.session
    async with app.run_test(size=(60, 14)) as pilot:  # every unit taller than the pane
        first = rs.current_id
        await pilot.press("down")
        assert rs.current_id != first
        await pilot.press("up")
        assert rs.current_id == first

        shown = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "ryhmä [/b] loppu" in shown  # as written, not read as markup
        for _ in range(len(rs.queue)):
            await pilot.press("n")
        assert rs.finished and app.screen.query_one("#unit").border_title is None
