"""The audit log as staff read it: names for ids, amounts in money, actions in words."""

from __future__ import annotations

import re

from billing.desk_base import DeskBase
from billing.lazy_import import LazyModule
from billing.values import AuditRow, StaffSession
from models.firm import Client, Firm, Staff
from models.money import Money, format_money
from models.records import AuditEntry

# Loaded when first used: the first screen is drawn before it is needed.
staff = LazyModule("billing.staff")


class DeskAudit(DeskBase):
    """The audit log, newest first, a page at a time."""

    def audit_log(self, staff_session: StaffSession, *, limit: int = 200,
                  offset: int = 0) -> list[AuditRow]:
        staff.require_staff(staff_session)
        entries = list(AuditEntry.select()
                       .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                       .limit(max(1, min(limit, 1000))).offset(max(0, offset)))
        return audit_rows(entries, self._firm())


# The audit log's actions in words; an action not listed here is shown as it is stored.
ACTION_WORDS = {
    "payment.capture": "payment captured",
    "checkout.fail": "checkout failed",
    "offline_payment.record": "offline payment",
    "refund": "refund",
    "staff.sign_in": "staff sign-in",
    "client.sign_in": "client sign-in",
    "firm.switches": "settings changed",
    "invoice.share": "invoice shared",
    "duplicate saved card removed": "duplicate card removed",
    "firm.details": "firm details changed",
    "bank.authorize": "bank debit authorized",
    "bank_debit.start": "bank debit started",
    "bank_debit.settle": "bank debit settled",
    "bank_debit.fail": "bank debit failed",
    "phone_page.close": "phone card page closed",
    "bank_debit.release": "bank debit not made",
    # What Stripe reported (billing.events and the modules it hands events to).
    "payment.release": "card hold released",
    "dispute.open": "dispute opened",
    "dispute.withdraw": "disputed money taken",
    "dispute.reinstate": "disputed money returned",
    "dispute.close": "dispute closed",
    "event": "Stripe event set aside",
    "events.sync": "Stripe events may be missed",
}
# Ids in an entry's details that only the raw view shows.
_RAW_ONLY = ("invoice_payment:", "refund:", "payment_intent:")


class _Names:
    """Names for the ids in a page of audit entries, read in a few queries."""

    def __init__(self, entries: list[AuditEntry], firm: Firm) -> None:
        texts = [t for e in entries for t in (e.actor, e.subject)]
        ids = {v for t in texts for v in re.findall(r"client:(\d+)", t)}
        emails = {v for t in texts for v in re.findall(r"client:([^\s:]+@[^\s]+)", t)}
        staff_ids = {v for e in entries for v in re.findall(r"^staff:(\d+)$", e.subject)}
        self.firm = firm
        self.clients = {str(c.id): c.name for c in Client.select(Client.id, Client.name)
                        .where(Client.id.in_(ids or {0}))}
        self.emails = {c.email: c.name for c in Client.select(Client.email, Client.name)
                       .where(Client.email.in_(emails or {""}))}
        self.staff = {str(m.id): m.name for m in Staff.select(Staff.id, Staff.name)
                      .where(Staff.id.in_(staff_ids or {0}))}

    def client(self, key: str) -> str:
        if key.isdigit():
            return self.clients.get(key, f"client {key}")
        return self.emails.get(key, key)

    def who(self, actor: str) -> str:
        """ "staff:Front Desk for client:1" -> "Front Desk for Dana Whitfield"."""
        if actor == "system":
            return "Paydesk"
        if " for " in actor:
            first, _sep, second = actor.partition(" for ")
            return f"{self.who(first)} for {self.who(second)}"
        kind, _sep, value = actor.partition(":")
        if kind == "staff":
            return value
        if kind == "client":
            return "unknown client" if value == "unknown" else self.client(value)
        if kind == "code":
            return f"payment code for {self.who(value)}" if value else "payment code"
        return actor

    def subject(self, subject: str) -> str:
        kind, _sep, value = subject.partition(":")
        if kind == "client":
            return "unknown client" if value == "unknown" else self.client(value)
        if kind == "staff":
            return self.staff.get(value, f"staff {value}")
        if kind == "checkout":
            return f"Checkout {value}"
        if kind == "invoice":
            return value
        if kind == "firm":
            return self.firm.name if value == str(self.firm.id) else f"firm {value}"
        return subject


def _details_in_words(details: str, currency: str, locale: str) -> tuple[Money | None, str]:
    """(the amount, the details in words): "checkout:17 invoice_payment:17
    amount_minor=53050 USD payment_intent:pi_..." -> ($530.50, "$530.50 · Checkout 17")."""
    amount = None
    words: list[str] = []
    tokens = details.split()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token.startswith("reason="):
            words.append("reason: " + " ".join([token[7:], *tokens[index:]]).strip())
            break
        if token.startswith("amount_minor=") and token[13:].lstrip("-").isdigit():
            code = currency
            if index < len(tokens) and re.fullmatch(r"[A-Z]{3}", tokens[index]):
                code = tokens[index]
                index += 1
            amount = Money(int(token[13:]), code)
        elif token.startswith("checkout:"):
            words.append(f"Checkout {token[9:]}")
        elif token.startswith(_RAW_ONLY):
            continue
        elif re.fullmatch(r"[a-z_]+=(True|False)", token):
            key, _sep, value = token.partition("=")
            words.append(f"{key.replace('_', ' ')} {'on' if value == 'True' else 'off'}")
        else:
            words.append(token)
    money = format_money(amount, locale) if amount is not None else ""
    return amount, " · ".join(p for p in (money, " ".join(words)) if p)


def audit_rows(entries: list[AuditEntry], firm: Firm) -> list[AuditRow]:
    """Audit entries as the audit log shows them: the raw values, and the same in words
    (names for ids, amounts in the firm's money format)."""
    names = _Names(entries, firm)
    rows = []
    for e in entries:
        amount, summary = _details_in_words(e.details or "", firm.currency, firm.locale)
        rows.append(AuditRow(
            at=e.at, actor=e.actor, action=e.action, subject=e.subject, result=e.result,
            terminal=e.terminal, details=e.details, who=names.who(e.actor),
            what=ACTION_WORDS.get(e.action, e.action), subject_name=names.subject(e.subject),
            amount=amount, summary=summary,
        ))
    return rows



__all__ = ["ACTION_WORDS", "DeskAudit", "audit_rows"]
