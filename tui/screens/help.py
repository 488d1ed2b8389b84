"""The help screen (F1 or ?): the keys of the screen underneath, and what it is for."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Static

from tui.screens import PaydeskModal

EVERYWHERE = (
    ("F1 or ?", "this help"),
    ("Tab / Shift+Tab", "move between fields and buttons"),
    ("Up / Down", "move in a list"),
    ("Enter", "press the focused button"),
    ("Mouse", "click anything: buttons, rows, fields"),
)


class HelpScreen(PaydeskModal):
    CSS_PATH = "help.tcss"

    BINDINGS = [
        Binding("escape", "close", "Close", id="help.close"),
        Binding("f1", "close", "Close", show=False, id="help.close_f1"),
        Binding("question_mark", "close", "Close", show=False, id="help.close_q"),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Static("Keys", id="help-heading")
            about = getattr(self._under, "HELP", "")
            if about:
                yield Static(Text(about), id="help-about")
            yield Static(self._keys(), id="help-keys")
            yield Button("Close", id="help-close", variant="primary", compact=True)

    def _keys(self) -> Table:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        seen: set[str] = set()
        for _key, binding in self._screen_bindings():
            if not binding.description or binding.description in seen:
                continue
            seen.add(binding.description)
            table.add_row(Text(self.app.get_key_display(binding)), Text(binding.description))
        for key, description in EVERYWHERE:
            table.add_row(Text(key), Text(description))
        return table

    def _screen_bindings(self):
        """The bindings of the screen underneath and of its focused widget."""
        under = self._under
        nodes = [under]
        focused = under.focused
        while focused is not None and focused is not under:
            nodes.append(focused)
            focused = focused.parent
        for node in reversed(nodes):
            for key, bindings in node._bindings.key_to_bindings.items():
                for binding in bindings:
                    # Paydesk's own keys carry an id; widgets' built-in keys are covered below.
                    if binding.id is not None or binding.show:
                        yield key, binding

    def on_button_pressed(self) -> None:
        self.dismiss()

    def action_close(self) -> None:
        self.dismiss()
