"""A client signs in with their portal email and password, then sees their payment page."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Input, Label, Static

from billing.errors import BillingError
from billing.values import Payer
from tui.flow_values import FlowStep, StartPayment
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, TextField


class ClientSignInScreen(PaydeskScreen):
    CSS_PATH = "client_sign_in.tcss"
    HELP = (
        "Type the email and password of your client portal account. Tab moves between the "
        "fields; Enter in the password field signs you in. Escape goes back."
    )

    BINDINGS = [Binding("escape", "back", "Back", id="client_sign_in.back")]

    @dataclass
    class SignedIn(Message):
        payer: Payer

    @dataclass
    class Refused(Message):
        reason: str

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Sign in")
        with Vertical(id="client-sign-in-body"):
            yield Static("Sign in to pay your invoices", id="client-sign-in-heading")
            yield Label("Email")
            yield TextField(placeholder="you@example.com", id="client-email", max_length=254)
            yield Label("Password")
            yield TextField(password=True, id="client-password", max_length=256)
            yield Static("", id="client-sign-in-message")
            with Horizontal(id="client-sign-in-buttons"):
                yield Button("Back", id="client-back")
                yield Button("Sign in", id="client-submit", variant="primary")
            if self.app.demo_hints is not None:
                yield Static(self.app.demo_hints.client, id="client-sign-in-demo")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#client-email", Input).focus()

    @on(Input.Submitted, "#client-email")
    def _email_done(self) -> None:
        self.query_one("#client-password", Input).focus()

    @on(Input.Submitted, "#client-password")
    @on(Button.Pressed, "#client-submit")
    def _submit(self) -> None:
        email = self.query_one("#client-email", Input).value.strip()
        password = self.query_one("#client-password", Input).value
        if not email or not password:
            self._message("Type your email and your password.")
            return
        self._busy(True)
        self._message("Signing in...", error=False)
        self._sign_in(email, password)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _sign_in(self, email: str, password: str) -> None:
        try:
            payer = self.app.desk.sign_in_client(email, password)
        except BillingError as exc:
            self.post_message(self.Refused(exc.message))
            return
        self.post_message(self.SignedIn(payer))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._busy(False)
        password = self.query_one("#client-password", Input)
        password.value = ""
        password.focus()
        self._message(message.reason)

    @on(SignedIn)
    def _signed_in(self, message: SignedIn) -> None:
        # The sign-in form leaves the stack, so Back from the payment page is a sign-out.
        self.post_message(FlowStep(StartPayment(message.payer, replace=True)))

    @on(Button.Pressed, "#client-back")
    def action_back(self) -> None:
        self.dismiss()

    def _busy(self, busy: bool) -> None:
        for widget_id in ("#client-email", "#client-password", "#client-submit"):
            self.query_one(widget_id).disabled = busy

    def _message(self, text: str, *, error: bool = True) -> None:
        label = self.query_one("#client-sign-in-message", Static)
        label.update(Text(text))
        label.set_class(error, "-error")
