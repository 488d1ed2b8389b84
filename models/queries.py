"""What a payer may see: the payable invoices of a client, and the invoice a code opens.

Both return plain frozen values, never ORM rows, and run a fixed number of queries
whatever the number of invoices.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

import peewee as pw

from models.firm import Case, Client, PortalAccount
from models.invoices import (
    LINK_CHANNELS,
    LISTING_CHANNELS,
    Invoice,
    InvoiceShare,
    PaymentPlan,
    PlanInstalment,
)
from models.money import Money
from models.security import hash_payment_code


@dataclass(frozen=True)
class InstalmentDue:
    """The part of a payment plan to pay now: what remains of the first instalment
    not yet covered by what was paid."""

    amount: Money
    due_date: dt.date
    sequence: int
    of: int
    overdue: bool


@dataclass(frozen=True)
class PlanInstalmentRow:
    """One instalment of an invoice's payment plan and how much of it is paid. Payments
    count towards the instalments in their order, as for the instalment now due."""

    sequence: int
    of: int
    due_date: dt.date
    amount: Money
    paid: Money
    due_now: bool  # the first instalment not paid in full: the one to pay now
    overdue: bool  # fell due before today and is not paid in full

    @property
    def left(self) -> Money:
        return self.amount - self.paid

    @property
    def state(self) -> str:
        """"paid", "part paid" or "unpaid"."""
        if self.left.minor <= 0:
            return "paid"
        return "part paid" if self.paid.minor else "unpaid"


@dataclass(frozen=True)
class PayableInvoice:
    invoice_id: int
    number: str
    client_id: int
    case_number: str
    case_title: str
    issue_date: dt.date
    due_date: dt.date
    total: Money
    paid: Money
    instalment_due: InstalmentDue | None = None

    @property
    def balance(self) -> Money:
        return self.total - self.paid

    @property
    def currency(self) -> str:
        return self.total.currency


def _today() -> dt.date:
    # Instalments fall due on the firm's calendar day, which is the terminal's local day.
    return dt.date.today()  # noqa: DTZ011


def _issued_with_balance() -> pw.Expression:
    return (Invoice.status == "issued") & (Invoice.paid_minor < Invoice.total_minor)


def _schedule(rows: list[dict], covered: int, currency: str,
              today: dt.date) -> tuple[PlanInstalmentRow, ...]:
    """The instalments of one plan (rows in sequence order), given what was paid."""
    out: list[PlanInstalmentRow] = []
    start = 0
    for row in rows:
        amount = row["amount_minor"]
        paid = max(0, min(amount, covered - start))
        start += amount
        left = amount - paid
        out.append(PlanInstalmentRow(
            sequence=row["sequence"], of=len(rows), due_date=row["due_date"],
            amount=Money(amount, currency), paid=Money(paid, currency),
            due_now=left > 0 and all(not r.due_now for r in out),
            overdue=left > 0 and row["due_date"] < today,
        ))
    return tuple(out)


def plan_schedule(invoice_id: int, *, paid_minor: int, currency: str,
                  today: dt.date) -> tuple[PlanInstalmentRow, ...]:
    """The payment plan of one invoice, instalment by instalment (empty if it has none)."""
    return _schedules([invoice_id], {invoice_id: paid_minor}, {invoice_id: currency},
                      today).get(invoice_id, ())


def _schedules(
    invoice_ids: list[int], paid: dict[int, int], currency: dict[int, str], today: dt.date,
    scope: pw.ModelSelect | None = None,
) -> dict[int, tuple[PlanInstalmentRow, ...]]:
    """One query for the plans of all the given invoices. `scope`, a query of invoice ids
    that holds them all (a client's invoices), replaces a list of thousands of ids: the
    statement stays the same size, and building it no longer grows with the page."""
    if not invoice_ids:
        return {}
    rows = (
        PlanInstalment.select(
            PaymentPlan.invoice_id.alias("invoice_id"),
            PlanInstalment.sequence,
            PlanInstalment.due_date,
            PlanInstalment.amount_minor,
        )
        .join(PaymentPlan)
        .where(PaymentPlan.invoice.in_(invoice_ids if scope is None else scope))
        .order_by(PaymentPlan.invoice, PlanInstalment.sequence)
        .dicts()
    )
    schedules: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        if row["invoice_id"] in paid:
            schedules[row["invoice_id"]].append(row)
    return {invoice_id: _schedule(schedule, paid[invoice_id], currency[invoice_id], today)
            for invoice_id, schedule in schedules.items()}


def _instalments_due(
    invoice_ids: list[int], paid: dict[int, int], currency: dict[int, str], today: dt.date,
    scope: pw.ModelSelect | None = None,
) -> dict[int, InstalmentDue]:
    """The instalment now due of each given invoice with a plan (one query for all)."""
    due: dict[int, InstalmentDue] = {}
    for invoice_id, schedule in _schedules(invoice_ids, paid, currency, today, scope).items():
        now = next((i for i in schedule if i.due_now), None)
        if now is not None:
            due[invoice_id] = InstalmentDue(amount=now.left, due_date=now.due_date,
                                            sequence=now.sequence, of=now.of,
                                            overdue=now.overdue)
    return due


def _to_values(rows: list[dict], today: dt.date,
               scope: pw.ModelSelect | None = None) -> list[PayableInvoice]:
    paid = {r["id"]: r["paid_minor"] for r in rows}
    currency = {r["id"]: r["currency"] for r in rows}
    due = _instalments_due(list(paid), paid, currency, today, scope)
    return [
        PayableInvoice(
            invoice_id=r["id"],
            number=r["number"],
            client_id=r["client"],
            case_number=r["case_number"],
            case_title=r["case_title"],
            issue_date=r["issue_date"],
            due_date=r["due_date"],
            total=Money(r["total_minor"], r["currency"]),
            paid=Money(r["paid_minor"], r["currency"]),
            instalment_due=due.get(r["id"]),
        )
        for r in rows
    ]


def _invoice_columns() -> pw.ModelSelect:
    return Invoice.select(
        Invoice.id, Invoice.number, Invoice.client, Invoice.issue_date, Invoice.due_date,
        Invoice.total_minor, Invoice.paid_minor, Invoice.currency,
        Case.number.alias("case_number"), Case.title.alias("case_title"),
    ).join(Case)


def payable_invoices(
    client: Client | int, *, today: dt.date | None = None
) -> list[PayableInvoice]:
    """The invoices on the client's payment page, across all their cases: issued, with a
    balance, and shared with the client by email or through the portal. An invoice shared
    only by a payment link is left off. Two queries, whatever the number of invoices.
    Ordered by case, then due date, then number."""
    client_id = client if isinstance(client, int) else client.id
    listed = InvoiceShare.select(InvoiceShare.id).where(
        (InvoiceShare.invoice == Invoice.id) & InvoiceShare.channel.in_(LISTING_CHANNELS)
    )
    rows = list(
        _invoice_columns()
        .where((Invoice.client == client_id) & _issued_with_balance() & pw.fn.EXISTS(listed))
        .order_by(Case.number, Invoice.due_date, Invoice.number)
        .dicts()
    )
    return _to_values(rows, today or _today(),
                      scope=Invoice.select(Invoice.id).where(Invoice.client == client_id))


def invoice_for_payment_code(
    code: str, *, today: dt.date | None = None
) -> PayableInvoice | None:
    """The one invoice a payment code opens, if it is still issued with a balance;
    None for an unknown code or an invoice with nothing left to pay."""
    if not code or not code.strip():
        return None
    rows = list(
        _invoice_columns()
        .join_from(Invoice, InvoiceShare)
        .where(
            (InvoiceShare.code_hash == hash_payment_code(code))
            & InvoiceShare.channel.in_(LINK_CHANNELS)
            & _issued_with_balance()
        )
        .dicts()
    )
    return _to_values(rows, today or _today())[0] if rows else None


_STATUS_WORD = re.compile(r"[a-z_]+")


def status_literally_in(field: pw.Field, statuses: tuple[str, ...], *,
                        negate: bool = False) -> pw.Expression:
    """`field IN ('a', 'b')` (NOT IN with `negate`) with the values written into the SQL.
    The partial indexes checkout_open and refund_open (migration 0007) serve only a query
    that repeats their condition, and SQLite does not count a bound parameter as the same
    value: reconciliation's scans must use this, with the statuses in the index's order."""
    if not statuses or not all(_STATUS_WORD.fullmatch(s) for s in statuses):
        raise ValueError(f"not a list of status words: {statuses!r}")
    values = pw.SQL("(" + ", ".join(f"'{s}'" for s in statuses) + ")")
    return pw.Expression(field, pw.OP.NOT_IN if negate else pw.OP.IN, values)


def portal_account_by_email(email: str) -> pw.ModelSelect:
    """The portal account (with its client) signing in with `email`, already trimmed and
    lower-cased; served by the index portal_account_email_lower."""
    return (PortalAccount.select(PortalAccount, Client).join(Client)
            .where(pw.fn.LOWER(PortalAccount.email) == email))
