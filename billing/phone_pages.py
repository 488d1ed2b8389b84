"""Closing the card pages opened for payers' phones (billing.phone_entry), and the card a
closed page saved: a page Paydesk no longer takes a card from is closed at Stripe, and a
card saved on it anyway (after Paydesk's deadline, or on a page that was cancelled) is
taken off the client's customer, since it will never pay.

`close_entry` does it for one page, when the terminal cancels it or finds it expired;
`sweep` (run by reconciliation, at start-up and from `paydesk reconcile`) does it for every
page past its time that no terminal watches, and finishes what Stripe did not answer
before. Every Stripe call carries a key derived from the entry's stored `expire_key`. A page
done with is recorded once in the audit log ("phone page closed", subject
`phone_entry:<id>`): the sweep does not look at it again.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from billing.audit import audit
from billing.receipts import card_label
from billing.saved_cards import release_card
from gateway import errors as gw
from models.db import write_transaction
from models.phone_entries import PhoneEntry
from models.records import AuditEntry

log = logging.getLogger(__name__)
# The audit action of a finished page (written as a literal in `close_entry`, where the
# audit log's words are checked).
CLOSED_ACTION = "phone_page.close"
CLOSED = ("expired", "canceled")


def _subject(entry_id: int) -> str:
    return f"phone_entry:{entry_id}"


def _finish(gateway, entry: PhoneEntry) -> bool:
    """Close the page at Stripe and release the card saved on it, if any. True once done
    (and recorded); False when Stripe did not answer (left for the next sweep)."""
    try:
        try:
            page = gateway.expire_card_setup(entry.session_id,
                                             idempotency_key=entry.expire_key)
        except gw.InvalidRequest:  # complete or expired already: read what it holds
            page = gateway.hosted_setup_status(entry.session_id)
        if page.status == "open":
            return False  # not closed yet: looked at again by the next sweep
        card = page.card if page.card is not None and page.card.customer else None
        if card is not None:
            release_card(gateway, card.payment_method_id, f"{entry.expire_key}:release")
    except gw.GatewayError as exc:
        log.warning("phone page %s: still to be closed (%s)", entry.id, type(exc).__name__)
        return False
    with write_transaction():
        if not _done(entry.id):
            audit(actor="system", action="phone_page.close", subject=_subject(entry.id),
                  result="card released" if card is not None else "closed",
                  terminal=entry.terminal,
                  details=(f"{card_label(card.brand, card.last4)} saved on a page that was "
                           f"{entry.status}: never charged, taken off the client's customer"
                           if card is not None else f"the page was {entry.status}"))
    return True


def _done(entry_id: int) -> bool:
    return AuditEntry.select().where((AuditEntry.action == CLOSED_ACTION)
                                     & (AuditEntry.subject == _subject(entry_id))).exists()


def close_entry(gateway, entry_id: int, status: str) -> bool:
    """Mark the entry `status` ("expired" or "canceled", only from pending), close its page
    at Stripe and release any card saved on it. An entry already used is left alone (its
    card belongs to its checkout: billing.saved_cards). True when nothing is left to do;
    False when Stripe did not answer (the entry stays closed: its card is never charged,
    and the sweep finishes the rest)."""
    PhoneEntry.update(status=status).where(
        (PhoneEntry.id == entry_id) & (PhoneEntry.status == "pending")).execute()
    entry = PhoneEntry.get_by_id(entry_id)
    if entry.status not in CLOSED or entry.used_at is not None or entry.checkout_id:
        return True
    if not entry.session_id:
        return True  # no page was opened
    return _done(entry.id) or _finish(gateway, entry)


def sweep(gateway, *, clock: Callable[[], dt.datetime],
          stop: Callable[[], bool] | None = None) -> tuple[int, list[str]]:
    """Close every pending page past its `expires_at` (no terminal watches it any more) and
    finish every closed page not yet done with (its card released); returns how many were
    done, and a note for each left to the next run."""
    stopping = stop or (lambda: False)
    now = clock()
    due = PhoneEntry.select(PhoneEntry.id, PhoneEntry.status).where(
        PhoneEntry.session_id.is_null(False) & PhoneEntry.checkout.is_null()
        & (((PhoneEntry.status == "pending") & (PhoneEntry.expires_at <= now))
           | PhoneEntry.status.in_(CLOSED))).order_by(PhoneEntry.id)
    finished = {int(subject.split(":", 1)[1]) for (subject,) in AuditEntry.select(
        AuditEntry.subject).where(AuditEntry.action == CLOSED_ACTION).tuples()}
    done, notes = 0, []
    for entry_id, status in due.tuples():
        if stopping():
            break
        if entry_id in finished:
            continue
        if close_entry(gateway, entry_id, "expired" if status == "pending" else status):
            done += 1
        else:
            notes.append(f"phone page {entry_id}: Stripe did not answer; closed at the next run")
    return done, notes
