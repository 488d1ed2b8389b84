"""The card entered on the payer's own phone: Paydesk opens a hosted card page (Stripe's, or
the sandbox's) for exactly the invoices and amounts the review listed, watches it, and once
the card is saved charges each invoice with it through the normal engine (DESIGN.md
section 6). The card number never passes through Paydesk.

One page pays once: the entry is marked used in the transaction that reserves the checkout,
and a page Paydesk considers expired (by its own clock) never pays, even if a card was saved
on it afterwards; such a card is taken off the client's customer (billing.phone_pages).
Stripe's setup-mode page cannot ask whether to keep the card, so the terminal asks once
the card is saved (`charge(keep=...)`); the card of a payment is kept or released as a
typed card's is (billing.saved_cards.settle_card), by reconciliation too after a crash.
Stripe closes the page by its own clock: its `expires_at` is computed from Stripe's time
(the `Date` of Stripe's answer), so a Stripe clock that differs from the terminal's
neither refuses the page nor keeps it open long past Paydesk's deadline.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from billing import checkout as engine
from billing import ledger, phone_pages, reconcile, reserve, saved_cards, short_links
from billing.errors import BalancesChanged, BillingError, NotAllowed, StripeUnavailable
from billing.keys import new_key
from billing.receipts import card_label
from billing.values import CardChoice, CheckoutResult, Payer, ProgressEvent
from gateway import errors as gw
from gateway.hosted_setup import MIN_LIFETIME, TEXT_LIMIT, card_setup_expiry
from gateway.translate import decline_message
from gateway.values import SetupDecline
from models.db import for_update, write_transaction
from models.firm import Client
from models.invoices import Invoice
from models.money import Money, format_money
from models.phone_entries import PhoneEntry, PhoneEntryInvoice

log = logging.getLogger(__name__)
# Stripe keeps a page at least 30 minutes (plus the gateway's margin); a shorter link is
# closed by Paydesk itself when its time is up.
_STRIPE_MINIMUM = MIN_LIFETIME + 60
# Stripe's code when the bank's check of a card (3-D Secure) failed on the page.
_AUTH_FAILED = "setup_intent_authentication_failure"
AUTH_NOT_DONE = "The bank's check of the card (3-D Secure) was not completed."


@dataclass(frozen=True)
class PhoneLine:
    invoice_id: int
    invoice_number: str
    amount: Money


@dataclass(frozen=True)
class PhoneLink:
    """A card page opened for the payer's phone: its address (shown as a QR code and as a
    link), until when it pays, and what it pays."""

    entry_id: int
    url: str
    expires_at: dt.datetime
    lines: tuple[PhoneLine, ...]

    @property
    def total(self) -> Money:
        return Money.sum_of((line.amount for line in self.lines), self.lines[0].amount.currency)


@dataclass(frozen=True)
class PhoneStatus:
    """How the page is doing: "pending" (open, no card yet), "saved" (`card_label`,
    `payment_method_id`), "expired", "canceled" or "used" (its payment started). While
    pending, `declined` says in a client's words why the last card tried on the page was
    refused (empty when none was): the page stays open for another card."""

    status: str
    payment_method_id: str | None = None
    card_label: str = ""
    declined: str = ""


def declined_words(decline: SetupDecline, payer_kind: str | None) -> str:
    """Why the card tried on the phone was refused, for the terminal's screen: which card,
    the reason in Paydesk's words for Stripe's codes, that nothing was charged and that the
    same page takes another card."""
    which = f"The card ending {decline.last4[-4:]}" if decline.last4 else "The card"
    reason = AUTH_NOT_DONE if decline.code == _AUTH_FAILED else decline_message(
        decline.code, decline.decline_code)
    who = "The payer" if payer_kind == "staff" else "You"
    return (f"{which} was declined on the phone. {reason} Nothing was charged. {who} can "
            "try another card on the same page.")


def page_text(lines: tuple[PhoneLine, ...], locale: str) -> str:
    """What the page says above its button: each invoice and its amount, and how many
    transactions the card will make; within Stripe's limit on the text."""
    count = len(lines)
    head = (f"Your card will be charged in {count} transactions, one per invoice:"
            if count > 1 else "Your card will be charged once:")
    rows = [f"{line.invoice_number}: {format_money(line.amount, locale)}" for line in lines]
    text = "\n".join([head, *rows])
    while len(text) > TEXT_LIMIT and len(rows) > 1:
        rows.pop()  # a very long list is cut short, saying how many more there are
        text = "\n".join([head, *rows, f"... and {count - len(rows)} more"])
    return text[:TEXT_LIMIT]


def _lines(entry_id: int) -> tuple[PhoneLine, ...]:
    rows = (PhoneEntryInvoice.select(PhoneEntryInvoice, Invoice).join(Invoice)
            .where(PhoneEntryInvoice.entry == entry_id).order_by(PhoneEntryInvoice.id))
    return tuple(PhoneLine(r.invoice.id, r.invoice.number, Money(r.amount_minor, r.invoice.currency))
                 for r in rows)


