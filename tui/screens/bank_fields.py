"""The bank account's fields on the payment-method screen: the routing and account numbers
masked as they are typed (only their last four digits ever show), and the routing number's
check.

The numbers live only in their fields until the screen takes them (`take_number`) to build
the transient BankAccountEntry handed to the payment."""

from __future__ import annotations

from tui.widgets.fields import TextField

MASK = "•"


def routing_problem(text: str) -> str:
    """Why a typed routing number is not one ("" when it is): 9 digits whose ABA checksum
    holds, the check Stripe makes, told on the spot rather than after the review."""
    from gateway.bank_debits import routing_number_ok  # the SDK's types: when paying only

    digits = "".join(text.split()).replace("-", "")
    if not digits:
        return "Type the routing number (9 digits, bottom left of a check)"
    if not digits.isdigit() or len(digits) != 9:
        return "A routing number has exactly 9 digits"
    if not routing_number_ok(digits):
        return "That routing number is not valid: check the 9 digits on a check"
    return ""


def masked(digits: str) -> str:
    """"•••••••6789": never more than the last four digits."""
    return MASK * max(len(digits) - 4, 0) + digits[-4:]


class MaskedDigitsField(TextField):
    """Digits typed one by one; the field shows bullets for all but the last four, so the
    whole number is never on screen (nor in a screenshot of it)."""

    MAX_DIGITS = 17

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=self.MAX_DIGITS, **kwargs)
        self._digits = ""

    def replace(self, text: str, start: int, end: int) -> None:
        # Every edit of an Input comes here (typing, paste, backspace): the cursor stays at
        # the end, digits are added (separators a person types are dropped), and a
        # deletion takes off the last digit.
        if text:
            added = "".join(ch for ch in text if ch.isdigit())
            self._digits = (self._digits + added)[:self.MAX_DIGITS]
        elif end > start:
            self._digits = self._digits[:-1]
        super().replace(masked(self._digits), 0, len(self.value))
        self.cursor_position = len(self.value)

    @property
    def last4(self) -> str:
        return self._digits[-4:]

    def peek_digits(self) -> str:
        return self._digits

    def take_number(self) -> str:
        """The digits typed (for the BankAccountEntry), then forgets them."""
        digits = self._digits
        self.clear_number()
        return digits

    def clear_number(self) -> None:
        self._digits = ""
        self.value = ""


class AccountNumberField(MaskedDigitsField):
    """The account number: 4 to 17 digits."""


class RoutingNumberField(MaskedDigitsField):
    """The routing number: 9 digits, masked like the account's (only the last four show),
    checked by its checksum as soon as all nine are typed."""

    MAX_DIGITS = 9


def bank_tab_fields(holder: str):
    """The fields of the "Bank account" tab (the payment-method screen composes them)."""
    from textual.containers import Horizontal
    from textual.widgets import Label, Static

    from tui.widgets import RadioButton, RadioSet

    with Horizontal(classes="method-row"):
        yield Label("Name on account", classes="method-label-bank")
        yield TextField(holder, id="bank-holder", compact=True, max_length=80)
    with Horizontal(classes="method-row"):
        yield Label("Routing number", classes="method-label-bank")
        yield RoutingNumberField(id="bank-routing", compact=True, placeholder="9 digits")
        yield Static("", id="bank-routing-ok")
    with Horizontal(classes="method-row"):
        yield Label("Account number", classes="method-label-bank")
        yield AccountNumberField(id="bank-account", compact=True, placeholder="4 to 17 digits")
    with RadioSet(id="bank-type", compact=True):
        yield RadioButton("Checking", value=True, id="bank-checking")
        yield RadioButton("Savings", id="bank-savings")
    yield Static("", id="bank-error")
    yield Static("The account is debited once for each invoice, after you authorize it. "
                 "Only its last four digits are shown or kept.", id="bank-note")


def bank_entry(screen):
    """The CardChoice ("bank", the BankAccountEntry inside) from the tab's fields, or None
    with the reason shown and the focus in the field to fix."""
    from rich.text import Text
    from textual.widgets import Input, Static

    from billing.bank_values import BankAccountEntry
    from billing.values import CardChoice
    from tui.widgets import RadioButton

    def refuse(message: str, focus: str) -> None:
        screen.query_one("#bank-error", Static).update(Text(message))
        screen.query_one(focus).focus()

    holder = screen.query_one("#bank-holder", Input).value.strip()
    routing_field = screen.query_one("#bank-routing", RoutingNumberField)
    routing = routing_field.peek_digits()
    account = screen.query_one("#bank-account", AccountNumberField)
    if not holder:
        return refuse("Type the name of the account holder", "#bank-holder")
    problem = routing_problem(routing)
    if problem:
        return refuse(problem, "#bank-routing")
    if not 4 <= len(account.peek_digits()) <= 17:
        return refuse("An account number has 4 to 17 digits", "#bank-account")
    savings = screen.query_one("#bank-savings", RadioButton).value
    kind = "savings" if savings else "checking"
    entry = BankAccountEntry(routing_field.take_number(), account.take_number(), holder,
                             account_type=kind)
    screen.query_one("#bank-error", Static).update("")
    label = f"{kind.capitalize()} account •••• {entry.last4}"
    return CardChoice(kind="bank", keyed=entry, label=label)
