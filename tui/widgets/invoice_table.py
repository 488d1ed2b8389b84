"""The payment page's table of invoices: one DataTable row per invoice (no widget per row,
so 2,000 invoices stay quick). The table only reports what the payer did; the screen
decides what it means."""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable


class InvoiceTable(DataTable):
    BINDINGS = [
        Binding("space", "toggle", "Tick", id="invoices.toggle"),
        Binding("enter", "edit", "Amount", id="invoices.edit"),
    ]

    @dataclass
    class Toggle(Message):
        """Tick or untick the invoice of this row."""

        row_key: str

    @dataclass
    class Edit(Message):
        """The payer wants to type the amount of this row."""

        row_key: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def current_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    def action_toggle(self) -> None:
        key = self.current_key()
        if key is not None:
            self.post_message(self.Toggle(key))

    def action_edit(self) -> None:
        key = self.current_key()
        if key is not None:
            self.post_message(self.Edit(key))

    async def _on_click(self, event: events.Click) -> None:
        # One click on a row ticks it (DataTable itself then moves the cursor there).
        meta = event.style.meta
        row = meta.get("row")
        if isinstance(row, int) and 0 <= row < self.row_count and meta.get("column", 0) >= 0:
            self.post_message(self.Toggle(self.ordered_rows[row].key.value))