def _customer_id(gateway, client: Client) -> str:
    """The client's Stripe customer, made once whichever payment or page asks first (the
    engine's own claim of the client's key: the same request under the same key)."""
    if client.stripe_customer_id:
        return client.stripe_customer_id
    Client.update(stripe_customer_key=new_key("customer")).where(
        (Client.id == client.id) & Client.stripe_customer_key.is_null()).execute()
    client = Client.get_by_id(client.id)
    customer_id = client.stripe_customer_id or gateway.find_or_create_customer(
        client_ref=f"client-{client.id}", email=client.email, name=client.name,
        idempotency_key=client.stripe_customer_key)
    Client.update(stripe_customer_id=customer_id).where(
        (Client.id == client.id) & Client.stripe_customer_id.is_null()).execute()
    return Client.get_by_id(client.id).stripe_customer_id


def _stripe_error(what: str, exc: gw.GatewayError) -> StripeUnavailable:
    if isinstance(exc, gw.OutcomeUnknown):
        return StripeUnavailable(f"{what}: Stripe did not answer. Nothing was charged; try "
                                 "again in a moment.")
    return StripeUnavailable(f"{what}. {exc.message} Nothing was charged.")


def start(gateway, payer: Payer, amounts: Mapping[int, Money], *, terminal: str,
          minutes: int, clock: Callable[[], dt.datetime], locale: str,
          link_base: str | None = None) -> PhoneLink:
    """Open a card page for `amounts` (invoice id -> amount, as the review listed them):
    the entry and its idempotency key are stored first, then Stripe is asked for the page.
    With `link_base` (kiosk.phone_link_base) the link shown is the firm's short link to it.
    NotAllowed for a payment-code holder or another client's invoice; BalancesChanged
    when a balance no longer covers its amount; StripeUnavailable when Stripe fails."""
    if payer.kind not in ("client", "staff"):
        raise NotAllowed("A card can be entered on a phone by the client or the front desk.")
    if not amounts:
        raise BillingError("Choose at least one invoice to pay.")
    changes = reserve.balance_changes(payer, amounts)
    if changes:
        raise BalancesChanged(changes, tuple("the balance changed since it was chosen"
                                             for _ in changes))
    client = Client.get_by_id(payer.client_id)
    invoices = {i.id: i for i in Invoice.select().where(Invoice.id.in_(sorted(amounts)))}
    if set(invoices) != set(amounts) or any(
            i.client_id != client.id or i.status != "issued" for i in invoices.values()):
        raise NotAllowed("That invoice cannot be paid here.")
    currencies = {m.currency for m in amounts.values()}
    if len(currencies) != 1:
        raise BillingError("Every amount must be in the firm's currency.")
    now = clock()
    seconds = minutes * 60
    try:
        customer_id = _customer_id(gateway, client)
        # Stripe measures the page's life by its clock: expires_at is set by Stripe's time.
        stripe_now = gateway.stripe_time(customer_id)
    except gw.GatewayError as exc:
        raise _stripe_error("The card page could not be opened", exc) from None
    with write_transaction():
        entry = PhoneEntry.create(
            client=client, payer_kind=payer.kind,
            staff=payer.staff.staff_id if payer.staff else None, currency=currencies.pop(),
            setup_key=new_key("phone-setup"), expire_key=new_key("phone-expire"),
            expires_at=now + dt.timedelta(seconds=seconds),
            # Stripe's page outlives Paydesk's a little when the link is shorter than
            # Stripe allows, and Paydesk closes it then.
            stripe_expires_at=card_setup_expiry(max(seconds, _STRIPE_MINIMUM), now=stripe_now),
            created_at=now, terminal=terminal,
            short_code=short_links.new_code() if link_base else None)
        for invoice_id in sorted(amounts):
            PhoneEntryInvoice.create(entry=entry, invoice=invoice_id,
                                     amount_minor=amounts[invoice_id].minor)
    lines = _lines(entry.id)
    try:
        page = gateway.start_card_setup(
            customer_id=customer_id, currency=entry.currency,
            idempotency_key=entry.setup_key, expires_at=entry.stripe_expires_at,
            custom_text=page_text(lines, locale),
            metadata={"paydesk_phone_entry": str(entry.id)})
    except gw.GatewayError as exc:
        PhoneEntry.update(status="canceled").where(PhoneEntry.id == entry.id).execute()
        raise _stripe_error("The card page could not be opened", exc) from None
    PhoneEntry.update(session_id=page.session_id, url=page.url).where(
        PhoneEntry.id == entry.id).execute()
    shown = (short_links.short_url(link_base, entry.short_code)
             if link_base and entry.short_code else page.url or "")
    return PhoneLink(entry.id, shown, entry.expires_at, lines)


def _entry(entry_id: int, payer: Payer | None = None) -> PhoneEntry:
    entry = PhoneEntry.get_or_none(PhoneEntry.id == entry_id)
    if entry is None or (payer is not None and entry.client_id != payer.client_id):
        raise NotAllowed("There is no such card page.")
    return entry


