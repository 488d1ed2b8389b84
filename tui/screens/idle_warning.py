"""The kiosk's last seconds before an idle session is cleared: a countdown, and any key or
click keeps the session. The key that keeps it does nothing else, so a key pressed only to
wake the kiosk cannot tick, pay or sign out on the screen underneath."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static

from billing.plurals import plural
from tui.screens import PaydeskModal


class IdleWarningScreen(PaydeskModal):
    CSS_PATH = "idle_warning.tcss"
    HELP = "Press any key or click to keep this session; otherwise it is cleared."

    seconds_left: reactive[int] = reactive(15)

    def __init__(self, seconds_left: int) -> None:
        super().__init__()
        self.set_reactive(IdleWarningScreen.seconds_left, seconds_left)

    def compose(self) -> ComposeResult:
        with Vertical(id="idle-warning-box"):
            yield Static("Are you still there?", id="idle-warning-heading")
            yield Static(self._countdown(), id="idle-warning-countdown")
            yield Static("Press any key to keep this session.", id="idle-warning-keep")

    def _countdown(self) -> Text:
        locale = self.app.firm.locale if self.app.firm is not None else "en_US"
        return Text(plural(self.seconds_left, locale,
                           one="This screen is cleared in {n} second.",
                           other="This screen is cleared in {n} seconds."))

    def watch_seconds_left(self) -> None:
        if self.is_mounted:
            self.query_one("#idle-warning-countdown", Static).update(self._countdown())

    def countdown_text(self) -> str:
        """What the countdown says now (for tests)."""
        return str(self.query_one("#idle-warning-countdown", Static).render())

    # Any key or click keeps the session.
    def on_key(self, event: events.Key) -> None:
        event.stop()
        event.prevent_default()
        self._keep()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        event.stop()
        self._keep()

    def _keep(self) -> None:
        self.app.keep_session()  # PaydeskApp: the idle period starts again
        self.dismiss()
