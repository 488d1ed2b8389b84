"""Text fields: an Input whose cursor blinks unless the app turned blinking off (the
snapshot tests do, so every SVG is the same), and whose keys are applied in the order they
were typed.

Textual 8.2.8 inserts a printable key as soon as the focused Input gets it, but runs a
bound key (backspace, arrows, Enter, Tab) only once that key has bubbled back up to the
app. In a burst of keys (a fast typist, a paste over SSH, a card reader keyboard) a later
character can therefore be inserted before an earlier backspace: "backspace 1 0 0" on a
selected "530.50" became "10" (textual#6605). A TextField runs the bindings for its keys
itself, in order, and hands a key that reaches it after the focus has moved on to whatever
has the focus now.
"""

from __future__ import annotations

from textual import events
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

    async def _on_key(self, event: events.Key) -> None:
        # Runs before Input._on_key (Textual calls the handlers down the MRO until one
        # prevents the default).
        if self.screen.focused is not self:
            # Typed after a key that moved the focus (Enter, Tab): it belongs there.
            event.stop()
            event.prevent_default()
            again = events.Key(event.key, event.character)
            again.set_sender(self.app)
            self.app.post_message(again)
            return
        if event.is_printable:
            return  # Input._on_key inserts it
        # The same bindings, searched the same way (focused widget up to the app), that the
        # app would run once the key came back up to it; only now, in the order typed.
        if await self.app._check_bindings(event.key):
            event.stop()
            event.prevent_default()
