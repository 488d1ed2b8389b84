"""The bank account's verification, when Stripe asks for it: a small deposit reaches the
account within a day or two, and its statement line carries a 6-character code (SM and four
more). The payer types it; right, the debits start; wrong, they are told and nothing
changes. "Later" keeps the invoices held until Stripe's wait for the code runs out (the
debits are then cancelled and the hold released)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Footer, Input, Label, Static

from billing.bank_values import BankCheckoutResult, NeedsVerification
from billing.errors import BillingError
from billing.values import Payer
from gateway.errors import GatewayError
from tui.flow_values import BankAnswered, BankLater, FlowStep, SelectedInvoice, selection_line
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, TextField

# Stripe's test mode (and the sandbox) accept this code for any test account.
TEST_CODE = "SM11AA"
LATER = ("The invoices stay held for this bank payment, so nobody pays them twice, and "
         "nothing is debited without the code. If the account is not verified within 10 days, "
         "the debits are cancelled and the invoices can be paid again.")


def code_problem(text: str) -> str:
    """Why a typed code is not one ("" when it looks right)."""
    code = "".join(text.split()).upper()
    if len(code) != 6 or not code.isalnum():
        return "The code has 6 characters, SM followed by 4 letters or digits (e.g. SM12AB)"
    if not code.startswith("SM"):
        return "The code starts with SM: it is in the deposit's line on the bank statement"
    return ""


class BankVerifyScreen(PaydeskScreen):
    CSS_PATH = "bank_verify.tcss"
    AUTO_FOCUS = "#bank-verify-code"
    HELP = ("Type the 6-character code of the small deposit on the account's statement, then "
            "Enter. Later (F9) keeps the invoices held and ends here; nothing is debited "
            "without the code.")

    BINDINGS = [
        Binding("f9", "later", "Later", id="bank_verify.later"),
    ]

    @dataclass
    class Answered(Message):
        outcome: object

    @dataclass
    class Problem(Message):
        message: str

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 waiting: NeedsVerification) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.checkout_id = waiting.checkout_id
        self.waiting_message = waiting.message
        self._busy = False

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Verify the bank account")
        yield Static(selection_line(self.selection, self.app.firm.locale),
                     id="bank-verify-summary")
        yield Static(Text(self.waiting_message), id="bank-verify-lead")
        with Horizontal(id="bank-verify-row"):
            yield Label("Code from the deposit", id="bank-verify-label")
            yield TextField(id="bank-verify-code", compact=True, max_length=8,
                            placeholder="SM1234")
        yield Static("", id="bank-verify-error")
        if self.app.firm.test_mode:
            yield Static(Text(f"Test mode: the code is {TEST_CODE}.", style="dim"),
                         id="bank-verify-hint")
        yield Static(Text(f"Later: {LATER}", style="dim"), id="bank-verify-later-note")
        with Horizontal(id="bank-verify-buttons"):
            yield Button("Later", id="bank-verify-later", compact=True)
            yield Button("Verify", id="bank-verify-go", variant="primary", compact=True)
        yield Footer()

    @on(Input.Submitted, "#bank-verify-code")
    @on(Button.Pressed, "#bank-verify-go")
    def _verify(self) -> None:
        if self._busy:
            return
        text = self.query_one("#bank-verify-code", Input).value
        problem = code_problem(text)
        if problem:
            self._show(problem)
            return
        self._busy = True
        self.query_one("#bank-verify-error", Static).update("Checking the code…")
        self._check("".join(text.split()).upper())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self, code: str) -> None:
        try:
            outcome = self.app.desk.verify_bank_account(self.payer, self.checkout_id,
                                                        descriptor_code=code)
        except (BillingError, GatewayError) as exc:
            self.post_message(self.Problem(exc.message))
            return
        if isinstance(outcome, NeedsVerification):
            self.post_message(self.Problem(outcome.message))
        else:
            self.post_message(self.Answered(outcome))

    def _show(self, message: str) -> None:
        self.query_one("#bank-verify-error", Static).update(Text(message))
        field = self.query_one("#bank-verify-code", Input)
        field.value = ""
        field.focus()

    @on(Problem)
    def _problem(self, message: Problem) -> None:
        self._busy = False
        self._show(message.message)

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        assert isinstance(message.outcome, BankCheckoutResult)
        self.post_message(FlowStep(BankAnswered(self.payer, self.selection, message.outcome)))

    def worker_failed(self, worker) -> None:
        self._busy = False

    @on(Button.Pressed, "#bank-verify-later")
    def action_later(self) -> None:
        if not self._busy:
            self.post_message(FlowStep(BankLater(self.payer, LATER)))
