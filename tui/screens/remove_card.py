"""Asks before a saved card is taken off file: "Keep it" is the default answer."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tui.screens import PaydeskModal


class RemoveCardScreen(PaydeskModal):
    """Dismissed with True when the card is to be removed."""

    DEFAULT_CSS = """
    RemoveCardScreen {
        align: center middle;
    }
    RemoveCardScreen #remove-card-box {
        width: 64;
        height: auto;
        border: thick $error;
        background: $surface;
        padding: 1 2;
    }
    RemoveCardScreen #remove-card-buttons {
        height: 1;
        margin-top: 1;
        align-horizontal: right;
    }
    RemoveCardScreen #remove-card-buttons Button {
        margin-left: 2;
        min-width: 10;
    }
    """
    HELP = ("Remove the card from file: it can no longer be chosen for a payment. Payments "
            "already made with it stay as they are.")
    BINDINGS = [
        Binding("y", "remove", "Remove", id="remove-card.yes"),
        Binding("n,escape", "keep", "Keep it", id="remove-card.no"),
    ]

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def compose(self) -> ComposeResult:
        with Vertical(id="remove-card-box"):
            yield Static(Text(f"Remove {self.label} from file?", style="bold"),
                         id="remove-card-question")
            yield Static("It can no longer be chosen for a payment. Payments already made "
                         "with it stay as they are.", id="remove-card-note")
            with Horizontal(id="remove-card-buttons"):
                yield Button("Keep it", id="remove-card-keep", compact=True)
                yield Button("Remove", id="remove-card-remove", variant="error",
                             compact=True)

    def on_mount(self) -> None:
        self.query_one("#remove-card-keep", Button).focus()

    @on(Button.Pressed, "#remove-card-remove")
    def action_remove(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#remove-card-keep")
    def action_keep(self) -> None:
        self.dismiss(False)
