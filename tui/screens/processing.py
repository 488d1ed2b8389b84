"""The payment running: a live row per invoice (authorizing, authorized, captured,
declined with the reason). desk.pay runs in a worker thread and reports each change
through a message, so the screen never freezes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Select, Static

from billing.errors import BalancesChanged, BillingError
from billing.values import BalanceChange, CardChoice, CheckoutResult, Payer, ProgressEvent
from gateway.errors import GatewayError
from models.money import Money
from tui.flow_values import (
    READER_TEST_CARDS,
    BalancesMoved,
    FlowStep,
    PaymentFinished,
    SelectedInvoice,
    selection_line,
)
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, amount_cell, money_text

STATUS_WORDS = {
    "waiting": ("waiting", "dim"),
    "authorizing": ("authorizing...", "yellow"),
    "authorized": ("authorized", "cyan"),
    "capturing": ("capturing...", "yellow"),
    "captured": ("paid", "bold green"),
    "declined": ("declined", "bold red"),
    "cancelled": ("cancelled, not charged", "dim"),
    "verifying": ("checking with the bank...", "yellow"),
    "failed": ("failed", "bold red"),
    "tap": ("tap the card now", "bold yellow"),
}
_STEP = re.compile(r"\((\d+) of (\d+)\)$")


class ProcessingScreen(PaydeskScreen):
    CSS_PATH = "processing.tcss"
    HELP = ("The payment is running. Please wait: this screen changes by itself when it is "
            "done. While the card reader waits for the card, Escape stops it and nothing is "
            "charged; it also stops by itself if no card is presented in time.")
    # The kiosk's idle timer waits for a payment in flight (PaydeskApp._check_idle).
    HOLDS_SESSION = True

    BINDINGS = [
        # While the reader waits for the card: the payer changed their mind, or has no card.
        Binding("escape", "cancel_reader", "Cancel", id="processing.cancel-reader"),
    ]

    @dataclass
    class Progress(Message):
        event: ProgressEvent

    @dataclass
    class Done(Message):
        result: CheckoutResult

    class Stopped(Message):
        """desk.pay raised before anything was charged (a rule was broken)."""

    @dataclass
    class Refused(Message):
        """Balances changed since the payer chose: nothing was reserved or charged."""

        changes: tuple[BalanceChange, ...]
        message: str

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 card: CardChoice) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self._card: CardChoice | None = card
        self._card_label = card.label
        self._reader_id = card.reader_id if card.kind == "reader" else None
        self._keys = {s.invoice.number: str(s.invoice.invoice_id) for s in selection}
        self._taps_plan = ""  # set when the card on the reader cannot be kept
        # The reader is waiting for the card (first for it to be read, then for each tap
        # when it cannot be kept): Escape stops it, and nothing is charged.
        self._reader_waiting = self._reader_id is not None

    def compose(self) -> ComposeResult:
        firm = self.app.firm
        yield ScreenTitle("Paying")
        yield Static(selection_line(self.selection, firm.locale), id="processing-summary")
        yield Static(
            Text(f"Paying with {self._card_label}. Please wait; do not close this screen."),
            id="processing-lead",
        )
        yield DataTable(id="processing-table", cursor_type="none")
        if self._reader_id is not None:
            reader = self._card_label.removeprefix("card on ")
            yield Static(Text(f"Present the card on the reader: {reader}"), id="processing-reader")
            if firm.test_mode:
                with Horizontal(id="processing-simulate"):
                    yield Select(
                        [(f"{number}  {what}", number) for number, what in READER_TEST_CARDS],
                        value=READER_TEST_CARDS[0][0], allow_blank=False,
                        id="processing-test-card",
                        compact=True,
                    )
                    yield Button("Simulate a test card", id="processing-present", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#processing-table", DataTable)
        table.add_column("Invoice", key="number")
        table.add_column("Amount", key="amount")
        table.add_column("Status", key="status")
        for item in self.selection:
            word, style = STATUS_WORDS["waiting"]
            table.add_row(Text(item.invoice.number), amount_cell(item.amount, self.app.firm.locale),
                          Text(word, style=style), key=str(item.invoice.invoice_id))
        self._pay()

    def _charge(self, amounts: dict[int, Money],
                on_progress: Callable[[ProgressEvent], None]) -> CheckoutResult:
        """Pay `amounts` (in the worker thread); a screen that pays another way overrides
        this only (the phone's card: tui/screens/phone_processing.py)."""
        card, self._card = self._card, None  # the screen keeps no card once it is handed over
        return self.app.desk.pay(self.payer, amounts, card, on_progress=on_progress)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pay")
    def _pay(self) -> None:
        amounts = {s.invoice.invoice_id: s.amount for s in self.selection}
        try:
            result = self._charge(
                amounts, lambda event: self.post_message(self.Progress(event)))
        except BalancesChanged as exc:
            # Expected: the payer goes back to the new balances (nothing was charged).
            self.post_message(self.Refused(exc.changes, exc.message))
            return
        except BaseException:
            self.post_message(self.Stopped())
            raise  # the app's worker handler shows the reason
        self.post_message(self.Done(result))

    @on(Progress)
    def _progress(self, message: Progress) -> None:
        event = message.event
        waiting = self._reader_id is not None and event.status in ("taps", "tap")
        if waiting != self._reader_waiting:
            self._reader_waiting = waiting
            self.refresh_bindings()
        if event.status in ("taps", "tap") and self._reader_id is not None:
            self._reader_prompt(event)
        key = self._keys.get(event.invoice_number)
        if key is None:
            return
        word, style = STATUS_WORDS.get(event.status, (event.status, ""))
        text = Text(word, style=style)
        if event.message and event.status in ("declined", "failed"):
            text.append(f": {event.message}", style="red")
        self.query_one("#processing-table", DataTable).update_cell(
            key, "status", text, update_width=True)

    def _reader_prompt(self, event: ProgressEvent) -> None:
        """The card cannot be kept: say how many taps it takes, then which invoice (and how
        much) the reader is waiting for now."""
        if event.status == "taps":
            self._taps_plan = event.message
            text = Text(event.message)
        else:
            amounts = {s.invoice.number: s.amount for s in self.selection}
            amount = amounts.get(event.invoice_number)
            step = _STEP.search(event.message)
            prompt = f"Tap the card on the reader for {event.invoice_number}"
            if amount is not None:
                prompt += f", {money_text(amount, self.app.firm.locale)}"
            if step:
                prompt += f" ({step.group(1)} of {step.group(2)})"
            text = Text(self._taps_plan)
            if text.plain:
                text.append("\n")
            text.append(prompt, style="bold")
        self.query_one("#processing-reader", Static).update(text)

    @on(Done)
    def _done(self, message: Done) -> None:
        self.post_message(FlowStep(PaymentFinished(self.payer, self.selection, message.result)))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.post_message(FlowStep(BalancesMoved(message.changes, message.message,
                                                 close_screen=True)))

    @on(Stopped)
    def _stopped(self) -> None:
        # Nothing was charged; go back to the card choice with the reason shown by the app.
        self.dismiss()

    @on(Button.Pressed, "#processing-present")
    def _present(self) -> None:
        number = self.query_one("#processing-test-card", Select).value
        self._present_test_card(str(number).replace(" ", ""))

    @work(thread=True, exclusive=True, exit_on_error=False, group="present")
    def _present_test_card(self, number: str) -> None:
        self.app.desk.present_test_card(self._reader_id, number)

    # --- cancelling on the reader --------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_reader":
            return self._reader_waiting
        return True

    def action_cancel_reader(self) -> None:
        if not self._reader_waiting:
            return
        self._reader_waiting = False
        self.refresh_bindings()
        self.query_one("#processing-reader", Static).update(
            Text("Cancelling on the reader... Nothing is charged."))
        self._cancel_reader(self._reader_id)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cancel-reader")
    def _cancel_reader(self, reader_id: str) -> None:
        # The payment in flight then ends by itself, not charged, and the result says so.
        try:
            self.app.desk.cancel_reader_action(reader_id)
        except (BillingError, GatewayError) as exc:
            self.app.call_from_thread(self._not_cancelled, exc.message)

    def _not_cancelled(self, message: str) -> None:
        """The reader could not be stopped: it still waits, and Escape may be tried again."""
        self.notify(message, severity="error", markup=False)
        self._reader_waiting = True
        self.refresh_bindings()
