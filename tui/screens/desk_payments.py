"""The staff payments list: filter by client, status and text; refund a payment or its
whole checkout; view and print a receipt."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from billing.errors import BillingError
from billing.values import ClientSummary, PaymentRow, RefundResult, StaffSession
from models.money import format_money
from tui.screens import PaydeskScreen
from tui.screens.desk_common import staff_title, when_text
from tui.widgets import ScreenTitle, TextField
from tui.widgets.priority_table import PriorityColumn, PriorityTable

STATUSES = (
    ("Any status", ""),
    ("Captured", "captured"),
    ("Recorded (offline)", "recorded"),
    ("Bank payment pending", "processing"),
    ("Verifying", "verifying"),
    ("Declined", "declined"),
    ("Failed", "failed"),
    ("Cancelled", "cancelled"),
)
REFUNDABLE_STATUSES = ("captured", "recorded")
# Where the table is narrow, the columns of priority 1, 2, ... are kept, up to the first
# that does not fit: which invoice, how much, what happened, the receipt (the number a
# caller quotes), whose, the card. The detail line below shows them all, and refunds show
# in the status too ("part refunded").
COLUMNS = (
    PriorityColumn("when", "When", 7),
    PriorityColumn("client", "Client", 5),
    PriorityColumn("invoice", "Invoice", 1),
    PriorityColumn("amount", "Amount", 2, "right"),
    PriorityColumn("status", "Status", 3),
    PriorityColumn("refunded", "Refunded", 8, "right"),
    PriorityColumn("card", "Paid with", 6),
    PriorityColumn("receipt", "Receipt", 4),
)


def status_text(row: PaymentRow) -> str:
    if row.disputed:  # before all else: the invoice may be owed again
        return "disputed"
    if row.charged_back:
        return "charged back"
    if row.refunded.minor and row.refundable.minor <= 0:
        return "refunded"
    if row.refunded.minor:
        return "part refunded"
    if row.status in ("declined", "failed") and row.failure_code:
        # "declined (insufficient funds)": the processor's code, short enough for the column.
        return f"{row.status} ({row.failure_code.replace('_', ' ')})"
    if row.method == "bank_debit" and row.status == "processing":
        return "bank payment pending"  # held until it settles, in a few business days
    return row.status


class DeskPaymentsScreen(PaydeskScreen):
    """Newest payments first; Enter or r refunds the highlighted one."""

    CSS_PATH = "desk_payments.tcss"
    AUTO_FOCUS = "#desk-payments-table"
    BINDINGS = [
        Binding("r", "refund", "Refund", id="desk_payments.refund"),
        Binding("c", "refund_checkout", "Refund checkout", id="desk_payments.refund_checkout"),
        Binding("v", "receipt", "Receipt", id="desk_payments.receipt"),
        Binding("f5", "reload", "Reload", id="desk_payments.reload"),
        Binding("escape", "back", "Back", id="desk_payments.back"),
    ]

    @dataclass
    class ClientsLoaded(Message):
        clients: list[ClientSummary]

    @dataclass
    class Loaded(Message):
        rows: list[PaymentRow]

    @dataclass
    class CheckoutLoaded(Message):
        rows: list[PaymentRow]

    @dataclass
    class ReceiptLoaded(Message):
        reference: str
        text: str

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, staff: StaffSession, *, client_id: int | None = None) -> None:
        super().__init__()
        self.staff = staff
        self._client_id = client_id
        self._rows: dict[str, PaymentRow] = {}

    @property
    def locale(self) -> str:
        firm = self.app.firm
        return firm.locale if firm is not None else "en_US"

    def _money(self, money) -> str:
        return format_money(money, self.locale)

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title("Payments", self.staff))
        with Horizontal(id="desk-payments-filters"):
            yield Select(
                [], prompt="All clients", id="desk-payments-client", compact=True
            )
            yield Select(
                STATUSES, value="", allow_blank=False, id="desk-payments-status", compact=True
            )
            yield TextField(
                placeholder="Invoice, card, receipt…", id="desk-payments-text", compact=True
            )
        yield PriorityTable(cursor_type="row", zebra_stripes=True, id="desk-payments-table")
        yield Static("", id="desk-payments-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._load_clients()
        self.action_reload()

    # --- work ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="clients")
    def _load_clients(self) -> None:
        self.post_message(self.ClientsLoaded(self.app.desk.find_clients(self.staff, "", 500)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="payments")
    def _load(self, client_id: int | None, status: str, text: str) -> None:
        rows = self.app.desk.payments(
            self.staff, client_id=client_id, status=status or None, text=text
        )
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows))

    @work(thread=True, exclusive=True, exit_on_error=False, group="checkout")
    def _load_checkout(self, checkout_id: int) -> None:
        self.post_message(
            self.CheckoutLoaded(self.app.desk.payments(self.staff, checkout_id=checkout_id))
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt")
    def _load_receipt(self, reference: str) -> None:
        try:
            text = self.app.desk.receipt_text(reference)
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.ReceiptLoaded(reference, text))

    # --- filters and rows ------------------------------------------------------------

    def _filters(self) -> tuple[int | None, str, str]:
        client = self.query_one("#desk-payments-client", Select).value
        status = self.query_one("#desk-payments-status", Select).value
        text = self.query_one("#desk-payments-text", Input).value.strip()
        return (
            client if isinstance(client, int) else None,
            status if isinstance(status, str) else "",
            text,
        )

    @on(ClientsLoaded)
    def _clients_loaded(self, event: ClientsLoaded) -> None:
        select = self.query_one("#desk-payments-client", Select)
        select.set_options((Text(c.name), c.client_id) for c in event.clients)
        if self._client_id is not None:
            select.value = self._client_id

    @on(Select.Changed)
    @on(Input.Changed, "#desk-payments-text")
    def action_reload(self) -> None:
        self._load(*self._filters())

    @on(Input.Submitted, "#desk-payments-text")
    def _text_submitted(self) -> None:
        self.query_one("#desk-payments-table", DataTable).focus()

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self._rows = {str(row.invoice_payment_id): row for row in event.rows}
        money = self._money
        self.query_one("#desk-payments-table", PriorityTable).show(
            COLUMNS,
            [
                (
                    str(row.invoice_payment_id),
                    (
                        when_text(row.at, short=True, firm=self.app.firm), row.client_name,
                        row.invoice_number,
                        money(row.amount), status_text(row),
                        money(row.refunded) if row.refunded.minor else "",
                        row.card, row.reference or "",
                    ),
                )
                for row in event.rows
            ],
        )
        if not event.rows:
            self.query_one("#desk-payments-detail", Static).update("No payments match.")
        else:
            self._show_detail()

    @on(DataTable.RowHighlighted, "#desk-payments-table")
    def _show_detail(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        # A narrow table leaves out its least important columns (the time, refunded, the
        # card, the client): this detail shows all of them, in short lines.
        lines = [
            f"{when_text(row.at, firm=self.app.firm)} · {row.client_name} · {row.invoice_number} "
            f"({row.case_number}) · checkout {row.checkout_id}",
            f"{row.card} · receipt {row.reference or '—'}",
        ]
        money = []
        if row.refunded.minor:
            money.append(f"refunded {self._money(row.refunded)}")
        if row.refundable.minor > 0 and row.status in REFUNDABLE_STATUSES:
            money.append(f"{self._money(row.refundable)} can still be refunded")
        if money:
            lines.append(" · ".join(money))
        if row.disputed:
            lines.append("Disputed by the cardholder's bank: answer it in the Stripe Dashboard")
        if row.status in ("declined", "failed"):
            reason = row.failure_message or "no reason was given"
            # A bank's return reason already names its code ("ACH return R03").
            code = (f" ({row.failure_code})"
                    if row.failure_code and row.failure_code not in reason else "")
            lines.append(f"{row.status.capitalize()}: {reason}{code}")
        self.query_one("#desk-payments-detail", Static).update(Text("\n".join(lines)))

    @on(DataTable.RowSelected, "#desk-payments-table")
    def _row_chosen(self) -> None:
        self.action_refund()

    def selected_row(self) -> PaymentRow | None:
        """The highlighted payment, if any."""
        table = self.query_one("#desk-payments-table", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._rows.get(str(key.value))

    # --- actions ---------------------------------------------------------------------

    def _refundable_row(self) -> PaymentRow | None:
        row = self.selected_row()
        if row is None:
            self.notify("Highlight a payment first.", severity="warning")
            return None
        if row.status not in REFUNDABLE_STATUSES or row.refundable.minor <= 0:
            self.notify(
                f"{row.invoice_number}: nothing left to refund ({status_text(row)}).",
                severity="warning",
                markup=False,
            )
            return None
        return row

    def action_refund(self) -> None:
        row = self._refundable_row()
        if row is not None:
            from tui.screens.desk_refund import DeskRefundScreen

            self.app.push_screen(
                DeskRefundScreen(self.staff, [row], locale=self.locale), self._refunded
            )

    def action_refund_checkout(self) -> None:
        row = self._refundable_row()
        if row is not None:
            self._load_checkout(row.checkout_id)

    @on(CheckoutLoaded)
    def _checkout_loaded(self, event: CheckoutLoaded) -> None:
        from tui.screens.desk_refund import DeskRefundScreen

        rows = [
            r for r in event.rows if r.status in REFUNDABLE_STATUSES and r.refundable.minor > 0
        ]
        if not rows:
            self.notify("Nothing left to refund in that checkout.", severity="warning")
            return
        self.app.push_screen(
            DeskRefundScreen(self.staff, rows, whole_checkout=True, locale=self.locale),
            self._refunded,
        )

    def _refunded(self, results: list[RefundResult] | None) -> None:
        if results:
            self.action_reload()

    def action_receipt(self) -> None:
        row = self.selected_row()
        if row is None or not row.reference:
            self.notify("That payment has no receipt.", severity="warning")
            return
        self._load_receipt(row.reference)

    @on(ReceiptLoaded)
    def _receipt_loaded(self, event: ReceiptLoaded) -> None:
        from tui.screens.desk_receipt import DeskReceiptScreen

        self.app.push_screen(DeskReceiptScreen(event.reference, event.text))

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.notify(event.message, severity="error", markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one("#desk-payments-detail", Static).update(
                Text("Could not load that. Please try again.")
            )

    def action_back(self) -> None:
        self.dismiss(None)
