"""Cards on file (DESIGN.md section 6): kept only with the payer's consent, only when the
payment succeeded, one per card (Stripe's fingerprint), removable by the client and staff.

How a card of a payment is handled:
1. The payer's consent, when given, is recorded with the checkout before the card is sent
   to Stripe (`record_consent`): who (the client, or the staff member who confirmed the
   payer said yes), when, how (kiosk, desk phone, reader) and the terminal.
2. The card is attached to the client's Stripe customer for the payment only, not
   redisplayable (a keyed card: `allow_redisplay` left "unspecified"; the reader's
   generated card: "limited"), because each invoice of the payment is charged with it.
3. Once the payment has ended (`settle_card`): if it succeeded and the payer agreed, the
   card is marked `allow_redisplay=always` (kept on file), and an earlier copy of the same
   card (same fingerprint) is detached, so one stays: the one with the latest expiry.
   Otherwise (declined, 3-D Secure not completed, cancelled, no consent, a payment-code
   payer) the card is detached. What was done is stored on the checkout
   (`card_on_file`) with an audit entry; reconciliation finishes what a crash left.
A card the payer saved on their own phone (billing.phone_entry) is one of these too: its
checkout is a saved-card one, told apart by its PhoneEntry (never all saved-card
checkouts: a card already on file stays there), and the consent is the terminal's question
asked once the card was saved.
Every Stripe call carries a key derived from the checkout's stored `payment_method_key`
(or a removal's stored key), so a repeat is the same request.

Only cards with `allow_redisplay=always` are listed as saved cards.
"""

from __future__ import annotations

import logging
import uuid

from billing.audit import actor_of_payer, audit
from billing.errors import BillingError, NotAllowed, StripeUnavailable
from billing.receipts import card_label
from billing.values import CardChoice, Payer
from gateway import errors as gw
from gateway.values import CardInfo
from models.cards import CardConsent, CardRemoval
from models.db import write_transaction
from models.firm import Client, utcnow
from models.payments import Checkout
from models.phone_entries import PhoneEntry

log = logging.getLogger(__name__)

KEEP_LABEL = "Keep this card on file for future payments"
# At the front desk the payer is on the phone or at the counter: staff confirm they agreed.
KEEP_LABEL_STAFF = "The payer agreed to keep this card on file for future payments"
KEPT = "always"
FINAL = ("succeeded", "failed", "cancelled")
OWN_CARD_METHODS = ("card_keyed", "card_reader")


def keep_label(payer: Payer) -> str:
    """The words of the consent choice, as the payer or the staff member sees them."""
    return KEEP_LABEL_STAFF if payer.kind == "staff" else KEEP_LABEL


def may_keep(payer: Payer, card: CardChoice) -> bool:
    """Whether the consent choice is offered: a new card (typed in, on the reader, or
    saved on the payer's phone) of a signed-in client or of staff acting for one; never a
    payment-code payer's."""
    return payer.kind in ("client", "staff") and card.kind in ("keyed", "reader", "phone")


def consent_way(payer: Payer, card: CardChoice) -> str:
    if card.kind == "reader":
        return "reader"
    return "desk_phone" if payer.kind == "staff" else "kiosk"


def check_keep(payer: Payer, card: CardChoice) -> None:
    """Refuse (before anything is written) a request to keep a card that cannot be kept."""
    if card.keep and not may_keep(payer, card):
        if payer.kind == "code":
            raise NotAllowed("A card used with a payment code cannot be kept on file.")
        raise BillingError("Only a new card (typed in, on the reader or entered on the "
                           "phone) can be kept on file.")


def record_consent(checkout_id: int, payer: Payer, card: CardChoice, *, terminal: str) -> None:
    """Store the payer's consent to keep the checkout's card (append-only), with its audit
    entry, before the card reaches Stripe."""
    if not card.keep:
        return
    checkout = Checkout.get_by_id(checkout_id)
    by_staff = payer.kind == "staff" and payer.staff is not None
    way = consent_way(payer, card)
    with write_transaction():
        CardConsent.create(
            firm=checkout.firm_id, client=checkout.client_id, checkout=checkout_id,
            given_by="staff" if by_staff else "client",
            staff=payer.staff.staff_id if by_staff else None, way=way, terminal=terminal,
            wording=keep_label(payer))
        audit(actor=actor_of_payer(payer), action="card consent given",
              subject=f"checkout:{checkout_id}", result="recorded", terminal=terminal,
              details=f"{keep_label(payer)} ({way.replace('_', ' ')})")


