"""The bank account's verification, when Stripe asks for it: a small deposit reaches the
account within a day or two, and its statement line carries a 6-character code (SM and four
more), or there are two small deposits. The payer types the code or the two amounts; right,
the debits start; wrong, they are told and nothing changes. "Later" keeps the invoices held
until Stripe's wait for the code runs out (the debits are then cancelled and the hold
released).

On a later visit the payment page opens this screen over itself (`later=True`): Later then
goes back to the page, and the debits it starts are exactly those authorized then."""

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

# Stripe's test mode (and the sandbox) accept these for any test account.
TEST_CODE = "SM11AA"
TEST_AMOUNTS = "0.32 and 0.45"
AMOUNTS = "amounts"
LATER = ("The invoices stay held, so nobody pays them twice; nothing is debited without "
         "the code. Come back once the deposit is on the statement: the payment page offers "
         "to enter its code. If the account is not verified within 10 days, the debits are "
         "cancelled and the invoices can be paid again.")


def deposit_amounts(text: str) -> tuple[int, int] | None:
    """Two small deposits as typed ("0.32 0.45", "$0.32, $0.45", "32 45"), in cents; None
    when the text is not two amounts under a dollar."""
    parts = [p for p in text.replace(",", " ").replace("/", " ").replace("$", " ").split() if p]
    if len(parts) != 2:
        return None
    cents = []
    for part in parts:
        whole, dot, frac = part.partition(".")
        if dot:
            if whole not in ("", "0") or not frac.isdigit() or len(frac) > 2:
                return None
            value = int(frac.ljust(2, "0"))
        elif part.isdigit() and len(part) <= 2:
            value = int(part)
        else:
            return None
        if not 1 <= value <= 99:
            return None
        cents.append(value)
    return cents[0], cents[1]


def answer_problem(text: str, microdeposit_type: str = "descriptor_code") -> str:
    """Why the text typed does not answer the deposit Stripe sent ("" when it looks
    right): a code SMxxxx for one deposit with a code, two amounts for two deposits."""
    if microdeposit_type == AMOUNTS:
        if deposit_amounts(text) is None:
            return "Type the two amounts of the small deposits, in dollars (e.g. 0.32 0.45)"
        return ""
    if deposit_amounts(text) is not None:
        return ("This account was sent one deposit with a code: type the code from its "
                "statement line (SM followed by 4 letters or digits)")
    return code_problem(text)


def code_problem(text: str) -> str:
    """Why a typed code is not one ("" when it looks right, or when it is two amounts)."""
    if deposit_amounts(text) is not None:
        return ""
    code = "".join(text.split()).upper()
    if len(code) != 6 or not code.isalnum():
        return "The code has 6 characters, SM followed by 4 letters or digits (e.g. SM12AB)"
    if not code.startswith("SM"):
        return "The code starts with SM: it is in the deposit's line on the bank statement"
    return ""


class BankVerifyScreen(PaydeskScreen):
    CSS_PATH = "bank_verify.tcss"
    AUTO_FOCUS = "#bank-verify-code"
    HELP = ("Type the 6-character code of the small deposit on the account's statement (or "
            "the two amounts, if there are two deposits), then Enter. Later (F9) keeps the "
            "invoices held; nothing is debited without the code.")

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
                 waiting: NeedsVerification, *, summary: Text | None = None,
                 later: bool = False) -> None:
        """`summary` stands for the selection's line when there is no selection (a later
        visit: `later`, where Later goes back to the payment page)."""
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.checkout_id = waiting.checkout_id
        self.waiting_message = waiting.message
        self.microdeposit_type = waiting.microdeposit_type
        self.summary = summary
        self.later_visit = later
        self._busy = False

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Verify the bank account")
        yield Static(self.summary if self.summary is not None
                     else selection_line(self.selection, self.app.firm.locale),
                     id="bank-verify-summary")
        yield Static(Text(self.waiting_message), id="bank-verify-lead")
        amounts = self.microdeposit_type == AMOUNTS
        with Horizontal(id="bank-verify-row"):
            yield Label("The two amounts" if amounts else "Code from the deposit",
                        id="bank-verify-label")
            yield TextField(id="bank-verify-code", compact=True, max_length=14,
                            placeholder="0.32 0.45" if amounts else "SM1234")
        yield Static("", id="bank-verify-error")
        if self.app.firm.test_mode:
            yield Static(Text(f"Test mode: the amounts are {TEST_AMOUNTS}." if amounts
                              else f"Test mode: the code is {TEST_CODE}.", style="dim"),
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
        problem = answer_problem(text, self.microdeposit_type)
        if problem:
            self._show(problem)
            return
        self._busy = True
        self.query_one("#bank-verify-error", Static).update("Checking the code…")
        amounts = deposit_amounts(text)
        self._check(None if amounts else "".join(text.split()).upper(), amounts)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _check(self, code: str | None, amounts: tuple[int, int] | None = None) -> None:
        try:
            outcome = self.app.desk.verify_bank_account(self.payer, self.checkout_id,
                                                        descriptor_code=code, amounts=amounts)
        except (BillingError, GatewayError) as exc:
            self.post_message(self.Problem(exc.message))
            return
        if isinstance(outcome, NeedsVerification):
            self.microdeposit_type = outcome.microdeposit_type
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
        if self._busy:
            return
        if self.later_visit:
            self.dismiss(None)  # back to the payment page, which still offers the code
        else:
            self.post_message(FlowStep(BankLater(self.payer, LATER)))
