"""Refund one invoice payment (full or partial) or a whole checkout: amount, reason, a
confirmation that names the amount, the invoice and the card, then the result.

Returns the refunds made, or None when nothing was refunded.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, Input, Label, Static
from textual.worker import Worker

from billing.errors import BillingError
from billing.values import PaymentRow, RefundResult, StaffSession
from models.money import AmountError, Money, format_amount_plain, format_money, parse_amount
from tui.screens import PaydeskModal
from tui.widgets import TextField


@dataclass(frozen=True)
class RefundPlan:
    """What the staff member confirmed: read from the fields once, when they pressed
    Continue, so a key that arrives late cannot change it behind the confirmation."""

    amount: Money
    reason: str


class DeskRefundScreen(PaydeskModal[list[RefundResult] | None]):
    """Refund `rows[0]`, or every row of a checkout when `whole_checkout`."""

    CSS_PATH = "desk_refund.tcss"
    AUTO_FOCUS = "#desk-refund-amount, #desk-refund-reason"
    BINDINGS = [Binding("escape", "back", "Back", id="desk_refund.back")]

    @dataclass
    class Done(Message):
        results: list[RefundResult]

    @dataclass
    class Failed(Message):
        message: str

    def __init__(
        self,
        staff: StaffSession,
        rows: list[PaymentRow],
        *,
        whole_checkout: bool = False,
        locale: str = "en_US",
    ) -> None:
        super().__init__()
        if not rows:
            raise ValueError("nothing to refund")
        self.staff = staff
        self.rows = rows
        self.whole_checkout = whole_checkout
        self.locale = locale
        self.plan: RefundPlan | None = None
        self.results: list[RefundResult] | None = None

    @property
    def refundable(self) -> Money:
        return Money.sum_of((r.refundable for r in self.rows), self.rows[0].amount.currency)

    def _money(self, money: Money) -> str:
        return format_money(money, self.locale)

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="desk-refund-box") as box:
            box.border_title = (
                f"Refund checkout {self.rows[0].checkout_id}"
                if self.whole_checkout
                else f"Refund {self.rows[0].invoice_number}"
            )
            with ContentSwitcher(initial="desk-refund-form", id="desk-refund-steps"):
                with Vertical(id="desk-refund-form"):
                    yield Static(self._summary(), id="desk-refund-summary")
                    if not self.whole_checkout:
                        yield Label("Amount to refund", id="desk-refund-amount-label")
                        yield TextField(
                            format_amount_plain(self.refundable, self.locale),
                            id="desk-refund-amount",
                            max_length=30,
                        )
                    yield Label("Reason (required)", id="desk-refund-reason-label")
                    yield TextField(
                        placeholder="e.g. client overpaid", id="desk-refund-reason", max_length=200
                    )
                    yield Static("", id="desk-refund-error", markup=False)
                    with Horizontal(classes="desk-refund-buttons"):
                        yield Button("Continue", variant="primary", id="desk-refund-continue")
                        yield Button("Cancel", id="desk-refund-cancel")
                with Vertical(id="desk-refund-confirm"):
                    yield Static("", id="desk-refund-question")
                    with Horizontal(classes="desk-refund-buttons"):
                        yield Button("Refund", variant="error", id="desk-refund-go")
                        yield Button("Back", id="desk-refund-back")
                with Vertical(id="desk-refund-result"):
                    yield Static("", id="desk-refund-outcome")
                    with Horizontal(classes="desk-refund-buttons"):
                        yield Button("Close", variant="primary", id="desk-refund-close")

    def _summary(self) -> Text:
        text = Text()
        first = self.rows[0]
        text.append(first.client_name)
        text.append(f" · {first.card}\n")
        for row in self.rows:
            text.append(f"{row.invoice_number}: paid {self._money(row.amount)}")
            if row.refunded.minor:
                text.append(f", refunded {self._money(row.refunded)}")
            text.append(f", {self._money(row.refundable)} left\n")
        if self.whole_checkout:
            text.append(f"Refunds everything left: {self._money(self.refundable)}", style="bold")
        text.rstrip()
        return text

    # --- the form --------------------------------------------------------------------

    @on(Input.Submitted, "#desk-refund-amount")
    def _amount_entered(self) -> None:
        self.query_one("#desk-refund-reason", Input).focus()

    @on(Input.Submitted, "#desk-refund-reason")
    @on(Button.Pressed, "#desk-refund-continue")
    def _continue(self) -> None:
        error = self.query_one("#desk-refund-error", Static)
        try:
            plan = self._read_plan()
        except AmountError as exc:
            error.update(Text(str(exc)))
            self.query_one("#desk-refund-amount", Input).focus()
            return
        if not plan.reason:
            error.update(Text("Enter the reason for the refund."))
            self.query_one("#desk-refund-reason", Input).focus()
            return
        error.update("")
        self.plan = plan
        self.query_one("#desk-refund-question", Static).update(self._question(plan))
        self._step("desk-refund-confirm")
        self.query_one("#desk-refund-go", Button).focus()

    def _read_plan(self) -> RefundPlan:
        """The amount and reason as they are in the fields right now."""
        reason = self.query_one("#desk-refund-reason", Input).value.strip()
        if self.whole_checkout:
            return RefundPlan(self.refundable, reason)
        text = self.query_one("#desk-refund-amount", Input).value
        amount = parse_amount(text, self.refundable.currency, self.locale)
        if amount > self.refundable:
            raise AmountError(
                f"That is more than the {self._money(self.refundable)} left to refund"
            )
        return RefundPlan(amount, reason)

    def _question(self, plan: RefundPlan) -> Text:
        text = Text()
        first = self.rows[0]
        if self.whole_checkout:
            text.append(f"Refund {self._money(plan.amount)}", style="bold")
            text.append(f" over {len(self.rows)} invoice payment")
            text.append("s" if len(self.rows) != 1 else "")
            text.append(f" of checkout {first.checkout_id} to {first.card}?\n")
            for row in self.rows:
                text.append(f"  {row.invoice_number}  {self._money(row.refundable)}\n")
        else:
            text.append(f"Refund {self._money(plan.amount)}", style="bold")
            text.append(f" of {first.invoice_number} to {first.card}?\n")
        text.append(f"Reason: {plan.reason}")
        return text

    def _step(self, step: str) -> None:
        self.query_one("#desk-refund-steps", ContentSwitcher).current = step

    @on(Button.Pressed, "#desk-refund-back")
    @on(Button.Pressed, "#desk-refund-cancel")
    def _back_pressed(self, event: Button.Pressed) -> None:
        self.action_back()

    def action_back(self) -> None:
        step = self.query_one("#desk-refund-steps", ContentSwitcher).current
        if step == "desk-refund-confirm":
            if self.query_one("#desk-refund-go", Button).disabled:
                return  # refunding: wait for the outcome
            self._step("desk-refund-form")
            self.query_one("#desk-refund-reason", Input).focus()
        else:
            self.dismiss(self.results)

    # --- refunding -------------------------------------------------------------------

    @on(Button.Pressed, "#desk-refund-go")
    def _go(self) -> None:
        if self.plan is None:
            return
        for button in self.query("#desk-refund-go, #desk-refund-back").results(Button):
            button.disabled = True
        self.query_one("#desk-refund-question", Static).update(
            Text.assemble(self._question(self.plan), "\n\nRefunding…")
        )
        self._refund(self.plan)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _refund(self, plan: RefundPlan) -> None:
        desk = self.app.desk
        try:
            if self.whole_checkout:
                results = desk.refund_checkout(self.staff, self.rows[0].checkout_id, plan.reason)
            else:
                row = self.rows[0]
                results = [desk.refund(self.staff, row.invoice_payment_id, plan.amount, plan.reason)]
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.Done(results))

    @on(Done)
    def _done(self, event: Done) -> None:
        self.results = event.results
        text = Text()
        for result in event.results:
            if result.status == "succeeded":
                text.append(f"Refunded {self._money(result.amount)} of {result.invoice_number}.")
                if result.reference:
                    text.append(f" Receipt {result.reference}.")
            elif result.status == "verifying":
                text.append(
                    f"{result.invoice_number}: the bank has not answered yet. The refund of "
                    f"{self._money(result.amount)} is being checked; it will not be made twice."
                )
            else:
                text.append(f"{result.invoice_number}: not refunded. ", style="bold")
                text.append(result.message or result.status)
            text.append("\n")
        if not event.results:
            text.append("Nothing was left to refund.")
        self._show_result(text)

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._show_result(Text.assemble(("Not refunded: ", "bold"), event.message))

    WORKER_FAILED = ("The refund could not be completed and its outcome is unknown; "
                     "reconciliation will settle it. Check the payments list.")

    def worker_failed(self, worker: Worker) -> None:
        self._show_result(Text(self.WORKER_FAILED))

    def _show_result(self, text: Text) -> None:
        self.query_one("#desk-refund-outcome", Static).update(text)
        self._step("desk-refund-result")
        self.query_one("#desk-refund-close", Button).focus()

    @on(Button.Pressed, "#desk-refund-close")
    def _close(self) -> None:
        self.dismiss(self.results)
