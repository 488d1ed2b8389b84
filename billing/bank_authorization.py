"""The words of a bank debit authorization (NACHA: WEB, online; TEL, read aloud on a call)
and its record, kept append-only with its audit entry before Stripe is asked anything."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping

import peewee as pw

from billing.audit import actor_of_payer, audit
from billing.bank_values import TEL, WEB, AuthorizationContext
from billing.errors import BillingError
from billing.values import Payer
from models.bank_debits import BankAuthorization, BankMandate
from models.db import database
from models.firm import Firm, PortalAccount
from models.invoices import Invoice
from models.money import Money, format_money

REVOKE = ("You may revoke this authorization for any debit not yet made by contacting "
          "{firm} at {contact} at least 3 business days before that debit.")


def _contact(firm: Firm) -> str:
    parts = [p.strip() for p in (firm.phone, firm.email) if p and p.strip()]
    return " or ".join(parts) or "its office"


def authorization_text(firm: Firm, payer: Payer, selection: Mapping[int, Money], kind: str,
                       today: dt.date, *, last4: str = "", holder: str = "") -> str:
    """The exact text the payer agrees to: the firm, each invoice with its amount, the total,
    the date, one debit per invoice, and the right to revoke and how. TEL: the script the
    staff member reads aloud, ending with the question the payer answers. `holder`: the
    account holder's name, who authorizes (the client when not given)."""
    if kind not in (WEB, TEL):
        raise BillingError("A bank debit is authorized online (WEB) or by telephone (TEL).")
    if not selection:
        raise BillingError("Choose at least one invoice to pay.")
    invoices = {i.id: i for i in Invoice.select().where(Invoice.id.in_(list(selection)))}
    currency = firm.currency
    lines = [f"  {invoices[i].number}: {format_money(selection[i], firm.locale)}"
             for i in sorted(selection) if i in invoices]
    total = Money.sum_of(selection.values(), currency)
    account = f"the bank account ending {last4}" if last4 else "the bank account given"
    count = len(lines)
    debits = "one debit" if count == 1 else f"{count} separate debits, one per invoice"
    body = [
        f"Date: {today.isoformat()}",
        f"I, {(holder or '').strip() or payer.client_name}, authorize {firm.name} to debit {account} by ACH for "
        f"these invoices:",
        *lines,
        f"Total: {format_money(total, firm.locale)}, as {debits}, each on or after "
        f"{today.isoformat()}.",
        "Each debit settles on its own in a few business days; one can fail while the "
        "others succeed.",
        REVOKE.format(firm=firm.name, contact=_contact(firm)),
    ]
    if kind == TEL:
        return "\n".join([
            f"(Read aloud) This call is with {firm.name}. With your agreement, we will "
            "record this authorization.", *body,
            "A written notice of these debits will be emailed to you before they settle.",
            "Do you authorize these debits? (The client must answer yes.)"])
    return "\n".join([*body, "Select Confirm to authorize these debits."])


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_authorization(checkout_id: int, payer: Payer, context: AuthorizationContext,
                         last4: str) -> BankAuthorization:
    """The authorization and its audit entry, in the caller's transaction (which also
    reserves the checkout): both exist before any request reaches Stripe."""
    account = None
    if payer.kind == "client" and payer.email:
        account = PortalAccount.get_or_none(PortalAccount.email == payer.email)
    digest = text_sha256(context.text)
    row = BankAuthorization.create(
        checkout=checkout_id, client=payer.client_id, kind=context.kind,
        portal_account=account.id if account else None,
        staff=payer.staff.staff_id if payer.staff else None,
        terminal=context.terminal[:120], ssh_peer=(context.ssh_peer or None),
        ip_address=context.ip_address, user_agent=(context.user_agent or None),
        text=context.text, text_sha256=digest, confirmation=context.confirmation,
        last4=last4[-4:])
    audit(actor=actor_of_payer(payer), action="bank.authorize",
          subject=f"checkout:{checkout_id}", result=context.kind, terminal=context.terminal,
          details=(f"bank_authorization:{row.id} kind={context.kind} sha256={digest} "
                   f"account ending {last4[-4:]} ssh_peer={context.ssh_peer or '-'} "
                   f"confirmation: {context.confirmation}"))
    return row


def record_mandate(authorization_id: int, mandate_id: str, bank_name: str) -> None:
    """Stripe's mandate for the authorization, once: a replay, or another process
    recording the same answer at the same moment, finds it already kept (the id is
    unique; the savepoint keeps the caller's transaction usable)."""
    if BankMandate.get_or_none(BankMandate.stripe_mandate_id == mandate_id) is not None:
        return
    try:
        with database.atomic():
            BankMandate.create(authorization=authorization_id, stripe_mandate_id=mandate_id,
                               bank_name=bank_name[:100])
    except pw.IntegrityError:
        pass  # kept by the other one
