"""The payer enters the card on their own phone: a QR code of the card page and its link,
what will be charged (each invoice and its amount, one transaction each), and how long the
link works. The screen watches the page and answers by itself once the card is saved.

A declined card is refused on the page itself, which stays open for another card: this
screen says why it was declined (Stripe records it on the page's SetupIntent; the same read
that watches the page brings it) and keeps waiting.

Once the card is saved, the screen asks whether to keep it on file (Stripe's setup-mode
page cannot ask): at the kiosk the payer answers, at the front desk staff confirm the payer
agreed, as for a card typed in (billing.saved_cards). It answers (`dismiss`) with the saved
card (`PhoneCardSaved`, its `keep` the answer), "expired" (the payer asked for a new link
once this one ran out) or "cancelled" (Escape: the page is closed, and a card saved on it
is never charged and taken off file)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from billing.errors import BalancesChanged, BillingError
from billing.saved_cards import KEEP_LABEL, KEEP_LABEL_STAFF
from billing.values import CardChoice, Payer
from gateway.errors import GatewayError
from models.money import Money, format_money
from tui.flow_values import BalancesMoved, FlowStep, PhoneCardSaved, SelectedInvoice
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle
from tui.widgets.qr_code import QrCode, qr_lines

log = logging.getLogger(__name__)
# Lines the screen's title and footer take from the QR code's height.
QR_CHROME_LINES = 2
QR_TOO_LONG = ("This card page's address is too long for a QR code on this screen, and to "
               "type. Press E to email the link to the payer's phone.")
LINK_TOO_LONG = "The card page's link (press E to email it):"


def remaining_text(seconds: float) -> str:
    """ "29:59" (minutes and seconds left), never below 0:00."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class PhoneEntryScreen(PaydeskScreen):
    CSS_PATH = "phone_entry.tcss"
    HELP = (
        "Scan the QR code with your phone's camera (or open the link) and enter your card "
        "on the page that opens. It shows what will be charged; nothing is charged until "
        "you save your card there. This screen moves on by itself. Escape cancels."
    )
    # How often the page is looked at; the flow may pass another interval.
    POLL_SECONDS = 2.0
    # The payer is busy on their phone, not on this terminal: the kiosk's idle timer waits
    # while the link works (it ends by itself), and not once it has expired.
    HOLDS_SESSION = True

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="phone.cancel"),
        Binding("e", "email_link", "Email the link", id="phone.email"),
        Binding("n", "new_link", "New link", id="phone.new-link"),
        # Asked once the card is saved: keep it on file?
        Binding("y", "keep_card", "Yes, keep it", id="phone.keep"),
        Binding("n", "use_once", "No, this payment only", id="phone.use-once"),
    ]

    @dataclass
    class Opened(Message):
        entry_id: int
        url: str
        expires_at: dt.datetime

    @dataclass
    class Problem(Message):
        """The page could not be opened or read: said on the screen, in billing's words."""

        message: str
        fatal: bool

    @dataclass
    class Answered(Message):
        status: str
        payment_method_id: str | None = None
        card_label: str = ""

    @dataclass
    class Refused(Message):
        changes: tuple
        message: str

    @dataclass
    class Declined(Message):
        """The page is still open; `message`: why the last card tried on it was refused
        (empty: no card was refused, or the payer is trying another)."""

        message: str

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...], *,
                 poll_seconds: float | None = None) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.poll_seconds = self.POLL_SECONDS if poll_seconds is None else poll_seconds
        self.entry_id: int | None = None
        self.url = ""
        self._expires_at: dt.datetime | None = None
        self._expired = False
        self._done = False
        # Why the last card tried on the page was refused, as shown ("" while none was).
        self._declined = ""
        # The card saved on the page, while the screen asks whether to keep it on file.
        self._saved: CardChoice | None = None
        # Set to stop the polling thread at once (Escape, or the screen answered).
        self._stop = threading.Event()

    # --- what it shows -----------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Pay on your phone")
        with Horizontal(id="phone-body"):
            with Vertical(id="phone-qr-box"):
                yield Static("Opening the card page...", id="phone-qr-wait")
            with Vertical(id="phone-info"):
                yield Static("Scan the code with your phone's camera, or open this link:",
                             id="phone-lead")
                yield Static("", id="phone-link")
                yield Static(self._charges(), id="phone-charges")
                yield Static("", id="phone-countdown")
                yield Static("Waiting for the card to be entered on the phone...",
                             id="phone-state")
        yield Footer()

    def _charges(self) -> Text:
        locale = self.app.firm.locale
        count = len(self.selection)
        text = Text()
        text.append(f"{count} transaction{'s' if count != 1 else ''} will be charged:\n",
                    style="bold")
        for item in self.selection:
            text.append(f"{item.invoice.number}  ")
            text.append(format_money(item.amount, locale), style="bold")
            text.append("\n")
        total = Money.sum_of((s.amount for s in self.selection), self.selection[0].amount.currency)
        text.append("Total  ")
        text.append(format_money(total, locale), style="bold")
        return text

    def on_mount(self) -> None:
        self._open()

    def on_unmount(self) -> None:
        self._stop.set()
        if not self._done and not self._expired:
            self._close_page()  # wiped or closed without an answer: no card is taken

    def _close_page(self) -> None:
        """Close the entry and its page in the background: the entry first, so that its
        card is never charged even while Stripe is slow to answer."""
        entry_id, desk, payer = self.entry_id, self.app.desk, self.payer
        self._done = True
        if entry_id is None:
            return
        self.app.run_worker(lambda: desk.cancel_phone_entry(payer, entry_id),
                            thread=True, exit_on_error=False, group="phone-cancel")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "email_link":
            # At the front desk only: the client is on the phone, away from this screen.
            return (self.payer.kind == "staff" and self.entry_id is not None
                    and not self._expired and self._saved is None)
        if action == "new_link":
            return self._expired
        if action in ("keep_card", "use_once"):
            return self._saved is not None
        return True

    # --- opening the page ----------------------------------------------------------------

    @work(thread=True, exclusive=True, group="phone-open", exit_on_error=False)
    def _open(self) -> None:
        amounts = {s.invoice.invoice_id: s.amount for s in self.selection}
        try:
            link = self.app.desk.start_phone_entry(self.payer, amounts)
        except BalancesChanged as exc:
            self.post_message(self.Refused(exc.changes, exc.message))
            return
        except (BillingError, GatewayError) as exc:
            self.post_message(self.Problem(exc.message, fatal=True))
            return
        self.post_message(self.Opened(link.entry_id, link.url, link.expires_at))

    @on(Opened)
    def _opened(self, message: Opened) -> None:
        self.entry_id, self.url = message.entry_id, message.url
        self._expires_at = message.expires_at
        box = self.query_one("#phone-qr-box", Vertical)
        self.query_one("#phone-qr-wait").remove()
        link = self.query_one("#phone-link", Static)
        if len(qr_lines(message.url)) <= self.app.size.height - QR_CHROME_LINES:
            box.mount(QrCode(message.url, id="phone-qr"))
            link.update(Text(message.url, style="bold"))
        else:
            # Stripe's own address without the firm's short links: a code this size would
            # be cut off (and read as nothing), and the address is too long to type.
            log.warning("a card page link of %d characters does not fit a QR code on a "
                        "screen %d lines high; kiosk.phone_link_base gives short links",
                        len(message.url), self.app.size.height)
            box.mount(Static(QR_TOO_LONG, id="phone-qr-too-long"))
            self.query_one("#phone-lead", Static).update(LINK_TOO_LONG)
            link.add_class("-too-long")
            link.update(Text(message.url, style="bold"))
        self._tick()
        self.set_interval(1, self._tick)
        self.refresh_bindings()
        self._poll(message.entry_id)

    def _now(self) -> dt.datetime:
        now = self.app.now()
        return now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now

    def _tick(self) -> None:
        if self._expires_at is None or self._expired or self._done:
            return
        left = (self._expires_at - self._now()).total_seconds()
        self.query_one("#phone-countdown", Static).update(
            Text(f"The link works for {remaining_text(left)} more."))

    # --- watching the page ---------------------------------------------------------------

    @work(thread=True, exclusive=True, group="phone-poll", exit_on_error=False)
    def _poll(self, entry_id: int) -> None:
        worker = get_current_worker()
        trouble = False
        declined = ""
        while not self._stop.is_set() and not worker.is_cancelled:
            try:
                status = self.app.desk.phone_entry_status(self.payer, entry_id)
            except (BillingError, GatewayError) as exc:
                # Stripe did not answer this time: the page still works; look again.
                if not trouble:
                    self.post_message(self.Problem(exc.message, fatal=False))
                trouble = True
            else:
                if trouble:
                    self.post_message(self.Problem("", fatal=False))
                trouble = False
                if status.status != "pending":
                    self.post_message(self.Answered(status.status, status.payment_method_id,
                                                    status.card_label))
                    return
                if status.declined != declined:  # said once, not at every look
                    declined = status.declined
                    self.post_message(self.Declined(declined))
            self._stop.wait(self.poll_seconds)

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        if self._done or self.entry_id is None:
            return
        if message.status == "saved" and message.payment_method_id:
            self._stop.set()
            self._ask_keep(CardChoice(kind="phone", payment_method_id=message.payment_method_id,
                                      label=message.card_label or "card entered on the phone"))
            return
        if message.status == "expired":
            self._show_expired()
            return
        # Closed elsewhere (canceled or already used): nothing more will happen here.
        self._done = True
        self.HOLDS_SESSION = False
        self.query_one("#phone-state", Static).update(
            Text("This card page is closed. Press Escape to go back."))

    def _ask_keep(self, card: CardChoice) -> None:
        """The card is saved: keep it on file? Nothing is charged until the answer."""
        if self._saved is not None:
            return
        self._saved = card
        # The payer now answers here: the kiosk's idle timer runs again.
        self.HOLDS_SESSION = False
        state = self.query_one("#phone-state", Static)
        state.set_class(False, "-declined")
        if self.payer.kind == "staff":
            question = (f"The {card.label} is saved. Y: {KEEP_LABEL_STAFF[0].lower()}"
                        f"{KEEP_LABEL_STAFF[1:]}. N: they did not (this payment only).")
        else:
            question = (f"Your {card.label} is saved. {KEEP_LABEL}? Press Y for yes, or N "
                        "to use it for this payment only.")
        state.update(Text(question, style="bold"))
        self.refresh_bindings()

    def _answer_keep(self, keep: bool) -> None:
        if self._saved is None or self._done or self.entry_id is None:
            return
        self._done = True
        card = CardChoice(kind="phone", payment_method_id=self._saved.payment_method_id,
                          label=self._saved.label, keep=keep)
        self.dismiss(PhoneCardSaved(self.entry_id, card))

    def action_keep_card(self) -> None:
        self._answer_keep(True)

    def action_use_once(self) -> None:
        self._answer_keep(False)

    def _show_expired(self) -> None:
        self._expired = True
        self.HOLDS_SESSION = False
        self._stop.set()
        for code in self.query("#phone-qr, #phone-qr-too-long"):
            code.remove()  # a code that no longer pays is not shown
        self.query_one("#phone-countdown", Static).update("")
        self.query_one("#phone-state", Static).update(Text(
            "This link has expired: nothing was charged. Press N for a new link, or Escape "
            "to go back.", style="bold"))
        self.refresh_bindings()

    @on(Problem)
    def _problem(self, message: Problem) -> None:
        state = self.query_one("#phone-state", Static)
        if message.fatal:
            self._done = True
            self.HOLDS_SESSION = False
            state.update(Text(f"{message.message}\nPress Escape to go back."))
        elif message.message:
            state.update(Text(f"{message.message} Still waiting for the card..."))
        else:
            self._show_waiting()

    @on(Declined)
    def _declined_on_phone(self, message: Declined) -> None:
        if self._done or self._expired or self._saved is not None:
            return
        self._declined = message.message
        self._show_waiting()

    def _show_waiting(self) -> None:
        """The waiting line: why the last card was declined, if one was, then waiting."""
        state = self.query_one("#phone-state", Static)
        state.set_class(bool(self._declined), "-declined")
        if self._declined:
            state.update(Text(self._declined, style="bold"))
        else:
            state.update("Waiting for the card to be entered on the phone...")

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self._done = True
        self.post_message(FlowStep(BalancesMoved(message.changes, message.message,
                                                 close_screen=True)))

    # --- the payer's keys ----------------------------------------------------------------

    def action_cancel(self) -> None:
        self._stop.set()
        if not self._done and not self._expired:
            self._close_page()
        self._done = True
        self.dismiss("cancelled")

    def action_new_link(self) -> None:
        if self._expired:
            self.dismiss("expired")

    def action_email_link(self) -> None:
        if self.check_action("email_link", ()) and self.payer.email:
            self._email(self.entry_id, self.payer.email)
        elif not self.payer.email:
            self.notify("The client has no email address on file.", severity="warning",
                        markup=False)

    @work(thread=True, exclusive=True, group="phone-email", exit_on_error=False)
    def _email(self, entry_id: int, address: str) -> None:
        from tui.screens.desk_common import when_text

        expiry = when_text(self._expires_at, firm=self.app.firm) if self._expires_at else ""
        try:
            sent_to = self.app.desk.email_phone_link(self.payer, entry_id, address, expiry)
        except (BillingError, GatewayError) as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error", markup=False)
            return
        self.app.call_from_thread(self.notify, f"The link was emailed to {sent_to}.",
                                  markup=False)
