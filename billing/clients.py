"""Who pays: client sign-in (limited per email and per terminal), payment-code holders,
staff finding a client, and what each may see (their payable invoices, an invoice's
details)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import peewee as pw

from billing import sign_in_guard as guard
from billing.audit import audit
from billing.errors import NotAllowed, SignInFailed, SignInLocked
from billing.reservations import net_of_holds
from billing.values import (
    ClientSummary,
    InvoiceDetails,
    InvoiceHistoryRow,
    InvoiceLineRow,
    Payer,
    StaffSession,
)
from models.client_search import search_clients
from models.firm import Case, Client, Firm
from models.invoices import Invoice, InvoiceLine
from models.money import Money
from models.payments import Checkout, InvoicePayment, Refund
from models.queries import (
    PayableInvoice,
    invoice_for_payment_code,
    payable_invoices,
    plan_schedule,
    portal_account_by_email,
)
from models.security import verify_secret

# Checked for an unknown email, so it takes as long as a wrong password: the hash of
# "paydesk-no-such-account", made once with models.security's parameters (not at import).
DUMMY_HASH = "$argon2id$v=19$m=19456,t=2,p=1$zRlTQxZX3aybl4CUv36qeg$2PEpR7zsZ/vWk8wDGR4k+uBupDdxu5Nr0ZCKhhgP0bM"  # noqa: S105 - a hash of a made-up password
WRONG_SIGN_IN = "Wrong email or password."
WRONG_CODE = "That payment code does not open an invoice with a balance. Check the code."
# Wrong passwords for one email (whether or not it has an account), and wrong sign-ins of
# any email at one terminal (an SSH session's terminal names its peer address), before
# sign-in locks for 15 minutes.
MAX_FAILURES = 5
MAX_TERMINAL_FAILURES = 10


def _wrong_message(left: int) -> str:
    return (f"{WRONG_SIGN_IN} {guard.tries(left)} left before sign-in "
            "is locked for 15 minutes.")


def _locked_message(locked: guard.GuardLocked, now: dt.datetime) -> str:
    span = guard.more_minutes(locked.until, now)
    if locked.limit.scope == "terminal":
        return f"Too many wrong sign-ins at this terminal: sign-in here is locked for {span}."
    return f"Too many wrong passwords: sign-in with this email is locked for {span}."


def sign_in_client(email: str, password: str, *, terminal: str,
                   clock: Callable[[], dt.datetime]) -> Payer:
    """The payer for a portal account. SignInFailed for a wrong email or password, saying
    how many tries are left; SignInLocked after MAX_FAILURES wrong passwords for the email
    or MAX_TERMINAL_FAILURES at the terminal. An unknown email is answered the same way,
    after the same work, as a wrong password."""
    email = (email or "").strip().lower()
    password = password or ""
    account = portal_account_by_email(email).first() if email else None
    limits = (guard.Limit("client", email, MAX_FAILURES),
              guard.Limit("terminal", terminal, MAX_TERMINAL_FAILURES,
                          forgiven_by_success=False))
    try:
        claim = guard.claim(limits, clock)
    except guard.GuardLocked as exc:
        raise SignInLocked(_locked_message(exc, clock()), exc.until) from None
    except guard.GuardBusy:
        raise SignInFailed("Sign-in is busy: try again in a moment.") from None
    ok = verify_secret(account.password_hash if account else DUMMY_HASH, password)
    ok = ok and account is not None

    def record(outcome: guard.Settled) -> None:
        audit(actor=f"client:{account.client.email}" if account else "client:unknown",
              action="client.sign_in",
              subject=f"client:{account.client_id}" if account else "client:unknown",
              result=outcome.result, terminal=terminal)

    now = clock()
    outcome = guard.settle(claim, ok, now, record)
    if outcome.locked is not None:
        raise SignInLocked(_locked_message(outcome.locked, now), outcome.locked.until)
    if outcome.result != "ok":
        raise SignInFailed(_wrong_message(outcome.attempts_left), outcome.attempts_left)
    client = account.client
    return Payer(kind="client", client_id=client.id, client_name=client.name, email=client.email)


def payer_for_code(code: str, *, today: dt.date) -> tuple[Payer, PayableInvoice]:
    """The code holder and the one invoice the code opens (balance net of open checkouts)."""
    invoice = invoice_for_payment_code(code or "", today=today)
    if invoice is None:
        raise SignInFailed(WRONG_CODE)
    client = Client.get_by_id(invoice.client_id)
    payer = Payer(kind="code", client_id=client.id, client_name=client.name, email=None,
                  code_invoice_id=invoice.invoice_id)
    listed = net_of_holds([invoice])
    if not listed:
        raise SignInFailed("That invoice is being paid right now. Try again in a few minutes.")
    return payer, listed[0]


def payer_for_client(staff: StaffSession, client_id: int) -> Payer:
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    return Payer(kind="staff", client_id=client.id, client_name=client.name,
                 email=client.email, staff=staff)


def payable_for(payer: Payer, *, today: dt.date) -> list[PayableInvoice]:
    """The payer's payment page; a code payer sees only the code's invoice."""
    if payer.kind == "code":
        invoices = [i for i in payable_invoices(payer.client_id, today=today)
                    if i.invoice_id == payer.code_invoice_id]
        if not invoices:
            invoice = _code_invoice(payer, today)
            invoices = [invoice] if invoice else []
        return net_of_holds(invoices)
    return net_of_holds(payable_invoices(payer.client_id, today=today))


def _code_invoice(payer: Payer, today: dt.date) -> PayableInvoice | None:
    """A code payer's invoice, which need not be on the client's payment page."""
    row = (
        Invoice.select(Invoice, Case).join(Case)
        .where((Invoice.id == payer.code_invoice_id) & (Invoice.client == payer.client_id)
               & (Invoice.status == "issued") & (Invoice.paid_minor < Invoice.total_minor))
        .first()
    )
    if row is None:
        return None
    return PayableInvoice(
        invoice_id=row.id, number=row.number, client_id=row.client_id,
        case_number=row.case.number, case_title=row.case.title, issue_date=row.issue_date,
        due_date=row.due_date, total=Money(row.total_minor, row.currency),
        paid=Money(row.paid_minor, row.currency),
    )


def find_clients(query: str, limit: int = 50) -> list[ClientSummary]:
    """Clients whose name, email, case number or invoice number contains `query`.
    At most six queries whatever the number of matches (see models.client_search)."""
    text = (query or "").strip()
    limit = max(1, min(int(limit), 200))
    rows = search_clients(text, limit)
    ids = [c.id for c in rows]
    cases: dict[int, list[str]] = {i: [] for i in ids}
    for case in Case.select(Case.client, Case.number).where(Case.client.in_(ids)).order_by(Case.number):
        cases[case.client_id].append(case.number)
    totals: dict[int, tuple[int, int, str]] = {}
    if ids:
        for client_id, count, balance, currency in (
            Invoice.select(Invoice.client, pw.fn.COUNT(Invoice.id),
                           pw.fn.SUM(Invoice.total_minor - Invoice.paid_minor), Invoice.currency)
            .where(Invoice.client.in_(ids) & (Invoice.status == "issued")
                   & (Invoice.paid_minor < Invoice.total_minor))
            .group_by(Invoice.client, Invoice.currency).tuples()
        ):
            totals[client_id] = (int(count), int(balance or 0), currency)
    currency = _firm_currency()
    return [
        ClientSummary(
            client_id=c.id, name=c.name, email=c.email, case_numbers=tuple(cases[c.id]),
            payable_count=totals.get(c.id, (0, 0, currency))[0],
            balance=Money(totals.get(c.id, (0, 0, currency))[1],
                          totals.get(c.id, (0, 0, currency))[2]),
        )
        for c in rows
    ]


def _firm_currency() -> str:
    firm = Firm.select(Firm.currency).first()
    return firm.currency if firm else "USD"


def invoice_details(payer: Payer, invoice_id: int, *, today: dt.date) -> InvoiceDetails:
    """Line items and history of one of the payer's invoices; NotAllowed for code payers
    and for another client's invoice."""
    if not payer.may_see_details:
        raise NotAllowed("Sign in to the Client Portal to see invoice details.")
    row = (
        Invoice.select(Invoice, Case).join(Case)
        .where((Invoice.id == invoice_id) & (Invoice.client == payer.client_id)
               & (Invoice.status != "draft"))
        .first()
    )
    if row is None:
        raise NotAllowed("That invoice is not one of yours.")
    cur = row.currency
    value = PayableInvoice(
        invoice_id=row.id, number=row.number, client_id=row.client_id,
        case_number=row.case.number, case_title=row.case.title, issue_date=row.issue_date,
        due_date=row.due_date, total=Money(row.total_minor, cur), paid=Money(row.paid_minor, cur),
    )
    listed = {i.invoice_id: i for i in payable_invoices(payer.client_id, today=today)}
    value = listed.get(row.id, value)
    lines = tuple(
        InvoiceLineRow(position=ln.position, service_date=ln.service_date,
                       description=ln.description, amount=Money(ln.amount_minor, cur))
        for ln in InvoiceLine.select().where(InvoiceLine.invoice == row.id)
        .order_by(InvoiceLine.position)
    )
    plan = plan_schedule(row.id, paid_minor=row.paid_minor, currency=cur, today=today)
    return InvoiceDetails(invoice=value, lines=lines, history=tuple(_history(row.id, cur)),
                          plan=plan)


