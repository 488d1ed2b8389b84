"""A stand-in desk for the screen tests: the demo firm's values, made up by hand, with
fixed ids, so snapshots are the same on every run. It keeps no card number: `pay` looks at
the transient KeyedCard only to pick the outcome, as the sandbox would."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Mapping

from billing.errors import NotAllowed, SignInFailed
from billing.values import (
    CardChoice,
    CheckoutResult,
    FirmInfo,
    InstalmentDue,
    InvoiceDetails,
    InvoiceHistoryRow,
    InvoiceLineRow,
    PayableInvoice,
    Payer,
    ProgressEvent,
    StaffSession,
    TransactionResult,
)
from models.money import Money, check_amount, parse_amount, stripe_minimum_charge

FIXED_NOW = dt.datetime(2026, 10, 15, 14, 30, tzinfo=dt.UTC)

FIRM = FirmInfo(
    name="Harbor & Vale LLP", currency="USD", locale="en_US", online_payments_enabled=True,
    multi_invoice_payments_enabled=True, statement_descriptor_prefix="HARBORVALE",
    test_mode=True,
)
DANA = Payer(kind="client", client_id=1, client_name="Dana Whitfield",
             email="dana.whitfield@example.com")
DANA_BY_CODE = Payer(kind="code", client_id=1, client_name="Dana Whitfield", email=None,
                     code_invoice_id=5)
FRONT_DESK = StaffSession(staff_id=1, name="Front Desk", role="front_desk")


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def _invoice(id_, number, case, title, issued, total, paid=0, plan=None) -> PayableInvoice:
    issue = dt.date(2026, 9, 1) + dt.timedelta(days=issued)
    return PayableInvoice(
        invoice_id=id_, number=number, client_id=1, case_number=case, case_title=title,
        issue_date=issue, due_date=issue + dt.timedelta(days=30), total=usd(total),
        paid=usd(paid), instalment_due=plan,
    )


MARLOW = ("WHI-2024-017", "Whitfield v. Marlow Construction")
ESTATE = ("WHI-2025-003", "Estate of Harold Whitfield")
TRUST = ("WHI-2025-021", "Whitfield Trust Amendment")
DANA_INVOICES = (
    _invoice(1, "INV-1001", *MARLOW, 0, 125000),
    _invoice(2, "INV-1004", *MARLOW, 3, 83050, 30000),
    _invoice(3, "INV-1009", *MARLOW, 8, 240000, plan=InstalmentDue(
        amount=usd(60000), due_date=dt.date(2026, 10, 1), sequence=1, of=4, overdue=True)),
    _invoice(4, "INV-1012", *ESTATE, 12, 47500),
    _invoice(6, "INV-1021", *TRUST, 20, 9525),
)
INV_1013 = _invoice(5, "INV-1013", *ESTATE, 13, 19000)
CODES = {"LINK-1013": INV_1013}

# The card page a phone opens (the sandbox's address and a Checkout Session id, 61
# characters: a version 4 QR code), open for 30 minutes from FIXED_NOW (naive UTC).
PHONE_LINK = "http://127.0.0.1:54321/pay/cs_test_a1B2c3D4e5F6g7H8i9J0k1L2m3"
PHONE_LINK_EXPIRES = FIXED_NOW.replace(tzinfo=None) + dt.timedelta(minutes=30)
PHONE_ENTRY_ID = 7

DECLINES = {
    "4000000000000002": ("card_declined", "generic_decline", "Your card was declined."),
    "4000000000009995": ("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000000069": ("expired_card", None, "Your card has expired."),
    "4000000000000127": ("incorrect_cvc", None, "Your card's security code is incorrect."),
    "4000000000000119": ("processing_error", None,
                         "An error occurred while processing your card. Try again in a little bit."),
}


class FakeDesk:
    """Implements billing.desk_api.DeskApi over hand-made values."""

    def __init__(self, *, firm: FirmInfo = FIRM, invoices=DANA_INVOICES) -> None:
        self._firm = firm
        self.invoices = {inv.invoice_id: inv for inv in (*invoices, INV_1013)}
        self.listed = [inv.invoice_id for inv in invoices]
        self.paid: list[dict[int, Money]] = []
        self.cards_seen: list[str] = []

    def firm(self) -> FirmInfo:
        return self._firm

    def sign_in_client(self, email: str, password: str) -> Payer:
        if email.strip().lower() == DANA.email and password == "demo-dana":
            return DANA
        raise SignInFailed("That email and password do not match a portal account.")

    def payer_for_code(self, code: str) -> tuple[Payer, PayableInvoice]:
        invoice = CODES.get(code.strip().upper())
        if invoice is None:
            raise SignInFailed("That payment code does not open an invoice to pay.")
        return DANA_BY_CODE, invoice

    def payable_invoices(self, payer: Payer) -> list[PayableInvoice]:
        if payer.kind == "code":
            return [self.invoices[payer.code_invoice_id]]
        return [self.invoices[i] for i in self.listed]

    def pending_bank_payments(self, payer: Payer) -> list:
        return []  # no bank debits in the stand-in firm

    def bank_notes(self, payer: Payer):
        from billing.bank_values import BankNotes

        return BankNotes()

    def invoice_details(self, payer: Payer, invoice_id: int) -> InvoiceDetails:
        if not payer.may_see_details:
            raise NotAllowed("Sign in to see invoice details.")
        invoice = self.invoices[invoice_id]
        half = invoice.total.minor // 2
        lines = (
            InvoiceLineRow(1, dt.date(2026, 8, 28), "Consultation", usd(half)),
            InvoiceLineRow(2, dt.date(2026, 8, 29), "Drafting and review [final]",
                           usd(invoice.total.minor - half)),
        )
        history = ()
        if invoice.paid.minor:
            history = (InvoiceHistoryRow(
                at=dt.datetime(2026, 10, 1, 9, 0), kind="payment", method="check",
                amount=invoice.paid, status="recorded", reference="R-000001",
                detail="check CHK-1004"),)
        return InvoiceDetails(invoice=invoice, lines=lines, history=history)

    def parse_amount(self, payer: Payer, invoice: PayableInvoice, text: str) -> Money:
        amount = parse_amount(text, invoice.currency, self._firm.locale)
        check_amount(amount, balance=invoice.balance,
                     minimum=stripe_minimum_charge(invoice.currency), locale=self._firm.locale)
        return amount

    def balance_changes(self, payer: Payer, amounts: Mapping[int, Money]) -> tuple:
        return ()  # the hand-made balances never change under the payer

    def statement_descriptor(self, invoice_number: str) -> str:
        return f"{self._firm.statement_descriptor_prefix}* {invoice_number}"[:22]

    def saved_cards(self, payer: Payer) -> list[CardChoice]:
        if payer.kind == "code":
            return []
        return [CardChoice(kind="saved", payment_method_id="pm_saved_visa",
                           label="Visa •••• 4242 (saved)")]

    def readers(self) -> list[tuple[str, str]]:
        return [("tmr_FRONTDESK1", "Front desk reader")]

    def present_test_card(self, reader_id: str, card_number: str) -> None:
        self.presented = card_number

    def cancel_reader_action(self, reader_id: str) -> bool:
        self.reader_cancelled = reader_id
        return True

    def pay(
        self,
        payer: Payer,
        amounts: Mapping[int, Money],
        card: CardChoice,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> CheckoutResult:
        number = getattr(card.keyed, "number", "4242424242424242") if card.kind == "keyed" else (
            getattr(self, "presented", "4242424242424242") if card.kind == "reader"
            else "4242424242424242")
        number = number.replace(" ", "")
        decline = DECLINES.get(number)
        transactions = []
        for n, (invoice_id, amount) in enumerate(amounts.items(), start=1):
            invoice = self.invoices[invoice_id]
            if on_progress:
                on_progress(ProgressEvent(invoice.number, "authorizing"))
            status = "declined" if decline else "captured"
            if on_progress:
                on_progress(ProgressEvent(invoice.number, status,
                                          decline[2] if decline else ""))
            transactions.append(TransactionResult(
                invoice_payment_id=100 + n, invoice_id=invoice_id,
                invoice_number=invoice.number, case_title=invoice.case_title, amount=amount,
                status=status, payment_intent_id=f"pi_TEST{n:04d}",
                reference=None if decline else f"R-{100 + n:06d}", card_brand="visa",
                card_last4=number[-4:], statement_descriptor=self.statement_descriptor(
                    invoice.number),
                failure_message=decline[2] if decline else None,
                decline_code=decline[1] if decline else None,
            ))
        total = Money.sum_of(amounts.values(), "USD")
        if not decline:
            self.paid.append(dict(amounts))
        return CheckoutResult(
            checkout_id=42, status="failed" if decline else "succeeded",
            transactions=tuple(transactions), total=total,
            email_to=None if decline else (payer.email or "dana.whitfield@example.com"),
            message=decline[2] if decline else "",
        )

    def receipt_text(self, reference: str, *, payer=None) -> str:
        return f"Harbor & Vale LLP\nReceipt {reference}\nAmount paid: $100.00\n"

    def receipt_pdf(self, reference: str, *, payer=None) -> bytes:
        return b"%PDF-1.4\n% receipt " + reference.encode() + b"\n%%EOF\n"

    def sign_in_staff(self, name: str, pin: str) -> StaffSession:
        if name == "Front Desk" and pin == "2468":
            return FRONT_DESK
        raise SignInFailed("Wrong name or PIN.")

    # --- the card entered on the payer's phone: one fixed page that stays open ---------

    def start_phone_entry(self, payer: Payer, amounts: Mapping[int, Money]):
        from billing.phone_entry import PhoneLine, PhoneLink

        self.phone_amounts = dict(amounts)
        lines = tuple(PhoneLine(i, self.invoices[i].number, a) for i, a in amounts.items())
        return PhoneLink(PHONE_ENTRY_ID, PHONE_LINK, PHONE_LINK_EXPIRES, lines)

    def phone_entry_status(self, payer: Payer, entry_id: int):
        from billing.phone_entry import PhoneStatus

        return PhoneStatus("pending")  # nobody is entering a card: the page waits

    def cancel_phone_entry(self, payer: Payer, entry_id: int) -> None:
        self.phone_cancelled = entry_id


# --- driving the app as a person would ------------------------------------------------


async def settle(pilot) -> None:
    """Let the screen catch up: pending messages, then the workers, twice over."""
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """One key at a time, like a person (never a burst: see payment_page's docstring)."""
    from textual.keys import _character_to_key

    for ch in text:
        await pilot.press(_character_to_key(ch))
        await pilot.pause()


def screen_text(app) -> str:
    """Everything on screen as plain text (from the same SVG the snapshots use)."""
    svg = app.export_screenshot()
    lines = re.findall(r"<text[^>]*>(.*?)</text>", svg, flags=re.S)
    return html.unescape("".join(re.sub(r"<[^>]+>", "", line) for line in lines)).replace("\xa0", " ")


def keyed_kiosk(settings):
    """`settings` with a kiosk that also takes a typed card (first, as the front desk does):
    kiosk.card_entry = ["keyed", "reader", "phone"]. The kiosk's default takes none."""
    from dataclasses import replace

    return replace(settings, kiosk=replace(settings.kiosk,
                                           card_entry=("keyed", "reader", "phone")))


class FakeServices:
    """The services the factory hands the app (tui.app.AppServices), over a stand-in desk."""

    def __init__(self, desk) -> None:
        self.desk = desk
        self.closed = False

    def close(self) -> None:
        self.closed = True