def saved_cards(gateway, client: Client) -> list[CardInfo]:
    """The client's cards kept on file (consent given, payment succeeded), newest first.

    Stripe's `allow_redisplay` alone is not taken as consent: a card saved before consent
    was asked (the reader used to mark its cards "always"), or marked so outside Paydesk,
    is listed only when a checkout of this client kept it with consent on record."""
    if not client.stripe_customer_id:
        return []
    kept = {pm for (pm,) in Checkout.select(Checkout.payment_method_id).where(
        (Checkout.client == client.id) & (Checkout.card_on_file == "kept")).tuples()}
    return [card for card in gateway.saved_cards(client.stripe_customer_id,
                                                 allow_redisplay=KEPT)
            if card.payment_method_id in kept]


def _phone_entry(checkout_id: int) -> PhoneEntry | None:
    return PhoneEntry.get_or_none(PhoneEntry.checkout == checkout_id)


def _phone_card(gateway, checkout: Checkout, entry: PhoneEntry) -> str | None:
    """The card the phone's page saved: stored on the checkout once the engine read it,
    else (a crash before that) read from the page at Stripe."""
    if checkout.payment_method_id:
        return checkout.payment_method_id
    if not entry.session_id:
        return None
    page = gateway.hosted_setup_status(entry.session_id)
    return page.card.payment_method_id if page.card is not None else None


def settle_card(gateway, checkout_id: int, *, terminal: str) -> str | None:
    """Keep or release the card of an ended checkout (a card typed in, read by the reader,
    or saved on the payer's phone); returns "kept", "released", or None when there is
    nothing to do (yet). A Stripe failure leaves it for a later run."""
    checkout = Checkout.get_by_id(checkout_id)
    if checkout.card_on_file or checkout.status not in FINAL:
        return None
    phone = None if checkout.method in OWN_CARD_METHODS else _phone_entry(checkout_id)
    if phone is None and (checkout.method not in OWN_CARD_METHODS
                          or not checkout.payment_method_id):
        return None
    try:
        pm_id = (_phone_card(gateway, checkout, phone) if phone is not None
                 else checkout.payment_method_id)
    except gw.GatewayError as exc:
        log.warning("checkout %s: the phone's card could not be read (%s)", checkout_id,
                    type(exc).__name__)
        return None
    if pm_id is None:
        return None
    consent = CardConsent.get_or_none(CardConsent.checkout == checkout_id)
    key = checkout.payment_method_key
    label = card_label(checkout.card_brand, checkout.card_last4)
    if phone is not None:
        label = f"{label} (entered on the phone)"
    keep = (checkout.status == "succeeded" and consent is not None
            and checkout.payer_kind != "code")
    try:
        if keep:
            kept = gateway.keep_card(pm_id, idempotency_key=f"{key}:keep")
            dropped = _drop_duplicates(gateway, checkout, kept, key)
        else:
            release_card(gateway, pm_id, f"{key}:release")
            dropped = []
    except gw.GatewayError as exc:
        log.warning("checkout %s: the card is still to be %s (%s)", checkout_id,
                    "kept" if keep else "released", type(exc).__name__)
        return None
    outcome = "kept" if keep else "released"
    with write_transaction():
        changed = Checkout.update(card_on_file=outcome, updated_at=utcnow()).where(
            (Checkout.id == checkout_id) & Checkout.card_on_file.is_null()).execute()
        if changed:
            why = ("the payer agreed and the payment succeeded" if keep
                   else _why_released(checkout, consent))
            audit(actor="system", action="card kept on file" if keep else "card released",
                  subject=f"checkout:{checkout_id}", result=outcome, terminal=terminal,
                  details=f"{label}: {why}")
            for card in dropped:
                audit(actor="system", action="duplicate saved card removed",
                      subject=f"client:{checkout.client_id}", result="removed",
                      terminal=terminal,
                      details=f"{card_label(card.brand, card.last4)} expiring "
                              f"{expiry(card)}: the same card is kept once")
    return outcome


def _why_released(checkout: Checkout, consent: CardConsent | None) -> str:
    if checkout.status != "succeeded":
        return "the payment did not succeed"
    if checkout.payer_kind == "code":
        return "a payment-code payer's card is not kept"
    return "the payer did not agree to keep it" if consent is None else "not kept"


def release_card(gateway, pm_id: str, key: str) -> None:
    """Detach the card; one already off its customer (an earlier try) is released."""
    try:
        gateway.detach_card(pm_id, idempotency_key=key)
    except gw.InvalidRequest:
        if gateway.card(pm_id).customer is not None:
            raise


