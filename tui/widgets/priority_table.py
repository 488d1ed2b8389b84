"""A table whose columns have priorities: it shows the most important columns that fit its
width, each as wide as its longest value, and leaves out the less important ones whole. A value is never
cut: either all of it shows or its column is not there. The columns are worked out again
whenever the table's width changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.widgets import DataTable


@dataclass(frozen=True)
class PriorityColumn:
    """One column: `priority` 1 is the most important (the last to be left out)."""

    key: str
    label: str
    priority: int
    justify: str = "left"


def columns_that_fit(widths: Sequence[int], priorities: Sequence[int], available: int,
                     padding: int) -> list[int]:
    """The indexes, in their own order, of the columns shown in `available` cells: the
    most important ones, in priority order, up to the first that no longer fits (with
    `padding` cells on each side). So every column left out is less important than every
    column shown."""
    chosen: list[int] = []
    left = available
    for index in sorted(range(len(widths)), key=lambda i: (priorities[i], i)):
        need = widths[index] + 2 * padding
        if need > left:
            break
        chosen.append(index)
        left -= need
    return sorted(chosen)

class PriorityTable(DataTable):
    """A DataTable filled with `show(columns, rows)`: rows are (key, cells) of plain text,
    shown literally (never read as markup)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._columns: tuple[PriorityColumn, ...] = ()
        self._rows: tuple[tuple[str, tuple[str, ...]], ...] = ()
        self._shown: list[int] | None = None

    @property
    def shown_keys(self) -> list[str]:
        """The keys of the columns on screen, left to right."""
        return [self._columns[i].key for i in self._shown or ()]

    def show(self, columns: Sequence[PriorityColumn],
             rows: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Replace the columns and rows, keeping the cursor on the same row key when it is
        still there."""
        self._columns = tuple(columns)
        self._rows = tuple((key, tuple(cells)) for key, cells in rows)
        self._rebuild()

    def _widths(self) -> list[int]:
        return [
            max([cell_len(col.label), *(cell_len(cells[i]) for _k, cells in self._rows)])
            for i, col in enumerate(self._columns)
        ]

    def _fit(self) -> list[int]:
        widths = self._widths()
        if self.size.width <= 0:  # not laid out yet: the first Resize fits it
            return list(range(len(widths)))
        # Room is kept for the vertical scrollbar, so a long list never pushes a column out.
        available = self.size.width - self.styles.scrollbar_size_vertical
        return columns_that_fit(widths, [c.priority for c in self._columns], available,
                                self.cell_padding)

    def _rebuild(self) -> None:
        previous = None
        if self.row_count:
            previous = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        self._shown = self._fit()
        widths = self._widths()
        self.clear(columns=True)
        for index in self._shown:
            column = self._columns[index]
            self.add_column(column.label, width=widths[index], key=column.key)
        for key, cells in self._rows:
            self.add_row(
                *(Text(cells[i], justify=self._columns[i].justify) for i in self._shown),
                key=key,
            )
        keys = [key for key, _cells in self._rows]
        if previous in keys:
            self.move_cursor(row=keys.index(previous), animate=False)

    def on_resize(self, event: events.Resize) -> None:
        if self._columns and self._fit() != self._shown:
            self._rebuild()
