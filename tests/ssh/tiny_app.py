"""A small Textual program for testing the SSH plumbing without the Paydesk app:
it shows its terminal's size, its TERM, its pid, and echoes what is typed."""

from __future__ import annotations

import os

from textual.app import App, ComposeResult
from textual.events import Resize
from textual.widgets import Input, Static


class TinyApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(f"tiny-app pid={os.getpid()} term={os.environ.get('TERM')}", id="who")
        yield Static("size=?", id="size")
        yield Input(id="entry")
        yield Static("", id="echo")

    def on_resize(self, event: Resize) -> None:
        self.query_one("#size", Static).update(f"size={event.size.width}x{event.size.height}")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == "quit":
            self.exit()
        elif event.value == "crash":
            os._exit(3)
        self.query_one("#echo", Static).update(f"echo={event.value}")


if __name__ == "__main__":
    TinyApp().run()
