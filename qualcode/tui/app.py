"""``ReviewApp``: the Textual application around one ``ReviewSession``."""

from __future__ import annotations

from textual.app import App

from qualcode.review import ReviewSession
from qualcode.tui.screens import ReviewScreen, TextScreen


class ReviewApp(App):
    """Full-screen review of one coder's queue."""

    CSS_PATH = "review.tcss"
    TITLE = "qualcode review"
    # the command palette would steal ctrl+p and confuse first-time coders
    ENABLE_COMMAND_PALETTE = False

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session

    def on_mount(self) -> None:
        self.push_screen(ReviewScreen(self.session))

    async def action_quit(self) -> None:
        # Ctrl+Q is an app-wide priority key that even an open edit/memo dialog
        # cannot take: ask the dialog first so typed text is not lost silently
        if isinstance(self.screen, TextScreen) and self.screen.holds_quit():
            return
        self.exit()