def _drop_duplicates(gateway, checkout: Checkout, kept: CardInfo, key: str) -> list[CardInfo]:
    """Detach the other kept copies of the same card: the one with the latest expiry stays
    (the newest, on a tie)."""
    if not kept.fingerprint or not kept.customer:
        return []
    same = [c for c in gateway.saved_cards(kept.customer, allow_redisplay=KEPT)
            if c.fingerprint == kept.fingerprint]
    if kept.payment_method_id not in {c.payment_method_id for c in same}:
        same.append(kept)
    if len(same) < 2:
        return []
    stays = max(same, key=lambda c: (c.exp_year, c.exp_month, c.created,
                                     c.payment_method_id == kept.payment_method_id))
    dropped = [c for c in same if c.payment_method_id != stays.payment_method_id]
    for card in dropped:
        release_card(gateway, card.payment_method_id, f"{key}:duplicate:{card.payment_method_id}")
    return dropped


def settle_pending(gateway, *, terminal: str) -> int:
    """Keep or release every ended checkout's card still waiting for it (after a crash, or
    when Stripe did not answer): cards typed in or read by the reader, and cards saved on
    the payer's phone (the checkouts that have a PhoneEntry, not every saved-card one);
    returns how many were settled."""
    from_phone = PhoneEntry.select(PhoneEntry.checkout).where(PhoneEntry.checkout.is_null(False))
    waiting = (Checkout.select(Checkout.id)
               .where(Checkout.card_on_file.is_null()
                      & Checkout.status.in_(FINAL)
                      & ((Checkout.payment_method_id.is_null(False)
                          & Checkout.method.in_(OWN_CARD_METHODS))
                         | Checkout.id.in_(from_phone)))
               .order_by(Checkout.id))
    return sum(1 for c in waiting if settle_card(gateway, c.id, terminal=terminal))


def expiry(card: CardInfo) -> str:
    """"12/30": the card's own expiry month and year."""
    return f"{card.exp_month:02d}/{card.exp_year % 100:02d}"


def remove_saved_card(gateway, payer: Payer, payment_method_id: str, *,
                      terminal: str) -> str:
    """Take a kept card off file (Stripe detach) for the client or for staff acting for
    them, with its audit entry. Returns the card's label. Refuses a card that is not one of
    this client's saved cards, and changes nothing then."""
    if payer.kind not in ("client", "staff"):
        raise NotAllowed("Only the client or staff can remove a saved card.")
    by_staff = payer.kind == "staff"
    if by_staff and payer.staff is None:
        raise NotAllowed("Sign in as staff to remove a saved card.")
    client = Client.get_or_none(Client.id == payer.client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    try:
        cards = saved_cards(gateway, client)
    except gw.GatewayError as exc:
        raise StripeUnavailable("The saved cards could not be read; nothing was removed.") \
            from exc
    card = next((c for c in cards if c.payment_method_id == payment_method_id), None)
    if card is None:
        raise NotAllowed("That card is not on file for this client.")
    label = card_label(card.brand, card.last4)
    with write_transaction():
        removal = CardRemoval.create(
            client=client.id, payment_method_id=payment_method_id, card_brand=card.brand,
            card_last4=card.last4[-4:] or None, removed_by="staff" if by_staff else "client",
            staff=payer.staff.staff_id if by_staff and payer.staff else None,
            terminal=terminal, idempotency_key=f"paydesk-remove-card-{uuid.uuid4().hex}")
    try:
        release_card(gateway, payment_method_id, removal.idempotency_key)
    except gw.GatewayError as exc:
        unknown = isinstance(exc, gw.OutcomeUnknown)
        with write_transaction():
            CardRemoval.update(status="failed", completed_at=utcnow()).where(
                CardRemoval.id == removal.id).execute()
            audit(actor=actor_of_payer(payer), action="saved card removed",
                  subject=f"client:{client.id}", result="unknown" if unknown else "failed",
                  terminal=terminal, details=label)
        if unknown:
            raise StripeUnavailable("The card processor did not answer; the card may still "
                                    "be on file. Please try again.") from exc
        raise BillingError(f"{label} could not be removed: {exc.message}") from exc
    with write_transaction():
        CardRemoval.update(status="removed", completed_at=utcnow()).where(
            CardRemoval.id == removal.id).execute()
        audit(actor=actor_of_payer(payer), action="saved card removed",
              subject=f"client:{client.id}", result="removed", terminal=terminal,
              details=f"{label} expiring {expiry(card)}")
    return label
