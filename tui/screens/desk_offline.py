"""Record an offline payment (check, cash, bank transfer) over one or several of a
client's invoices, with an amount per invoice and the payment's reference."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, ContentSwitcher, Footer, Input, Label, Select, Static
from textual.worker import Worker

from billing.errors import BillingError
from billing.values import CheckoutResult, ClientSummary, PayableInvoice, StaffSession
from models.money import AmountError, Money, format_money, parse_amount
from tui.screens import PaydeskScreen
from tui.screens.desk_common import staff_title
from tui.widgets import ScreenTitle, TextField

METHODS = (("Check", "check"), ("Cash", "cash"), ("Bank transfer", "bank_transfer"))
METHOD_NAMES = {value: name.lower() for name, value in METHODS}


@dataclass(frozen=True)
class OfflinePlan:
    """What was read from the form when Record was pressed, and is shown to confirm."""

    method: str
    reference: str
    amounts: tuple[tuple[PayableInvoice, Money], ...]

    def total(self, currency: str) -> Money:
        return Money.sum_of((m for _i, m in self.amounts), currency)


class DeskOfflineScreen(PaydeskScreen[CheckoutResult | None]):
    """One amount field per invoice: leave it empty to leave that invoice alone."""

    CSS_PATH = "desk_offline.tcss"
    AUTO_FOCUS = "#desk-offline-method"
    BINDINGS = [Binding("escape", "back", "Back", id="desk_offline.back")]

    @dataclass
    class Loaded(Message):
        invoices: list[PayableInvoice]

    @dataclass
    class Recorded(Message):
        result: CheckoutResult

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, staff: StaffSession, client: ClientSummary) -> None:
        super().__init__()
        self.staff = staff
        self.client = client
        self.invoices: list[PayableInvoice] = []
        self.plan: OfflinePlan | None = None
        self.result: CheckoutResult | None = None

    @property
    def locale(self) -> str:
        firm = self.app.firm
        return firm.locale if firm is not None else "en_US"

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title(f"Offline payment · {self.client.name}", self.staff))
        with ContentSwitcher(initial="desk-offline-form", id="desk-offline-steps"):
            with Vertical(id="desk-offline-form"):
                with Horizontal(id="desk-offline-how"):
                    yield Select(
                        METHODS, value="check", allow_blank=False, id="desk-offline-method",
                        compact=True,
                    )
                    yield TextField(
                        placeholder="Reference: check number, transfer id…",
                        id="desk-offline-reference", max_length=60, compact=True,
                    )
                yield Label(
                    "Amount per invoice (leave empty to skip it):", id="desk-offline-hint"
                )
                # Not a tab stop itself: Tab goes from one amount field to the next.
                yield VerticalScroll(id="desk-offline-invoices", can_focus=False)
                yield Static("", id="desk-offline-error", markup=False)
                with Horizontal(classes="desk-offline-buttons"):
                    yield Button("Record…", variant="primary", id="desk-offline-record")
                    yield Button("Cancel", id="desk-offline-cancel")
            with Vertical(id="desk-offline-confirm"):
                yield Static("", id="desk-offline-question")
                with Horizontal(classes="desk-offline-buttons"):
                    yield Button("Record payment", variant="success", id="desk-offline-go")
                    yield Button("Back", id="desk-offline-back")
            with Vertical(id="desk-offline-result"):
                yield Static("", id="desk-offline-outcome")
                with Horizontal(classes="desk-offline-buttons"):
                    yield Button("Done", variant="primary", id="desk-offline-done")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        self.post_message(
            self.Loaded(self.app.desk.shareable_invoices(self.staff, self.client.client_id))
        )

    @on(Loaded)
    async def _loaded(self, event: Loaded) -> None:
        self.invoices = event.invoices
        box = self.query_one("#desk-offline-invoices", VerticalScroll)
        rows = []
        for invoice in event.invoices:
            label = Text()
            label.append(f"{invoice.number:<10}", style="bold")
            label.append(f" {invoice.case_number:<13}")
            label.append(f"balance {format_money(invoice.balance, self.locale):>12}")
            rows.append(
                Horizontal(
                    Static(label, classes="desk-offline-invoice"),
                    TextField(
                        placeholder="0.00",
                        id=f"desk-offline-amount-{invoice.invoice_id}",
                        classes="desk-offline-amount",
                        max_length=30,
                        compact=True,
                    ),
                    classes="desk-offline-row",
                )
            )
        if not rows:
            rows.append(Static("This client has no invoice with a balance."))
        await box.mount_all(rows)

    # --- the form --------------------------------------------------------------------

    @on(Input.Submitted)
    def _field_submitted(self, event: Input.Submitted) -> None:
        if self.query_one("#desk-offline-steps", ContentSwitcher).current == "desk-offline-form":
            self.focus_next()

    @on(Button.Pressed, "#desk-offline-record")
    def _record_pressed(self) -> None:
        error = self.query_one("#desk-offline-error", Static)
        try:
            plan = self._read_plan()
        except AmountError as exc:
            error.update(Text(str(exc)))
            return
        error.update("")
        self.plan = plan
        self.query_one("#desk-offline-question", Static).update(self._question(plan))
        self.query_one("#desk-offline-steps", ContentSwitcher).current = "desk-offline-confirm"
        self.query_one("#desk-offline-go", Button).focus()

    def _read_plan(self) -> OfflinePlan:
        """The fields as they are now; AmountError names what is wrong and where."""
        method = self.query_one("#desk-offline-method", Select).value
        reference = self.query_one("#desk-offline-reference", Input).value.strip()
        if not isinstance(method, str):
            raise AmountError("Choose how the client paid.")
        if not reference and method != "cash":
            self.query_one("#desk-offline-reference", Input).focus()
            raise AmountError(f"Enter the {METHOD_NAMES[method]}'s reference.")
        amounts = []
        for invoice in self.invoices:
            field = self.query_one(f"#desk-offline-amount-{invoice.invoice_id}", Input)
            if not field.value.strip():
                continue
            try:
                amount = parse_amount(field.value, invoice.currency, self.locale)
                if amount > invoice.balance:
                    raise AmountError(
                        f"That is more than the balance of {format_money(invoice.balance, self.locale)}"
                    )
            except AmountError as exc:
                field.focus()
                raise AmountError(f"{invoice.number}: {exc}") from None
            amounts.append((invoice, amount))
        if not amounts:
            raise AmountError("Enter an amount for at least one invoice.")
        return OfflinePlan(method, reference or "cash", tuple(amounts))

    def _question(self, plan: OfflinePlan) -> Text:
        currency = plan.amounts[0][1].currency
        text = Text()
        text.append(
            f"Record {METHOD_NAMES[plan.method]} {plan.reference} of "
            f"{format_money(plan.total(currency), self.locale)}",
            style="bold",
        )
        text.append(f" from {self.client.name}?\n")
        for invoice, amount in plan.amounts:
            text.append(f"  {invoice.number:<10} {format_money(amount, self.locale):>12}\n")
        return text

    @on(Button.Pressed, "#desk-offline-go")
    def _go(self) -> None:
        if self.plan is None:
            return
        for button in self.query("#desk-offline-go, #desk-offline-back").results(Button):
            button.disabled = True
        self._record(self.plan)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _record(self, plan: OfflinePlan) -> None:
        amounts = {invoice.invoice_id: amount for invoice, amount in plan.amounts}
        try:
            result = self.app.desk.record_offline_payment(
                self.staff, self.client.client_id, amounts, plan.method, plan.reference
            )
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.Recorded(result))

    @on(Recorded)
    def _recorded(self, event: Recorded) -> None:
        self.result = event.result
        text = Text()
        if event.result.succeeded:
            text.append(
                f"Recorded {format_money(event.result.total, self.locale)}.\n", style="bold"
            )
        else:
            text.append(f"Not recorded: {event.result.message or event.result.status}\n")
        for tx in event.result.transactions:
            text.append(f"  {tx.invoice_number:<10} {format_money(tx.amount, self.locale):>12}")
            text.append(f"  {tx.status}  {tx.reference or ''}\n")
        self._show_result(text)

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self._show_result(Text.assemble(("Not recorded: ", "bold"), event.message))

    WORKER_FAILED = "Not recorded: something went wrong. Check the payments list."

    def worker_failed(self, worker: Worker) -> None:
        if self.plan is not None:
            self._show_result(Text(self.WORKER_FAILED))

    def _show_result(self, text: Text) -> None:
        self.query_one("#desk-offline-outcome", Static).update(text)
        self.query_one("#desk-offline-steps", ContentSwitcher).current = "desk-offline-result"
        self.query_one("#desk-offline-done", Button).focus()

    @on(Button.Pressed, "#desk-offline-back")
    def _back_to_form(self) -> None:
        self.query_one("#desk-offline-steps", ContentSwitcher).current = "desk-offline-form"
        self.query_one("#desk-offline-record", Button).focus()

    @on(Button.Pressed, "#desk-offline-cancel")
    @on(Button.Pressed, "#desk-offline-done")
    def _leave(self) -> None:
        self.dismiss(self.result)

    def action_back(self) -> None:
        step = self.query_one("#desk-offline-steps", ContentSwitcher).current
        if step == "desk-offline-confirm":
            if not self.query_one("#desk-offline-go", Button).disabled:
                self._back_to_form()
        else:
            self.dismiss(self.result)
