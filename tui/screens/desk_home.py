"""The front desk's home: find a client, take a payment for them, and the staff menu.

Dismisses with None when the staff member signs out; the app decides what comes next
(the sign-in screen again at the desk, the welcome screen at a kiosk).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from billing.errors import BillingError
from billing.values import ClientSummary, FirmInfo, Payer, StaffSession
from models.money import format_money
from tui.flow_values import FlowStep, StartPayment
from tui.screens import PaydeskScreen
from tui.screens.desk_common import fill_table, staff_title
from tui.widgets import ScreenTitle, TextField

# The email comes last: at 80 columns it is what may run off the right edge, and the
# status line under the table shows the highlighted client's email and every case.
COLUMNS = (
    ("name", "Client", "left"),
    ("cases", "Cases", "left"),
    ("open", "Open", "right"),
    ("balance", "Balance", "right"),
    ("email", "Email", "left"),
)


SETTINGS_NEED_ADMIN = "Settings need an administrator."


def _cases(numbers: tuple[str, ...]) -> str:
    """The first case number and how many more: a row stays one line at 80 columns."""
    if len(numbers) <= 1:
        return "".join(numbers)
    return f"{numbers[0]} +{len(numbers) - 1}"


NOT_FINISHED = "That did not finish and nothing was changed. Please try again."


class DeskHomeScreen(PaydeskScreen):
    """Find a client by name, email, case or invoice number; Enter pays for them."""

    CSS_PATH = "desk_home.tcss"
    AUTO_FOCUS = "#desk-home-search"
    BINDINGS = [
        Binding("f2", "payments", "Payments", id="desk_home.payments"),
        Binding("f3", "offline", "Offline", id="desk_home.offline"),
        Binding("f4", "share", "Share", id="desk_home.share"),
        Binding("f5", "audit", "Audit", id="desk_home.audit"),
        Binding("f6", "settings", "Settings", id="desk_home.settings"),
        # The same key for staff who are not administrators: not offered in the footer, but
        # pressing it says why nothing opens (check_action picks one of the two).
        Binding("f6", "settings_refused", show=False, id="desk_home.settings_refused"),
        Binding("f10", "sign_out", "Sign out", id="desk_home.sign_out"),
        Binding("down", "focus_results", "Results", show=False, id="desk_home.results"),
        Binding("escape", "focus_search", "Search", show=False, id="desk_home.search"),
    ]

    @dataclass
    class FirmLoaded(Message):
        firm: FirmInfo

    @dataclass
    class ClientsFound(Message):
        query: str
        clients: list[ClientSummary]

    @dataclass
    class PayerReady(Message):
        payer: Payer

    @dataclass
    class Failed(Message):
        message: str

    def __init__(self, staff: StaffSession) -> None:
        super().__init__()
        self.staff = staff
        self.firm: FirmInfo | None = None
        self._clients: dict[str, ClientSummary] = {}

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title("Front desk", self.staff), id="desk-home-title")
        yield TextField(
            placeholder="Find a client: name, email, case or invoice number",
            id="desk-home-search",
        )
        yield DataTable(cursor_type="row", zebra_stripes=True, id="desk-home-results")
        yield Static("", id="desk-home-status", markup=False)
        yield Static(
            "↓ to the list, Enter: take a payment for the client · Esc: back to the search",
            id="desk-home-help",
            markup=False,
        )
        yield Footer()

    def on_mount(self) -> None:
        self.firm = self.app.firm
        if self.firm is None:
            self._load_firm()
        self._search("")

    def on_screen_resume(self) -> None:
        # Back from a payment or a refund: balances may have changed.
        self.firm = self.app.firm or self.firm
        if self.is_mounted:
            self._search(self.query_one("#desk-home-search", Input).value.strip())

    # --- work ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="firm")
    def _load_firm(self) -> None:
        self.post_message(self.FirmLoaded(self.app.desk.firm()))

    @work(thread=True, exclusive=True, exit_on_error=False, group="search")
    def _search(self, query: str) -> None:
        clients = self.app.desk.find_clients(self.staff, query)
        if not get_current_worker().is_cancelled:
            self.post_message(self.ClientsFound(query, clients))

    @work(thread=True, exclusive=True, exit_on_error=False, group="payer")
    def _open_payer(self, client_id: int) -> None:
        try:
            payer = self.app.desk.payer_for_client(self.staff, client_id)
        except BillingError as exc:
            self.post_message(self.Failed(exc.message))
        else:
            self.post_message(self.PayerReady(payer))

    # --- results ---------------------------------------------------------------------

    @on(FirmLoaded)
    def _firm_loaded(self, event: FirmLoaded) -> None:
        self.firm = event.firm
        self.refresh_bindings()

    @on(ClientsFound)
    def _clients_found(self, event: ClientsFound) -> None:
        if event.query != self.query_one("#desk-home-search", Input).value.strip():
            return  # an older search finished after a newer one was typed
        self._clients = {str(c.client_id): c for c in event.clients}
        fill_table(
            self.query_one("#desk-home-results", DataTable),
            COLUMNS,
            [
                (
                    str(c.client_id),
                    (c.name, _cases(c.case_numbers), str(c.payable_count), self._money(c), c.email),
                )
                for c in event.clients
            ],
        )
        self._show_status()

    @on(DataTable.RowHighlighted, "#desk-home-results")
    def _show_status(self) -> None:
        """How many clients match, then the highlighted one's email and all their cases."""
        status = self.query_one("#desk-home-status", Static)
        query = self.query_one("#desk-home-search", Input).value.strip()
        if not self._clients:
            status.update(Text(f"No client matches “{query}”." if query else ""))
            return
        n = len(self._clients)
        text = f"{n} client{'s' if n != 1 else ''}"
        client = self.selected_client()
        if client is not None:
            noun = "case" if len(client.case_numbers) == 1 else "cases"
            text += f"\n{client.email} · {noun} {', '.join(client.case_numbers)}"
        status.update(Text(text))

    def _money(self, client: ClientSummary) -> str:
        locale = self.firm.locale if self.firm else "en_US"
        return format_money(client.balance, locale)

    @on(Input.Changed, "#desk-home-search")
    def _query_changed(self, event: Input.Changed) -> None:
        self._search(event.value.strip())

    @on(Input.Submitted, "#desk-home-search")
    def _query_submitted(self) -> None:
        self.action_focus_results()

    @on(DataTable.RowSelected, "#desk-home-results")
    def _client_chosen(self, event: DataTable.RowSelected) -> None:
        client = self._clients.get(str(event.row_key.value))
        if client is not None:
            self.query_one("#desk-home-status", Static).update(
                Text(f"Opening the payment page of {client.name}…")
            )
            self._open_payer(client.client_id)

    @on(PayerReady)
    def _payer_ready(self, event: PayerReady) -> None:
        self.post_message(FlowStep(StartPayment(event.payer)))

    @on(Failed)
    def _failed(self, event: Failed) -> None:
        self.query_one("#desk-home-status", Static).update(Text(event.message))
        self.notify(event.message, severity="error", markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        # The app's one handler says what went wrong (never the raw exception); the status
        # line only says that the last search or lookup did not finish.
        if event.state == WorkerState.ERROR:
            self.query_one("#desk-home-status", Static).update(NOT_FINISHED)

    # --- actions ---------------------------------------------------------------------

    def selected_client(self) -> ClientSummary | None:
        """The highlighted client of the results, if any."""
        table = self.query_one("#desk-home-results", DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return self._clients.get(str(key.value))

    def _need_client(self, what: str) -> ClientSummary | None:
        client = self.selected_client()
        if client is None:
            self.notify(f"Find and highlight a client first, then {what}.", severity="warning")
        return client

    def action_focus_results(self) -> None:
        table = self.query_one("#desk-home-results", DataTable)
        if table.row_count:
            table.focus()

    def action_focus_search(self) -> None:
        self.query_one("#desk-home-search", Input).focus()

    def action_payments(self) -> None:
        from tui.screens.desk_payments import DeskPaymentsScreen

        self.app.push_screen(DeskPaymentsScreen(self.staff))

    def action_offline(self) -> None:
        client = self._need_client("record an offline payment")
        if client is not None:
            from tui.screens.desk_offline import DeskOfflineScreen

            self.app.push_screen(DeskOfflineScreen(self.staff, client))

    def action_share(self) -> None:
        client = self._need_client("share an invoice")
        if client is not None:
            from tui.screens.desk_share import DeskShareScreen

            self.app.push_screen(DeskShareScreen(self.staff, client))

    def action_audit(self) -> None:
        from tui.screens.desk_audit import DeskAuditScreen

        self.app.push_screen(DeskAuditScreen(self.staff))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Front-desk staff do not even see the settings key; pressing it tells them why.
        if action == "settings":
            return self.staff.is_admin
        if action == "settings_refused":
            return not self.staff.is_admin
        return True

    def action_settings_refused(self) -> None:
        self.notify(SETTINGS_NEED_ADMIN, severity="warning", markup=False)

    def action_settings(self) -> None:
        if not self.staff.is_admin:
            self.action_settings_refused()
            return
        from tui.screens.desk_settings import DeskSettingsScreen

        self.app.push_screen(DeskSettingsScreen(self.staff))

    def action_sign_out(self) -> None:
        app = self.app
        self.dismiss(None)
        # Nobody waits for this screen's result at a desk: show the sign-in again rather
        # than an empty screen.
        reopen = getattr(app, "open_staff_screens", None)
        if callable(reopen) and not getattr(app, "is_kiosk", False):
            app.call_after_refresh(lambda: len(app.screen_stack) <= 1 and reopen())
