"""The first step of a bank debit checkout: check the numbers and the authorization, hold
the invoices as a card checkout does (billing.reserve), and record the authorization, its
audit entry and the client's emails in the same transaction, before Stripe is asked
anything. A bad entry gets a message and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from billing import bank_emails, lease
from billing.bank_authorization import authorization_text, record_authorization
from billing.bank_values import TEL, WEB, AuthorizationContext, BankAccountEntry
from billing.errors import (
    AmountRejected,
    BalancesChanged,
    BillingError,
    NotAllowed,
    PaymentsDisabled,
)
from billing.keys import new_key
from billing.reservations import balance_change, check_reservable, held_minor
from billing.values import BalanceChange, Payer
from gateway.bank_debits import ACCOUNT_INVALID, ROUTING_INVALID, routing_number_ok
from models.db import for_update, write_transaction
from models.firm import Client, utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment
from models.queries import payable_invoices

TEXT_CHANGED = ("The amounts changed since the authorization was shown. Show it again and "
                "ask for a new confirmation.")


def digits_of(text: str) -> str:
    """The number as typed, without spaces or dashes."""
    return "".join((text or "").split()).replace("-", "")


def check_entry(entry: BankAccountEntry) -> None:
    """BillingError with a clear message unless the routing number passes the ABA checksum,
    the account number has 4 to 17 digits and the holder is named."""
    if not routing_number_ok(digits_of(entry.routing)):
        raise BillingError(ROUTING_INVALID)
    account = digits_of(entry.account)
    if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
        raise BillingError(ACCOUNT_INVALID)
    if not entry.holder_name.strip():
        raise BillingError("Enter the name of the account holder.")
    if entry.holder_type not in ("individual", "company") \
            or entry.account_type not in ("checking", "savings"):
        raise BillingError("The account is a checking or savings account of an individual "
                           "or a company.")


def _check_who(payer: Payer, context: AuthorizationContext) -> None:
    if payer.kind == "code":
        raise NotAllowed("A payment link is paid by card; bank debits need a client "
                         "sign-in or the front desk.")
    if context.kind not in (WEB, TEL):
        raise BillingError("A bank debit is authorized online (WEB) or by telephone (TEL).")
    if payer.kind == "client" and context.kind != WEB:
        raise NotAllowed("A client authorizes a bank debit on screen (online).")
    if payer.kind == "staff" and context.kind != TEL:
        raise NotAllowed("Staff take a bank debit authorization over the telephone.")
    if not context.confirmation.strip():
        raise BillingError("The payer's agreement must be confirmed.")
    if context.kind == WEB and not ((context.ip_address or "").strip()
                                    and (context.user_agent or "").strip()):
        # Stripe's online acceptance carries both, and must say what the record says.
        raise BillingError("An online authorization needs the payer's IP address and "
                           "terminal (user agent) on record.")


def reserve_bank_checkout(payer: Payer, amounts: Mapping[int, Money],
                          entry: BankAccountEntry, context: AuthorizationContext, *,
                          today: dt.date) -> int:
    """Hold the invoices and record the authorization; the checkout id. Raises a
    BillingError (nothing changed) when a rule is broken or the text shown is not the text
    for these amounts today."""
    if not amounts:
        raise BillingError("Choose at least one invoice to pay.")
    _check_who(payer, context)
    check_entry(entry)
    client = Client.get_or_none(Client.id == payer.client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    firm = client.firm
    if not (firm.online_payments_enabled and firm.bank_debits_enabled):
        raise PaymentsDisabled(f"{firm.name} does not take bank debits at the moment.")
    if len(amounts) > 1 and not firm.multi_invoice_payments_enabled:
        raise PaymentsDisabled("Pay one invoice at a time: paying several invoices at once "
                               "is switched off for this firm.")
    if (firm.currency or "").upper() != "USD":
        raise PaymentsDisabled("Bank debits (ACH) are in US dollars only.")
    if context.kind == TEL and not (payer.email or client.email or "").strip():
        # The written notice a TEL debit needs goes by email, before settlement.
        raise BillingError("A debit authorized by telephone needs the client's email "
                           "address for its written notice. Add it to the client first.")
    allowed = {i.invoice_id for i in payable_invoices(client.id, today=today)}
    ids = sorted(amounts)
    for invoice_id in ids:
        if invoice_id not in allowed:
            raise NotAllowed("That invoice cannot be paid here.")
    if context.text != authorization_text(firm, payer, amounts, context.kind, today,
                                          last4=entry.last4, holder=entry.holder_name):
        if context.text == authorization_text(firm, payer, amounts, context.kind, today,
                                              last4=entry.last4):
            # The text names the client, while someone else holds the account.
            raise BillingError(f"The authorization must name the account holder, "
                               f"{entry.holder_name.strip()}. Show it again with that name.")
        raise BillingError(TEXT_CHANGED)
    with write_transaction():
        invoices = {i.id: i for i in for_update(
            Invoice.select().where(Invoice.id.in_(ids)).order_by(Invoice.id))}
        held = held_minor(ids)
        changes: list[BalanceChange] = []
        reasons: list[str] = []
        for invoice_id in ids:
            invoice = invoices[invoice_id]
            try:
                check_reservable(invoice, amounts[invoice_id], held.get(invoice_id, 0),
                                 card=True, locale=firm.locale)
            except AmountRejected as exc:
                change = balance_change(invoice, amounts[invoice_id], held.get(invoice_id, 0))
                if change is None:
                    raise
                changes.append(change)
                reasons.append(exc.reason)
        if changes:
            raise BalancesChanged(tuple(changes), tuple(reasons))
        checkout = Checkout.create(
            firm=firm, client=client, payer_kind=payer.kind,
            staff=payer.staff.staff_id if payer.staff else None, payer_email=payer.email,
            method="bank_debit", payment_method_type="us_bank_account", currency=firm.currency,
            total_minor=sum(amounts[i].minor for i in ids),
            customer_key=new_key("customer"), payment_method_key=new_key("bank-account"),
            terminal=context.terminal, status="reserved",
            # This process drives the debits: reconciliation leaves them alone until the
            # lease lapses (billing.lease, billing.bank_recovery).
            **lease.claim(utcnow()))
        for position, invoice_id in enumerate(ids):
            InvoicePayment.create(
                checkout=checkout, invoice=invoice_id, position=position,
                amount_minor=amounts[invoice_id].minor, payment_method_type="us_bank_account",
                authorize_key=new_key("bank-debit"), cancel_key=new_key("cancel"))
        authorization = record_authorization(checkout.id, payer, context, entry.last4)
        bank_emails.queue_authorization_copy(authorization)
        if context.kind == TEL:
            bank_emails.queue_telephone_notice(authorization)
    return checkout.id
