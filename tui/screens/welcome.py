"""The kiosk's welcome: sign in with the portal account, or type a payment code.

The way to the staff screens always goes through the staff sign-in (a PIN)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Input, Static

from billing.errors import BillingError
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, TextField

if TYPE_CHECKING:
    # Names only: this screen is drawn before the database layer is loaded.
    from billing.values import PayableInvoice, Payer

CODE_HELP = "Enter opens the one invoice the code is for."


class WelcomeScreen(PaydeskScreen):
    CSS_PATH = "welcome.tcss"
    HELP = (
        "Sign in with the email and password of your client portal account to see and pay "
        "all your invoices. Someone paying one invoice for a client can type the payment "
        "code they were sent instead."
    )

    BINDINGS = [
        Binding("f2", "sign_in", "Sign in", id="welcome.sign_in"),
        Binding("f3", "code", "Payment code", id="welcome.code"),
        Binding("f9", "staff", "Staff", id="welcome.staff"),
        # Not in the footer: in the code field, Escape gives up the code typed so far.
        Binding("escape", "clear_code", "Clear the code", show=False, id="welcome.clear_code"),
    ]

    @dataclass
    class CodeOpened(Message):
        payer: Payer
        invoice: PayableInvoice

    @dataclass
    class CodeRefused(Message):
        reason: str

    def compose(self) -> ComposeResult:
        firm = self.app.firm
        yield ScreenTitle("Welcome")
        with Vertical(id="welcome-body"):
            yield Static(Text(f"Welcome to {firm.name}"), id="welcome-heading")
            yield Static(
                "Pay your invoices here. Each invoice you pay is its own card transaction.",
                id="welcome-lead",
            )
            with Vertical(id="welcome-sign-in", classes="welcome-box"):
                yield Static("Client portal account", classes="welcome-box-title")
                yield Button("Sign in", id="sign-in", variant="primary", compact=True)
            with Vertical(id="welcome-code", classes="welcome-box"):
                yield Static("Paying with a payment code?", classes="welcome-box-title")
                yield TextField(
                    placeholder="e.g. LINK-1234", id="payment-code", max_length=64, compact=True
                )
                yield Static(CODE_HELP, id="welcome-code-message")
            if self.app.demo_hints is not None:
                yield Static(self.app.demo_hints.welcome, id="welcome-demo")
            with Horizontal(id="welcome-staff-row"):
                yield Button("Staff", id="staff", variant="default", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#sign-in", Button).focus()

    # --- what the kiosk wipes ---------------------------------------------------------

    def reset(self) -> None:
        self.query_one("#payment-code", Input).value = ""
        self._code_message(CODE_HELP, error=False)
        self.query_one("#payment-code", Input).disabled = False
        self.query_one("#sign-in", Button).focus()

    def has_input(self) -> bool:
        return bool(self.query_one("#payment-code", Input).value)

    # --- actions ----------------------------------------------------------------------

    @on(Button.Pressed, "#sign-in")
    def action_sign_in(self) -> None:
        from tui.screens.client_sign_in import ClientSignInScreen

        self.app.push_screen(ClientSignInScreen())

    def action_code(self) -> None:
        self.query_one("#payment-code", Input).focus()

    def action_clear_code(self) -> None:
        if self.query_one("#payment-code", Input).disabled:
            return  # the code is being looked up: its answer decides
        self.reset()

    @on(Button.Pressed, "#staff")
    def action_staff(self) -> None:
        self.app.open_staff_screens()

    @on(Input.Submitted, "#payment-code")
    def _code_entered(self, event: Input.Submitted) -> None:
        code = event.value.strip()
        if not code:
            self._code_message("Type the payment code you were sent.", error=True)
            return
        event.input.disabled = True
        self._code_message("Looking up the code...", error=False)
        self._open_code(code)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _open_code(self, code: str) -> None:
        try:
            payer, invoice = self.app.desk.payer_for_code(code)
        except BillingError as exc:
            self.post_message(self.CodeRefused(exc.message))
            return
        self.post_message(self.CodeOpened(payer, invoice))

    @on(CodeRefused)
    def _code_refused(self, message: CodeRefused) -> None:
        field = self.query_one("#payment-code", Input)
        field.disabled = False
        field.value = ""
        field.focus()
        self._code_message(message.reason, error=True)

    @on(CodeOpened)
    def _code_opened(self, message: CodeOpened) -> None:
        from tui.flow_values import FlowStep, StartPayment

        self.reset()
        self.post_message(FlowStep(StartPayment(message.payer)))

    def _code_message(self, text: str, *, error: bool) -> None:
        label = self.query_one("#welcome-code-message", Static)
        label.update(Text(text))
        label.set_class(error, "-error")
