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
from tui.screens import PaydeskScreen
from tui.screens.desk_common import fill_table, staff_title, when_text
from tui.widgets import ScreenTitle

PAGE = 200


class DeskAuditScreen(PaydeskScreen):
    """Read-only. The highlighted entry's details show below the table."""

    CSS_PATH = "desk_audit.tcss"
    AUTO_FOCUS = "#desk-audit-table"
    BINDINGS = [
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

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title("Audit log", self.staff))
        yield DataTable(cursor_type="row", zebra_stripes=True, id="desk-audit-table")
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
        fill_table(
            self.query_one("#desk-audit-table", DataTable),
            (("when", "When", "left"), ("actor", "Who", "left"), ("action", "Action", "left"),
             ("subject", "Subject", "left"), ("result", "Result", "left"),
             ("terminal", "Terminal", "left")),
            [
                (str(n), (when_text(r.at, short=True), r.actor, r.action, r.subject, r.result, r.terminal))
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
        detail.update(
            Text(
                f"{when_text(row.at)} · {row.terminal} · {row.action} · {row.subject}: "
                f"{row.details or '—'}"
            )
        )

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.query_one("#desk-audit-detail", Static).update(
                Text("Could not load the audit log. Please try again.")
            )

    def action_back(self) -> None:
        self.dismiss(None)