def _close(gateway, entry: PhoneEntry, status: str) -> None:
    """Mark the entry expired or canceled (only from pending), close its page at Stripe so
    that the payer can no longer save a card on it, and take off the client's customer a
    card saved on it all the same. A Stripe that does not answer leaves the entry closed:
    Paydesk never charges its card, and reconciliation's sweep finishes the rest."""
    phone_pages.close_entry(gateway, entry.id, status)


def poll(gateway, entry_id: int, *, clock: Callable[[], dt.datetime],
         payer: Payer | None = None) -> PhoneStatus:
    """How the page is doing now (one read from Stripe while it is open)."""
    entry = _entry(entry_id, payer)
    if entry.status != "pending":
        return PhoneStatus(entry.status)
    if clock() >= entry.expires_at:
        _close(gateway, entry, "expired")
        return PhoneStatus("expired")
    if not entry.session_id:
        return PhoneStatus("canceled")
    try:
        page = gateway.hosted_setup_status(entry.session_id)
    except gw.GatewayError as exc:
        raise _stripe_error("The card page could not be read", exc) from None
    if page.status == "expired":
        _close(gateway, entry, "expired")
        return PhoneStatus("expired")
    if page.status == "complete" and page.card is not None:
        return PhoneStatus("saved", page.card.payment_method_id,
                           card_label(page.card.brand, page.card.last4))
    if page.declined is not None:
        return PhoneStatus("pending", declined=declined_words(
            page.declined, payer.kind if payer is not None else None))
    return PhoneStatus("pending")


def cancel(gateway, entry_id: int, *, payer: Payer | None = None) -> None:
    """Close the page (the payer chose another way to pay): its card will never be used."""
    _close(gateway, _entry(entry_id, payer), "canceled")


def charge(gateway, payer: Payer, entry_id: int, amounts: Mapping[int, Money], *,
           terminal: str, today: dt.date, clock: Callable[[], dt.datetime],
           on_progress: Callable[[ProgressEvent], None] | None = None,
           keep: bool = False) -> CheckoutResult:
    """Pay `amounts` with the card saved on the page: refused (BillingError, nothing
    charged) unless they are exactly the invoices and amounts the page was opened for, the
    page is still Paydesk's to use (not used, expired or canceled) and a card was saved.
    The entry is marked used in the transaction that reserves the checkout. `keep`: the
    payer agreed on the terminal to keep the card on file (at the front desk, staff
    confirmed they did), recorded with the checkout as a typed card's consent is; the card
    is kept only if the payment succeeds, and released otherwise."""
    entry = _entry(entry_id, payer)
    listed = {line.invoice_id: line.amount for line in _lines(entry.id)}
    if dict(amounts) != listed:
        raise BillingError("These amounts are not the ones the card page was opened for. "
                           "Nothing was charged; open a new card page.")
    status = poll(gateway, entry.id, clock=clock)
    if status.status != "saved" or not status.payment_method_id:
        raise BillingError({
            "expired": "The card page expired. Nothing was charged; open a new one.",
            "used": "The card page has already paid. Nothing was charged again.",
            "canceled": "The card page was closed. Nothing was charged.",
        }.get(status.status, "No card has been saved on the page yet."))
    card = CardChoice(kind="phone", payment_method_id=status.payment_method_id,
                      label=status.card_label, keep=keep)
    saved_cards.check_keep(payer, card)
    with write_transaction():
        locked = for_update(PhoneEntry.select().where(PhoneEntry.id == entry.id)).get()
        if locked.status != "pending" or locked.used_at is not None:
            raise BillingError("The card page has already paid. Nothing was charged again.")
        if clock() >= locked.expires_at:
            raise BillingError("The card page expired. Nothing was charged; open a new one.")
        checkout_id = reserve.reserve(payer, amounts, method=engine.CARD_METHODS["saved"],
                                      terminal=terminal, today=today)
        PhoneEntry.update(status="used", used_at=clock(), checkout=checkout_id).where(
            PhoneEntry.id == entry.id).execute()
        saved_cards.record_consent(checkout_id, payer, card, terminal=terminal)
    result = engine.run_checkout(gateway, checkout_id, card, terminal=terminal,
                                 on_progress=on_progress)
    if result.status == "verifying":
        try:
            reconcile.settle_checkout(gateway, checkout_id, terminal=terminal)
        except Exception:  # noqa: BLE001,S110 - left for reconciliation, as Desk.pay does
            pass
        result = ledger.result_of(checkout_id)
    # Kept or released now; after a crash, or when Stripe does not answer, reconciliation
    # does it (billing.saved_cards.settle_pending).
    saved_cards.settle_card(gateway, checkout_id, terminal=terminal)
    return result


__all__ = ["PhoneLine", "PhoneLink", "PhoneStatus", "cancel", "charge", "declined_words",
           "page_text", "poll", "start"]
