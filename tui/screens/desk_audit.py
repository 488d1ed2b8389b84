"""The audit log, newest first: who did what, when, with what result, from which terminal."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState

from billing.values import AuditRow, StaffSession
from models.money import format_money
from tui.screens import PaydeskScreen
from tui.screens.desk_common import staff_title, when_text
from tui.widgets import ScreenTitle
from tui.widgets.priority_table import PriorityColumn, PriorityTable

PAGE = 200
# Where the table is narrow, the columns of priority 1, 2, ... are kept first: when, what
# was done, to what, how it ended, how much, who, where. The detail line shows them all.
COLUMNS = (
    PriorityColumn("when", "When", 1),
    PriorityColumn("who", "Who", 6),
    PriorityColumn("action", "Action", 2),
    PriorityColumn("subject", "Subject", 3),
    PriorityColumn("amount", "Amount", 5, "right"),
    PriorityColumn("result", "Result", 4),
    PriorityColumn("terminal", "Terminal", 7),
)


class DeskAuditScreen(PaydeskScreen):
    """Read-only. The highlighted entry's details show below the table, in words; d (or
    Enter) shows the raw values as stored, and back."""

    CSS_PATH = "desk_audit.tcss"
    AUTO_FOCUS = "#desk-audit-table"
    BINDINGS = [
        Binding("d", "raw", "Raw values", id="desk_audit.raw"),
        Binding("m", "more", "More", id="desk_audit.more"),
        Binding("f5", "reload", "Reload", id="desk_audit.reload"),
        Binding("escape", "back", "Back", id="desk_audit.back"),
    ]

    @dataclass
    class Loaded(Message):
        rows: list[AuditRow]
        offset: int

    def __init__(self, staff: StaffSession) -> None:
        super().__init__()
        self.staff = staff
        self.rows: list[AuditRow] = []
        self._complete = False
        self.raw = False

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title("Audit log", self.staff))
        yield PriorityTable(cursor_type="row", zebra_stripes=True, id="desk-audit-table")
        yield Static("", id="desk-audit-detail", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, offset: int) -> None:
        rows = self.app.desk.audit_log(self.staff, limit=PAGE, offset=offset)
        self.post_message(self.Loaded(rows, offset))

    def action_reload(self) -> None:
        self._load(0)

    def action_more(self) -> None:
        if self._complete:
            self.notify("That is the whole log.")
        else:
            self._load(len(self.rows))

    @on(Loaded)
    def _loaded(self, event: Loaded) -> None:
        if event.offset == 0:
            self.rows = []
        self._complete = len(event.rows) < PAGE
        self.rows.extend(event.rows)
        self.query_one("#desk-audit-table", PriorityTable).show(
            COLUMNS,
            [
                (str(n), (when_text(r.at, short=True, firm=self.app.firm), r.who or r.actor,
                          r.what or r.action,
                          r.subject_name or r.subject, self._money(r), r.result, r.terminal))
                for n, r in enumerate(self.rows)
            ],
        )
        self._show_detail()

    @on(DataTable.RowHighlighted, "#desk-audit-table")
    def _show_detail(self) -> None:
        table = self.query_one("#desk-audit-table", DataTable)
        detail = self.query_one("#desk-audit-detail", Static)
        if not self.rows:
            detail.update("The audit log is empty.")
            return
        row = self.rows[min(table.cursor_row, len(self.rows) - 1)]
        if self.raw:
            text = (f"{row.at:%Y-%m-%d %H:%M:%S} UTC actor={row.actor} action={row.action} "
                    f"subject={row.subject} result={row.result} terminal={row.terminal}\n"
                    f"details={row.details or '—'}")
        else:
            text = (f"{when_text(row.at, firm=self.app.firm)} · {row.terminal} · "
                    f"{row.who or row.actor} · "
                    f"{row.what or row.action} · {row.subject_name or row.subject}: "
                    f"{row.summary or row.details or '—'}")
        detail.update(Text(text))

    def _money(self, row: AuditRow) -> str:
        if row.amount is None:
            return ""
        return format_money(row.amount, self.app.firm.locale)

    @on(DataTable.RowSelected, "#desk-audit-table")
    def action_raw(self) -> None:
        """The highlighted entry's raw values (ids, minor units), or back to words."""
        self.raw = not self.raw
        self.query_one("#desk-audit-detail", Static).set_class(self.raw, "raw")
        self._show_detail()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one("#desk-audit-detail", Static).update(
                Text("Could not load the audit log. Please try again.")
            )

    def action_back(self) -> None:
        self.dismiss(None)
