"""Small pieces the front-desk screens share: their title, how a time is shown, and
filling a table with text from the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.dates import format_datetime
from rich.cells import cell_len
from rich.text import Text
from textual.widgets import DataTable

from billing.localtime import firm_zone
from billing.values import FirmInfo, StaffSession

# (key, label, justify) of one column
Column = tuple[str, str, str]


def staff_title(where: str, staff: StaffSession) -> str:
    """The title of a front-desk screen: where we are and who is signed in."""
    return f"{where}  ·  {staff.name} ({'admin' if staff.is_admin else 'front desk'})"


def when_text(at: dt.datetime, *, short: bool = False, firm: FirmInfo | None = None) -> str:
    """A timestamp (naive UTC, as stored) as staff read it, in the firm's time zone and
    locale ("2026-10-14 09:12", short "Oct 14 09:12"); without `firm`, UTC."""
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    zone = firm_zone(firm.time_zone) if firm is not None else dt.UTC
    pattern = "MMM dd HH:mm" if short else "yyyy-MM-dd HH:mm"
    return format_datetime(aware, pattern, tzinfo=zone,
                           locale=firm.locale if firm is not None else "en_US")


def fill_table(
    table: DataTable, columns: Sequence[Column], rows: Sequence[tuple[str, Sequence[str]]]
) -> None:
    """Replace the table's rows, keeping the cursor on the same row key when it is still
    there. Cells are shown literally (never read as markup). Column widths are computed
    here from the text: DataTable's own measuring can leave rows drawn at stale widths
    when it renders between adding rows and measuring them."""
    previous = None
    if table.row_count:
        previous = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear(columns=True)
    for index, (key, label, _justify) in enumerate(columns):
        width = max([cell_len(label), *(cell_len(cells[index]) for _k, cells in rows)])
        table.add_column(label, width=width, key=key)
    for key, cells in rows:
        table.add_row(
            *(Text(cell, justify=col[2]) for cell, col in zip(cells, columns, strict=True)),
            key=key,
        )
    keys = [key for key, _cells in rows]
    if previous in keys:
        table.move_cursor(row=keys.index(previous), animate=False)
