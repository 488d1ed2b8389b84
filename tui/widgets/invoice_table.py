"""The payment page's table of invoices: one DataTable row per invoice (no widget per row,
so 2,000 invoices stay quick). The table only reports what the payer did; the screen
decides what it means.

A long list is filled a screenful first, then in batches, each after the screen has been
drawn: the page shows at once, and keys typed meanwhile wait for one batch at most. A
row's cells are made when the row is added, so a row ticked or typed into before then
shows what it holds at that moment."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

# Rows added per batch after the first screenful: a few milliseconds of work (making and
# measuring the cells, drawing the table again), so a key waits little behind a batch.
BATCH_ROWS = 50
# While the payer types or moves around, batches wait this long after their last key.
QUIET_SECONDS = 0.3


def _width(cell: object) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(str(cell))


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
        # Set before DataTable's own set-up, which may clear the table.
        self._pending: list[str] = []
        self._cells: Callable[[str], Sequence[Text]] = lambda key: ()
        self._fill_id = 0
        self._quiet_until = 0.0
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    # --- filling ------------------------------------------------------------------------

    def fill(self, keys: Sequence[str], cells: Callable[[str], Sequence[Text]], *,
             first: int, keep: str | None = None) -> None:
        """Show the rows of `keys` in this order, `cells(key)` making a row's cells when it
        is added: the first `first` rows (and those down to `keep`, which gets the cursor)
        now, the rest in batches."""
        self.clear()
        self._pending = list(keys)
        self._cells = cells
        upto = first
        if keep is not None and keep in self._pending:
            upto = max(upto, self._pending.index(keep) + first)
        self._add(upto)
        self._measure_new_rows()
        if keep is not None and keep in self.rows:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        if self._pending:
            self.call_after_refresh(self._add_batch, self._fill_id)

    def hold_batches(self) -> None:
        """The payer is busy (typing, moving, ticking): the next batches wait a little, so
        that what they do is drawn first."""
        self._quiet_until = time.monotonic() + QUIET_SECONDS

    def _add_batch(self, fill_id: int) -> None:
        if fill_id != self._fill_id:
            return  # the table was cleared or filled again since
        wait = self._quiet_until - time.monotonic()
        if wait > 0:
            self.set_timer(wait, lambda: self._add_batch(fill_id))
            return
        self._add(BATCH_ROWS)
        if self._pending:
            self.call_after_refresh(self._add_batch, fill_id)

    def _add(self, count: int) -> None:
        batch, self._pending = self._pending[:count], self._pending[count:]
        for key in batch:
            self.add_row(*self._cells(key), key=key)

    def _measure_new_rows(self) -> None:
        # DataTable (8.2.8, pinned in requirements.lock) measures new rows when it is next
        # idle, after a frame has been drawn without them; the first screenful is measured
        # now, so that the next frame already shows it.
        new_rows = self._new_rows.copy()
        self._new_rows.clear()
        self._require_update_dimensions = bool(self._updated_cells)
        self._update_dimensions(new_rows)

    def finish(self) -> None:
        """Add every row still waiting, now: for what needs the whole list."""
        self._add(len(self._pending))

    @property
    def filling(self) -> bool:
        """Rows are still waiting to be added."""
        return bool(self._pending)

    def has_row(self, key: str) -> bool:
        return key in self.rows

    def clear(self, columns: bool = False) -> InvoiceTable:
        self._pending = []
        self._fill_id += 1
        return super().clear(columns)

    def set_cells(self, key: str, cells: Mapping[str, Text]) -> None:
        """Change cells of the row `key` (column key -> cell) and draw that row again.

        DataTable.update_cell counts any change as a change of the whole table: every
        visible row is drawn again and the places of all rows are worked out again, and
        with `update_width` the whole column is measured: on a page of 2,000 invoices that
        is what made typing an amount slow. Here only this row's drawings are forgotten.
        A cell wider than its column, or one that made its column wider than its header
        and is now narrower (the column may narrow again), goes DataTable's way."""
        row_key = RowKey(key)
        data = self._data[row_key]
        for column, cell in cells.items():
            col = self.columns[ColumnKey(column)]
            old, new = _width(data[ColumnKey(column)]), _width(cell)
            if new > col.content_width or new < old == col.content_width > col.label.cell_len:
                for name, value in cells.items():
                    self.update_cell(key, name, value, update_width=True)
                return
        for column, cell in cells.items():
            data[ColumnKey(column)] = cell
        self._forget_drawings(row_key)
        self.refresh_row(self.get_row_index(row_key))

    def _forget_drawings(self, row_key: RowKey) -> None:
        # Textual's DataTable caches (pinned in requirements.lock): its row and cell caches
        # are keyed by row key first; its line cache by screen line, so all of it goes
        # (lines are joined again from the cached rows, which is cheap).
        for cache in (self._row_render_cache, self._cell_render_cache):
            for cache_key in [k for k in cache.keys() if k[0] == row_key]:
                cache.discard(cache_key)
        self._row_renderable_cache.discard((self._update_count, self.get_row_index(row_key)))
        self._line_cache.clear()

    # --- what the payer does ------------------------------------------------------------

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

    def on_key(self, event: events.Key) -> None:
        self.hold_batches()  # the payer is moving around the list

    async def _on_click(self, event: events.Click) -> None:
        # One click on a row ticks it (DataTable itself then moves the cursor there).
        meta = event.style.meta
        row = meta.get("row")
        if isinstance(row, int) and 0 <= row < self.row_count and meta.get("column", 0) >= 0:
            self.post_message(self.Toggle(self.ordered_rows[row].key.value))
