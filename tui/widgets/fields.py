"""Text fields: an Input whose cursor blinks unless the app turned blinking off (the
snapshot tests do, so every SVG is the same)."""

from __future__ import annotations

from textual.widgets import Input


class TextField(Input):
    DEFAULT_CSS = """
    TextField.-textual-compact {
        background: $boost;
    }
    TextField.-textual-compact:focus {
        background: $accent 30%;
    }
    """

    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
