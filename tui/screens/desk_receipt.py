"""A receipt as plain text, with keys to print it (save the text) or save it as a PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static

from billing.errors import BillingError
from tui.screens import PaydeskModal


class DeskReceiptScreen(PaydeskModal[None]):
    """Shows `text` literally; p saves it as text, s as PDF (in the downloads folder)."""

    CSS_PATH = "desk_receipt.tcss"
    BINDINGS = [
        Binding("p", "print", "Print (text)", id="desk_receipt.print"),
        Binding("s", "save_pdf", "Save PDF", id="desk_receipt.save_pdf"),
        Binding("escape", "close", "Close", id="desk_receipt.close"),
    ]

    @dataclass
    class PdfReady(Message):
        data: bytes

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, reference: str, text: str) -> None:
        super().__init__()
        self.reference = reference
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="desk-receipt-box") as box:
            box.border_title = f"Receipt {self.reference}"
            with VerticalScroll(id="desk-receipt-scroll"):
                yield Static(self.text, id="desk-receipt-text", markup=False)
            with Horizontal(id="desk-receipt-buttons"):
                yield Button("Print", id="desk-receipt-print")
                yield Button("Save PDF", id="desk-receipt-pdf")
                yield Button("Close", variant="primary", id="desk-receipt-close")

    def on_mount(self) -> None:
        self.query_one("#desk-receipt-close", Button).focus()

    @on(Button.Pressed, "#desk-receipt-print")
    def action_print(self) -> None:
        name = f"receipt-{self.reference}.txt"
        self.app.deliver_text(io.StringIO(self.text), save_filename=name)

    @on(Button.Pressed, "#desk-receipt-pdf")
    def action_save_pdf(self) -> None:
        self._pdf()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _pdf(self) -> None:
        try:
            data = self.app.desk.receipt_pdf(self.reference)
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.PdfReady(data))

    @on(PdfReady)
    def _pdf_ready(self, event: PdfReady) -> None:
        self.app.deliver_binary(
            io.BytesIO(event.data),
            save_filename=f"receipt-{self.reference}.pdf",
            mime_type="application/pdf",
        )

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.notify(event.message, severity="error", markup=False)

    @on(Button.Pressed, "#desk-receipt-close")
    def action_close(self) -> None:
        self.dismiss(None)
