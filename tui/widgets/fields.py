"""Text fields: an Input whose cursor blinks unless the app turned blinking off (the
snapshot tests do, so every SVG is the same)."""

from __future__ import annotations

from textual.widgets import Input


class TextField(Input):
    def on_mount(self) -> None:
        self.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
