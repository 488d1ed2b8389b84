"""The bank debit's authorization, as NACHA wants it recorded.

Online (WEB: the kiosk, or the client in their own session): the authorization text in full,
scrollable; the payer ticks "I authorize" and presses Pay. By telephone (TEL: staff at the
front desk): the script to read aloud, and staff confirm that the client agreed. The screen
returns the AuthorizationContext (the exact text shown, how it was agreed, where), or None
when the payer goes back; billing records it and refuses a text that no longer matches."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Footer, Static

from billing.bank_values import TEL, WEB, AuthorizationContext
from billing.values import Payer
from models.money import Money, format_money
from tui.flow_values import SelectedInvoice
from tui.screens import PaydeskScreen
from tui.widgets import Checkbox, ScreenTitle

WEB_AGREE = "I authorize these debits from my account, as written above"
TEL_AGREE = "I read this to the client, and the client agreed on the call"


def where(app) -> tuple[str, str | None]:
    """(terminal name, SSH peer address or None) of this session: an SSH session's
    terminal is "ssh:<peer>" (tui.ssh.launch)."""
    settings = getattr(getattr(app, "services", None), "settings", None)
    terminal = str(getattr(settings, "terminal", "") or "")
    peer = terminal.removeprefix("ssh:") if terminal.startswith("ssh:") else None
    return terminal, peer


class BankAuthorizationScreen(PaydeskScreen[AuthorizationContext | None]):
    CSS_PATH = "bank_authorization.tcss"
    HELP = ("Read the whole authorization (scroll with the arrows or Page Down). Tick the "
            "box (space) to agree, then press Confirm (F5). Escape goes back: nothing is debited.")
    HOLDS_SESSION = False

    BINDINGS = [
        Binding("f5", "pay", "Confirm and pay", id="bank_auth.pay"),
        Binding("escape", "back", "Back", id="bank_auth.back"),
    ]

    @dataclass
    class TextLoaded(Message):
        text: str

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...], last4: str,
                 holder: str = "") -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.last4 = last4
        # The name typed on the bank-account tab: the holder is who authorizes (billing
        # refuses a text that names someone else).
        self.holder = holder
        # Staff take the authorization over the telephone; anyone else agrees on screen.
        self.kind = TEL if payer.kind == "staff" else WEB
        self.text = ""

    @property
    def total(self) -> Money:
        return Money.sum_of((s.amount for s in self.selection), self.selection[0].amount.currency)

    def compose(self) -> ComposeResult:
        tel = self.kind == TEL
        yield ScreenTitle("Bank debit authorization" + (" (by telephone)" if tel else ""))
        with VerticalScroll(id="bank-auth-scroll") as scroll:
            # The lead is the frame's title: at 80x24 a TEL script fits without scrolling.
            scroll.border_title = ("Read this aloud to the client, word for word" if tel else
                                   "Please read the whole authorization")
            yield Static("Loading…", id="bank-auth-text", markup=False)
        yield Checkbox(TEL_AGREE if tel else WEB_AGREE, False, id="bank-auth-agree",
                       compact=True)
        with Horizontal(id="bank-auth-buttons"):
            yield Button("Back", id="bank-auth-back", compact=True)
            total = format_money(self.total, self.app.firm.locale)
            # The online text asks the payer to "select Confirm" (billing.bank_authorization).
            label = (f"Pay {total} by bank debit" if tel
                     else f"Confirm: pay {total} by bank debit")
            yield Button(label, id="bank-auth-pay", variant="success", compact=True,
                         disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        amounts = {s.invoice.invoice_id: s.amount for s in self.selection}
        self.post_message(self.TextLoaded(self.app.desk.bank_authorization_text(
            self.payer, amounts, self.kind, last4=self.last4, holder=self.holder)))

    @on(TextLoaded)
    def _text_loaded(self, message: TextLoaded) -> None:
        self.text = message.text
        self.query_one("#bank-auth-text", Static).update(Text(message.text))
        self.query_one("#bank-auth-scroll").focus()

    @on(Checkbox.Changed, "#bank-auth-agree")
    def _agreed(self, event: Checkbox.Changed) -> None:
        self.query_one("#bank-auth-pay", Button).disabled = not (event.value and self.text)

    @on(Button.Pressed, "#bank-auth-pay")
    def action_pay(self) -> None:
        agreed = self.query_one("#bank-auth-agree", Checkbox).value
        if not self.text:
            return
        if not agreed:
            self.notify("Tick the box first: " + ("the client must agree." if self.kind == TEL
                                                  else "the debits need your agreement."),
                        severity="warning", markup=False)
            self.query_one("#bank-auth-agree").focus()
            return
        terminal, peer = where(self.app)
        if self.kind == TEL:
            staff = self.payer.staff.name if self.payer.staff else "staff"
            confirmation = f"{staff} confirmed that the client agreed on the call"
            context = AuthorizationContext(kind=TEL, text=self.text, terminal=terminal,
                                           confirmation=confirmation, ssh_peer=peer)
        else:
            # A kiosk on this machine has no remote address: its own loopback stands in.
            context = AuthorizationContext(
                kind=WEB, text=self.text, terminal=terminal,
                confirmation=f"Confirmed on screen by the payer: \"{WEB_AGREE}\"",
                ssh_peer=peer, ip_address=peer or "127.0.0.1",
                user_agent="Paydesk over SSH" if peer else f"Paydesk kiosk {terminal}".strip())
        self.dismiss(context)

    @on(Button.Pressed, "#bank-auth-back")
    def action_back(self) -> None:
        self.dismiss(None)
