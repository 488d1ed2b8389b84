"""Firm settings for admins: online payments, multi-invoice payments and bank debits, on or
off.

Front-desk staff never get here (the home screen hides the key); should they anyway, the
screen shows no switch, and billing refuses the change (NotAllowed)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Label, Static
from textual.worker import Worker

from billing.errors import BillingError
from billing.values import FirmInfo, StaffSession
from tui.screens import PaydeskScreen
from tui.screens.desk_common import staff_title
from tui.widgets import ScreenTitle, Switch

SWITCHES = (
    ("online", "Online payments", "Clients can pay by card at the kiosk, by link or by phone."),
    ("multi_invoice", "Multi-invoice payments",
     "Several invoices in one payment (off: one invoice per payment)."),
    ("bank_debits", "Bank debits",
     "Clients can pay by debit from a US bank account (ACH), one debit per invoice."),
)


class DeskSettingsScreen(PaydeskScreen[None]):
    CSS_PATH = "desk_settings.tcss"
    AUTO_FOCUS = "#desk-settings-online"
    BINDINGS = [
        Binding("o", "toggle('online')", "Online payments", id="desk_settings.online"),
        Binding("m", "toggle('multi_invoice')", "Multi-invoice", id="desk_settings.multi"),
        Binding("b", "toggle('bank_debits')", "Bank debits", id="desk_settings.bank"),
        Binding("escape", "back", "Back", id="desk_settings.back"),
    ]

    @dataclass
    class FirmLoaded(Message):
        firm: FirmInfo
        changed: str | None = None

    @dataclass
    class Refused(Message):
        message: str

    def __init__(self, staff: StaffSession) -> None:
        super().__init__()
        self.staff = staff
        self.firm: FirmInfo | None = None
        self._busy = False

    def compose(self) -> ComposeResult:
        yield ScreenTitle(staff_title("Firm settings", self.staff))
        with Vertical(id="desk-settings-body"):
            if not self.staff.is_admin:
                yield Static(
                    "Only an admin can change the firm's settings.", id="desk-settings-refused"
                )
            else:
                for key, label, help_text in SWITCHES:
                    with Horizontal(classes="desk-settings-row"):
                        yield Switch(id=f"desk-settings-{key.replace('_', '-')}", disabled=True)
                        with Vertical(classes="desk-settings-text"):
                            yield Label(label, classes="desk-settings-label")
                            yield Static(help_text, classes="desk-settings-help")
            yield Static("", id="desk-settings-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.staff.is_admin:
            self._load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle" and not self.staff.is_admin:
            return False
        return True

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        self.post_message(self.FirmLoaded(self.app.desk.firm()))

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _set(self, key: str, value: bool) -> None:
        try:
            if key == "bank_debits":  # its own switch in billing (audited there)
                self.app.desk.set_bank_debits(self.staff, value)
                firm = self.app.desk.firm()
            else:
                firm = self.app.desk.set_firm_switches(self.staff, **{key: value})
        except BillingError as exc:
            self.post_message(self.Refused(exc.message))
        else:
            self.post_message(self.FirmLoaded(firm, key))

    def _switch(self, key: str) -> Switch:
        return self.query_one(f"#desk-settings-{key.replace('_', '-')}", Switch)

    @staticmethod
    def _value(firm: FirmInfo, key: str) -> bool:
        return {"online": firm.online_payments_enabled,
                "multi_invoice": firm.multi_invoice_payments_enabled,
                "bank_debits": firm.bank_debits_enabled}[key]

    @on(FirmLoaded)
    def _firm_loaded(self, event: FirmLoaded) -> None:
        self.firm = event.firm
        self._busy = False
        if hasattr(self.app, "firm") and event.changed is not None:
            self.app.firm = event.firm  # the payment page reads the switches from the app
        for key, _label, _help in SWITCHES:
            switch = self._switch(key)
            with switch.prevent(Switch.Changed):
                switch.value = self._value(event.firm, key)
            switch.disabled = False
        if event.changed is not None:
            label = dict((k, label) for k, label, _h in SWITCHES)[event.changed]
            state = "on" if self._value(event.firm, event.changed) else "off"
            self.query_one("#desk-settings-status", Static).update(
                Text(f"{label} are now {state} (recorded in the audit log).")
            )

    @on(Switch.Changed)
    def _switch_changed(self, event: Switch.Changed) -> None:
        key = (event.switch.id or "").removeprefix("desk-settings-").replace("-", "_")
        self._request(key, event.value)

    def action_toggle(self, key: str) -> None:
        if self.firm is not None and not self._busy:
            self._request(key, not self._value(self.firm, key))

    def _request(self, key: str, value: bool) -> None:
        if self.firm is None or self._busy:
            return
        self._busy = True
        for k, _label, _help in SWITCHES:
            self._switch(k).disabled = True
        self.query_one("#desk-settings-status", Static).update("Saving…")
        self._set(key, value)

    @on(Refused)
    def _refused(self, event: Refused) -> None:
        self.query_one("#desk-settings-status", Static).update(Text(event.message))
        if self.firm is not None:
            self.post_message(self.FirmLoaded(self.firm))

    def worker_failed(self, worker: Worker) -> None:
        if self.firm is not None:  # the switches show the settings as they still are
            self.post_message(self.FirmLoaded(self.firm))

    def action_back(self) -> None:
        self.dismiss(None)
