"""The --plain review loop driven through its prompts."""

from __future__ import annotations

import io

from rich.console import Console

from qualcode.plain_review import run_plain
from qualcode.review import ReviewOptions, ReviewSession


def drive(p, lines: list[str]) -> tuple[ReviewSession, str, list[str]]:
    rs = ReviewSession(p.store, p, ReviewOptions("anna", order="chronological", retrain_every=0))
    feed = iter(lines)
    prompts: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    run_plain(rs, read=read, console=Console(file=out, width=200, highlight=False))
    return rs, out.getvalue(), prompts


def test_plain_accept_toggle_find_edit_memo_undo(proj):
    units = [s.id for s in proj.store.segments(codable_only=True)]
    rs, out, prompts = drive(
        proj,
        [
            "?",  # help
            "a",  # accept unit 1
            "/ vapaaehtois",  # one match: applied at once
            "memo",
            "soita Ainolle",
            "e",
            "Korjattu.",
            "skip",
            "x",
            "u",  # undo the reject-all
            "q",
        ],
    )
    assert "accept the codes as shown" in out
    assert f"UNIT #{units[0]}" in out and "Reviewed 0 of" in out
    assert "volunteers applied." in out
    assert rs.decided[units[1]]["volunteers"] in ("accepted", "added")
    assert proj.store.memo(units[1], "anna") == "soita Ainolle"
    seg = proj.store.get_segment(units[1])
    assert seg.text == "Korjattu." and seg.original_text
    assert proj.store.review_statuses("anna") == {units[0]: "done", units[1]: "skipped"}
    assert "undid reject all" in out
    assert rs.current_id == units[2]
    assert prompts[-1].startswith("Key (a accept")


def test_plain_toggle_unknown_key_and_end_of_input(proj):
    rs, out, _ = drive(proj, ["n" for _ in range(0)] + ["1", "zz"])
    items_before = out.split("UNIT #", 1)[1]
    assert "Unknown key 'zz'" in out
    if rs.view().items:
        assert "applied." in out or "rejected." in out
    else:
        assert "this unit has no codes to pick" in out
    assert "Audio playback is not available" in out
    assert items_before  # the unit was shown


def test_input_that_is_not_utf8_is_kept_readable_not_a_crash(proj):
    """A terminal in another encoding: Python hands over the undecodable
    bytes as lone surrogates, which no database can store."""
    rs, out, _ = drive(proj, ["m", "\udcff\udcfe huono merkki", "q"])
    sid = rs.current_id
    assert proj.store.memo(sid, "anna") == "\ufffd\ufffd huono merkki"


def test_plain_says_when_the_model_retrained_and_when_a_unit_is_skipped(proj):
    """The model retrains in a background thread: the next prompt says so
    (as the full-screen UI does), and a failure is said once."""
    rs = ReviewSession(proj.store, proj, ReviewOptions("anna", order="chronological"))
    lines = iter(["a", "s", "n", "n", "q"])
    out = io.StringIO()

    def read(prompt: str) -> str:
        line = next(lines)
        if line == "s":  # what the worker thread does when it finishes
            rs.retrainer.count += 1
            rs.retrainer.message = "model retrained on 12 decisions (v3); next 50 units updated"
        if line == "n":
            rs.retrainer.message = "background retraining failed: disk full"
        return line

    run_plain(rs, read=read, console=Console(file=out, width=200, highlight=False))
    text = out.getvalue()
    assert text.count("model retrained on 12 decisions (v3); next 50 units updated.") == 1
    assert text.count("background retraining failed: disk full") == 1
    assert "Skipped: the unit stays in your queue for later." in text


def test_ctrl_d_at_a_find_or_edit_prompt_ends_the_review_cleanly(proj):
    for lines in (["/"], ["e"], ["m"]):
        rs, out, prompts = drive(proj, lines)  # the feed ends: EOFError at the next prompt
        assert "Error" not in out and len(prompts) == 2


def test_a_unit_re_cut_by_a_colleague_shows_the_new_units(proj, tmp_path):
    from pathlib import Path

    from qualcode.importer import import_files

    rs = ReviewSession(
        proj.store,
        proj,
        ReviewOptions("anna", session="emessi-fi-session1", order="chronological", retrain_every=0),
    )
    old = rs.units[rs.current_id].text
    source = Path(__file__).parent / "data" / "review" / "emessi-fi-session1.txt"
    corrected = tmp_path / "emessi-fi-session1.txt"
    corrected.write_text(
        source.read_text(encoding="utf-8").replace(old, "Hyvää huomenta."), "utf-8"
    )
    lines = iter(["a", "q"])

    def read(prompt: str) -> str:
        if (
            prompt.startswith("Key")
            and rs.current_id is not None
            and rs.units[rs.current_id].text == old
        ):
            # a colleague's import --force lands while anna looks at the unit
            list(import_files(proj, [corrected], session="emessi-fi-session1", force=True))
        return next(lines)

    out = io.StringIO()
    run_plain(rs, read=read, console=Console(file=out, width=200, highlight=False))
    text = out.getvalue()
    said = text.index("was re-cut since this review opened")
    assert "Error" not in text
    assert "Hyvää huomenta." in text[said:]  # the new unit is shown at once