def _card_detail(checkout: Checkout) -> str:
    if checkout.method in ("check", "cash", "bank_transfer"):
        kind = checkout.method.replace("_", " ")
        return f"{kind} {checkout.reference}" if checkout.reference else kind
    if checkout.method == "bank_debit":
        from billing.receipts import bank_label  # loaded after the first screen

        return bank_label(checkout.card_last4)
    if checkout.card_last4:
        return f"{(checkout.card_brand or 'card').title()} •••• {checkout.card_last4}"
    return "card"


def _history(invoice_id: int, currency: str) -> list[InvoiceHistoryRow]:
    out: list[InvoiceHistoryRow] = []
    payments = (
        InvoicePayment.select(InvoicePayment, Checkout).join(Checkout)
        .where((InvoicePayment.invoice == invoice_id)
               & InvoicePayment.status.in_(("captured", "recorded")))
    )
    for p in payments:
        out.append(InvoiceHistoryRow(
            at=p.completed_at or p.checkout.created_at, kind="payment", method=p.checkout.method,
            amount=Money(p.amount_minor, currency), status=p.status,
            reference=p.receipt_number, detail=_card_detail(p.checkout)))
    refunds = (
        Refund.select(Refund, InvoicePayment, Checkout).join(InvoicePayment).join(Checkout)
        .where(InvoicePayment.invoice == invoice_id)
    )
    for r in refunds:
        out.append(InvoiceHistoryRow(
            at=r.completed_at or r.created_at, kind="refund",
            method=r.invoice_payment.checkout.method, amount=Money(r.amount_minor, currency),
            status=r.status, reference=r.receipt_number, detail=r.reason))
    return sorted(out, key=lambda h: h.at)
