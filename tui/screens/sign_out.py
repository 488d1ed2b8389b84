"""Asked when Escape leaves the payment page: sign out, or stay. Answers True to sign out.

Escape is the key a person guesses for "leave", and also one pressed by mistake, so it asks
first; the Sign out button and Ctrl+O, which say what they do, do not ask."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from tui.screens import PaydeskModal


class SignOutScreen(PaydeskModal):
    CSS_PATH = "sign_out.tcss"
    HELP = "Sign out leaves this page and clears it; nothing is paid. Escape stays here."

    BINDINGS = [
        Binding("escape", "stay", "Stay", id="sign_out.stay"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-out-box"):
            yield Static("Sign out?", id="sign-out-heading")
            yield Static(Text("Your invoices leave the screen and nothing is paid."),
                         id="sign-out-text")
            with Horizontal(id="sign-out-buttons"):
                yield Button("Stay", id="sign-out-stay", compact=True)
                yield Button("Sign out", id="sign-out-yes", variant="primary", compact=True)

    def on_mount(self) -> None:
        # The person pressed Escape to leave: Enter confirms, a second Escape stays.
        self.query_one("#sign-out-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "sign-out-yes")

    def action_stay(self) -> None:
        self.dismiss(False)
