"""Share one of a client's invoices: by email, through the Client Portal, as a text link
or a copied link. A link share shows its new payment code once."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Static
from textual.worker import Worker

from billing.errors import BillingError
from billing.values import ClientSummary, PayableInvoice, ShareResult, StaffSession
from models.money import format_money
from tui.screens import PaydeskScreen
from tui.screens.desk_common import fill_table, staff_title
from tui.widgets import RadioButton, RadioSet, ScreenTitle, TextField

# (channel, label, what the recipient field asks for or None when it has none)
CHANNELS = (
    ("email", "Email", "Email address"),
    ("portal", "Client Portal", None),
    ("text_link", "Text link", "Mobile number"),
    ("copied_link", "Copied link", None),
)


class DeskShareScreen(PaydeskScreen[None]):
    """Pick the invoice, the channel and (email, text) the recipient, then Share."""

    CSS_PATH = "desk_share.tcss"
    AUTO_FOCUS = "#desk-share-invoices"
    BINDINGS = [Binding("escape", "back", "Back", id="desk_share.back")]

    @dataclass
    class Loaded(Message):
        invoices: list[PayableInvoice]

    @dataclass
    class Shared(Message):
        result: ShareResult

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, staff: StaffSession, client: ClientSummary) -> None:
        super().__init__()
        self.staff = staff
        self.client = client
        self._invoices: dict[str, PayableInvoice] = {}

    @property
    def locale(self) -> str:
        firm = self.app.firm
        return firm.locale if firm is not None else "en_US"

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title(f"Share an invoice · {self.client.name}", self.staff))
        yield DataTable(cursor_type="row", zebra_stripes=True, id="desk-share-invoices")
        with Horizontal(id="desk-share-how"):
            with RadioSet(id="desk-share-channel"):
                for i, (channel, label, _ask) in enumerate(CHANNELS):
                    yield RadioButton(label, value=i == 0, name=channel)
            with Vertical(id="desk-share-to"):
                yield TextField(
                    self.client.email, placeholder="Email address", id="desk-share-recipient",
                    max_length=120,
                )
                with Horizontal(id="desk-share-buttons"):
                    yield Button("Share", variant="primary", id="desk-share-go")
                    yield Button("Back", id="desk-share-back")
        yield Static("", id="desk-share-outcome")
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> None:
        self.post_message(
            self.Loaded(self.app.desk.shareable_invoices(self.staff, self.client.client_id))
        )

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        self._invoices = {str(i.invoice_id): i for i in event.invoices}
        fill_table(
            self.query_one("#desk-share-invoices", DataTable),
            (("number", "Invoice", "left"), ("title", "Case", "left"),
             ("due", "Due", "left"), ("balance", "Balance", "right")),
            [
                (
                    str(i.invoice_id),
                    (i.number, i.case_title, i.due_date.isoformat(),
                     format_money(i.balance, self.locale)),
                )
                for i in event.invoices
            ],
        )
        if not event.invoices:
            self.query_one("#desk-share-outcome", Static).update(
                "This client has no invoice with a balance to share."
            )

    def selected_invoice(self) -> PayableInvoice | None:
        table = self.query_one("#desk-share-invoices", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._invoices.get(str(key.value))

    def channel(self) -> tuple[str, str, str | None]:
        index = self.query_one("#desk-share-channel", RadioSet).pressed_index
        return CHANNELS[max(index, 0)]

    @on(DataTable.RowSelected, "#desk-share-invoices")
    def _invoice_chosen(self) -> None:
        self.query_one("#desk-share-channel", RadioSet).focus()

    @on(RadioSet.Changed, "#desk-share-channel")
    def _channel_changed(self) -> None:
        channel, _label, ask = self.channel()
        field = self.query_one("#desk-share-recipient", Input)
        field.disabled = ask is None
        field.placeholder = ask or "No recipient needed"
        if channel == "email" and not field.value:
            field.value = self.client.email
        elif channel == "text_link" and "@" in field.value:
            field.value = ""

    @on(Input.Submitted, "#desk-share-recipient")
    @on(Button.Pressed, "#desk-share-go")
    def _share_pressed(self) -> None:
        invoice = self.selected_invoice()
        outcome = self.query_one("#desk-share-outcome", Static)
        if invoice is None:
            outcome.update("Choose an invoice to share.")
            return
        channel, label, ask = self.channel()
        recipient = self.query_one("#desk-share-recipient", Input).value.strip() or None
        if ask is not None and recipient is None:
            outcome.update(Text(f"Enter the {ask.lower()} to share {invoice.number} with."))
            self.query_one("#desk-share-recipient", Input).focus()
            return
        self.query_one("#desk-share-go", Button).disabled = True
        outcome.update(Text(f"Sharing {invoice.number} by {label.lower()}…"))
        self._share(invoice.invoice_id, channel, recipient if ask is not None else None)

    @work(thread=True, exclusive=True, exit_on_error=False, group="share")
    def _share(self, invoice_id: int, channel: str, recipient: str | None) -> None:
        try:
            result = self.app.desk.share_invoice(self.staff, invoice_id, channel, recipient)
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.Shared(result))

    @on(Shared)
    def _shared(self, event: Shared) -> None:
        self.query_one("#desk-share-go", Button).disabled = False
        result = event.result
        label = {c: name for c, name, _a in CHANNELS}.get(result.channel, result.channel)
        text = Text()
        text.append(f"{result.invoice_number} shared by {label.lower()}")
        if result.recipient:
            text.append(f" to {result.recipient}")
        text.append(".")
        if result.payment_code:
            text.append("\nPayment code: ")
            text.append(f" {result.payment_code} ", style="bold reverse")
            text.append("  (shown once: read it out or note it now)")
            if result.channel == "copied_link":
                self.app.copy_to_clipboard(result.payment_code)
                text.append("\nCopied to the clipboard.")
        self.query_one("#desk-share-outcome", Static).update(text)

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.query_one("#desk-share-go", Button).disabled = False
        self.query_one("#desk-share-outcome", Static).update(
            Text.assemble(("Not shared: ", "bold"), event.message)
        )

    def worker_failed(self, worker: Worker) -> None:
        self.query_one("#desk-share-go", Button).disabled = False

    @on(Button.Pressed, "#desk-share-back")
    def action_back(self) -> None:
        self.dismiss(None)
