"""A stand-in desk with the demo firm's values, and a tiny app that shows one screen (for
pilot tests of a single screen; the snapshots show the screens inside the real app).

The front-desk screens depend only on `billing.desk_api.DeskApi` and `billing.values`, so
they can be snapshot-tested with fixed values: fixed clock, fixed ids, no database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import replace

from textual.app import App
from textual.screen import Screen

from billing.errors import NotAllowed, SignInFailed, StaffLocked
from billing.values import (
    AuditRow,
    CheckoutResult,
    ClientSummary,
    FirmInfo,
    PayableInvoice,
    Payer,
    PaymentRow,
    RefundResult,
    ShareResult,
    StaffSession,
    TransactionResult,
)
from models.money import Money
from tui.demo_hints import demo_hints

NOW = dt.datetime(2026, 10, 14, 13, 50, 0)
# The app's clock in the snapshots: the same moment, as the app reads it (in UTC).
FIXED_NOW = NOW.replace(tzinfo=dt.UTC)
FRONT_DESK = StaffSession(staff_id=1, name="Front Desk", role="front_desk")
ADMIN = StaffSession(staff_id=2, name="Avery Admin", role="admin")
FIRM = FirmInfo(
    name="Harbor & Vale LLP",
    currency="USD",
    locale="en_US",
    online_payments_enabled=True,
    multi_invoice_payments_enabled=True,
    statement_descriptor_prefix="HARBORVALE",
    test_mode=True,
)


def usd(cents: int) -> Money:
    return Money(cents, "USD")


DANA = ClientSummary(
    client_id=1,
    name="Dana Whitfield",
    email="dana.whitfield@example.com",
    case_numbers=("WHI-2024-017", "WHI-2025-003", "WHI-2025-021"),
    payable_count=5,
    balance=usd(125000 + 53050 + 240000 + 47500 + 9525),
)
OTHERS = [
    ClientSummary(2, "Marcus [b]Ortega[/b]", "m.ortega@example.com", ("ORT-2025-002",), 2, usd(98000)),
    ClientSummary(3, "Priya Raman", "priya.raman@example.com", ("RAM-2025-011",), 1, usd(43000)),
    ClientSummary(4, "Theo Lindqvist", "theo@example.com", ("LIN-2024-040", "LIN-2025-001"), 3, usd(151075)),
]


def _invoice(iid: int, number: str, case: str, title: str, day: int, total: int, paid: int) -> PayableInvoice:
    issue = dt.date(2026, 9, day)
    return PayableInvoice(
        invoice_id=iid, number=number, client_id=1, case_number=case, case_title=title,
        issue_date=issue, due_date=issue + dt.timedelta(days=30), total=usd(total), paid=usd(paid),
    )


DANA_INVOICES = [
    _invoice(11, "INV-1001", "WHI-2024-017", "Whitfield v. Marlow Construction", 1, 125000, 0),
    _invoice(12, "INV-1004", "WHI-2024-017", "Whitfield v. Marlow Construction", 4, 83050, 30000),
    _invoice(13, "INV-1009", "WHI-2024-017", "Whitfield v. Marlow Construction", 7, 240000, 0),
    _invoice(14, "INV-1012", "WHI-2025-003", "Estate of Harold Whitfield", 10, 47500, 0),
    _invoice(15, "INV-1013", "WHI-2025-003", "Estate of Harold Whitfield", 13, 19000, 0),
    _invoice(17, "INV-1021", "WHI-2025-021", "Whitfield Trust Amendment", 19, 9525, 0),
]

PAYMENTS = [
    PaymentRow(101, 51, dt.datetime(2026, 10, 14, 9, 12), "Dana Whitfield", "INV-1001", "WHI-2024-017",
               "card_keyed", "Visa •••• 4242", usd(125000), usd(0), "captured", "RCP-000101"),
    PaymentRow(102, 51, dt.datetime(2026, 10, 14, 9, 12), "Dana Whitfield", "INV-1004", "WHI-2024-017",
               "card_keyed", "Visa •••• 4242", usd(53050), usd(10000), "captured", "RCP-000102"),
    PaymentRow(103, 52, dt.datetime(2026, 10, 13, 16, 40), "Priya Raman", "INV-1033", "RAM-2025-011",
               "check", "check CHK-2210", usd(20000), usd(0), "recorded", "RCP-000103"),
    PaymentRow(104, 53, dt.datetime(2026, 10, 12, 11, 5), "Marcus [b]Ortega[/b]", "INV-1040", "ORT-2025-002",
               "card_saved", "Mastercard •••• 4444", usd(15000), usd(15000), "captured", "RCP-000104"),
    PaymentRow(105, 54, dt.datetime(2026, 10, 11, 10, 0), "Theo Lindqvist", "INV-1051", "LIN-2024-040",
               "card_keyed", "Visa •••• 0002", usd(30000), usd(0), "declined", None),
]

# As Desk.audit_log gives them: the raw values as stored, then the same in words.
AUDIT = [
    AuditRow(dt.datetime(2026, 10, 14, 13, 45), "staff:Front Desk", "refund", "invoice:INV-1004",
             "succeeded", "desk-1", "invoice_payment:102 refund:7 amount_minor=10000 "
             "reason=client overpaid", who="Front Desk", what="refund", subject_name="INV-1004",
             amount=usd(10000), summary="$100.00 · reason: client overpaid"),
    AuditRow(dt.datetime(2026, 10, 14, 9, 12), "staff:Front Desk for client:1", "payment.capture",
             "invoice:INV-1001", "captured", "desk-1",
             "checkout:51 invoice_payment:101 amount_minor=125000 USD payment_intent:pi_51",
             who="Front Desk for Dana Whitfield", what="payment captured",
             subject_name="INV-1001", amount=usd(125000), summary="$1,250.00 · Checkout 51"),
    AuditRow(dt.datetime(2026, 10, 13, 16, 40), "staff:Front Desk", "offline_payment.record",
             "invoice:INV-1033", "recorded", "desk-1",
             "checkout:52 invoice_payment:103 check [red]CHK-2210[/red] amount_minor=20000",
             who="Front Desk", what="offline payment", subject_name="INV-1033",
             amount=usd(20000), summary="$200.00 · Checkout 52 check [red]CHK-2210[/red]"),
    AuditRow(dt.datetime(2026, 10, 13, 8, 2), "staff:Avery Admin", "firm.switches", "firm:1",
             "changed", "desk-2", "multi_invoice_payments_enabled=True", who="Avery Admin",
             what="settings changed", subject_name="Harbor & Vale LLP",
             summary="multi invoice payments enabled on"),
    AuditRow(dt.datetime(2026, 10, 12, 17, 30), "staff:Front Desk", "staff.sign_in", "staff:1",
             "failed", "desk-1", "", who="Front Desk", what="staff sign-in",
             subject_name="Front Desk"),
    AuditRow(dt.datetime(2026, 10, 12, 9, 5), "client:dana.whitfield@example.com",
             "client.sign_in", "client:1", "ok", "kiosk-1", "", who="Dana Whitfield",
             what="client sign-in", subject_name="Dana Whitfield"),
]


class FakeDesk:
    """Just enough of DeskApi for the front-desk screens, with fixed values."""

    def __init__(self) -> None:
        self._firm = FIRM
        self.failures: dict[str, int] = {}
        self.refunds: list[tuple[int, Money | None, str]] = []
        self.checkout_refunds: list[tuple[int, str]] = []
        self.offline: list[tuple[int, dict[int, Money], str, str]] = []
        self.shares: list[tuple[int, str, str | None]] = []
        self.switches: list[dict[str, bool | None]] = []
        self.payments_calls: list[dict[str, object]] = []

    def firm(self) -> FirmInfo:
        return self._firm

    def set_firm_switches(self, staff, *, online=None, multi_invoice=None) -> FirmInfo:
        if not staff.is_admin:
            raise NotAllowed("Only an admin can change the firm's settings.")
        self.switches.append({"online": online, "multi_invoice": multi_invoice})
        if online is not None:
            self._firm = replace(self._firm, online_payments_enabled=online)
        if multi_invoice is not None:
            self._firm = replace(self._firm, multi_invoice_payments_enabled=multi_invoice)
        return self._firm

    def sign_in_staff(self, name: str, pin: str) -> StaffSession:
        staff = {"Front Desk": (FRONT_DESK, "2468"), "Avery Admin": (ADMIN, "1357")}.get(name)
        if staff is None:
            raise SignInFailed("Wrong name or PIN.")
        if self.failures.get(name, 0) >= 5:
            raise StaffLocked("Locked", NOW + dt.timedelta(minutes=15))
        if pin != staff[1]:
            self.failures[name] = self.failures.get(name, 0) + 1
            left = 5 - self.failures[name]
            if left <= 0:
                raise StaffLocked("Locked", NOW + dt.timedelta(minutes=15))
            raise SignInFailed(f"Wrong name or PIN. {left} attempts left.")
        self.failures[name] = 0
        return staff[0]

    def find_clients(self, staff, query: str, limit: int = 50) -> list[ClientSummary]:
        q = query.strip().lower()
        everyone = [DANA, *OTHERS]
        if not q:
            return everyone[:limit]
        hits = [c for c in everyone if q in c.name.lower() or q in c.email.lower()
                or any(q in n.lower() for n in c.case_numbers)]
        if q.startswith("inv-") and any(q == i.number.lower() for i in DANA_INVOICES):
            hits = [DANA]
        return hits[:limit]

    def payer_for_client(self, staff, client_id: int) -> Payer:
        client = next(c for c in [DANA, *OTHERS] if c.client_id == client_id)
        return Payer("staff", client.client_id, client.name, client.email, staff=staff)

    def payer_for_code(self, code: str):
        raise SignInFailed("That code opens nothing.")

    def payments(self, staff, *, client_id=None, checkout_id=None, status=None, text="", limit=200):
        self.payments_calls.append({"client_id": client_id, "status": status, "text": text})
        rows = PAYMENTS
        if client_id is not None:
            name = next(c.name for c in [DANA, *OTHERS] if c.client_id == client_id)
            rows = [r for r in rows if r.client_name == name]
        if checkout_id is not None:
            rows = [r for r in rows if r.checkout_id == checkout_id]
        if status:
            rows = [r for r in rows if r.status == status]
        if text:
            t = text.lower()
            rows = [r for r in rows if t in f"{r.client_name} {r.invoice_number} {r.card} {r.reference}".lower()]
        return rows[:limit]

    def refund(self, staff, invoice_payment_id: int, amount: Money | None, reason: str) -> RefundResult:
        self.refunds.append((invoice_payment_id, amount, reason))
        row = next(r for r in PAYMENTS if r.invoice_payment_id == invoice_payment_id)
        return RefundResult(901, invoice_payment_id, row.invoice_number, amount or row.refundable,
                            "succeeded", "RFD-000901")

    def refund_checkout(self, staff, checkout_id: int, reason: str) -> list[RefundResult]:
        self.checkout_refunds.append((checkout_id, reason))
        return [
            RefundResult(900 + i, r.invoice_payment_id, r.invoice_number, r.refundable, "succeeded",
                         f"RFD-00090{i}")
            for i, r in enumerate(PAYMENTS)
            if r.checkout_id == checkout_id and r.refundable.minor > 0
        ]

    def shareable_invoices(self, staff, client_id: int) -> list[PayableInvoice]:
        return DANA_INVOICES if client_id == DANA.client_id else []

    def record_offline_payment(self, staff, client_id: int, amounts: Mapping[int, Money], method: str,
                               reference: str) -> CheckoutResult:
        self.offline.append((client_id, dict(amounts), method, reference))
        by_id = {i.invoice_id: i for i in DANA_INVOICES}
        txs = tuple(
            TransactionResult(700 + n, iid, by_id[iid].number, by_id[iid].case_title, amount, "recorded",
                              None, f"RCP-00070{n}", None, None, "")
            for n, (iid, amount) in enumerate(amounts.items())
        )
        return CheckoutResult(61, "succeeded", txs, Money.sum_of(amounts.values(), "USD"), DANA.email)

    def share_invoice(self, staff, invoice_id: int, channel: str, recipient: str | None) -> ShareResult:
        self.shares.append((invoice_id, channel, recipient))
        number = next(i.number for i in DANA_INVOICES if i.invoice_id == invoice_id)
        code = "PAY-7Q4K-2M9X" if channel in ("text_link", "copied_link") else None
        return ShareResult(number, channel, recipient, code)

    def audit_log(self, staff, *, limit: int = 200, offset: int = 0) -> list[AuditRow]:
        return AUDIT[offset:offset + limit]

    def receipt_text(self, reference: str, *, payer=None) -> str:
        return (
            "Harbor & Vale LLP\nReceipt " + reference + "\n\n"
            "Invoice   INV-1004 (WHI-2024-017)\nPaid      $530.50\nCard      Visa •••• 4242\n"
            "Date      2026-10-14 09:12\n"
        )


class DeskTestApp(App[None]):
    """Shows one screen over a blank base, with the stand-in desk (or a real one)."""

    def __init__(self, screen_factory, desk=None, *, demo_sign_ins: bool = True) -> None:
        super().__init__()
        self.desk = desk if desk is not None else FakeDesk()
        self.demo_hints = demo_hints() if demo_sign_ins else None
        self.firm = self.desk.firm()
        self.cursor_blink = False  # tui.widgets.TextField: no blinking cursor in snapshots
        self.is_kiosk = False
        self._screen_factory = screen_factory
        self.results: list[object] = []

    def on_mount(self) -> None:
        self.push_screen(self._screen_factory(), callback=self.results.append)


class BlankScreen(Screen[None]):
    pass
