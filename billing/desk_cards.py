"""Paying by card at the desk: the payer's saved cards, the card readers, and `pay`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

from billing.desk_base import DeskBase, log
from billing.errors import BillingError, NotAllowed, StripeUnavailable
from billing.lazy_import import LazyModule
from billing.values import CardChoice, CheckoutResult, Payer, ProgressEvent
from gateway import errors as gw
from models.firm import Client
from models.money import Money

# Loaded when first used: the first screen is drawn before any of them is needed.
engine = LazyModule("billing.checkout")
emails = LazyModule("billing.emails")
ledger = LazyModule("billing.ledger")
receipts = LazyModule("billing.receipts")
reconcile = LazyModule("billing.reconcile")
reserve = LazyModule("billing.reserve")
saved_cards = LazyModule("billing.saved_cards")
staff = LazyModule("billing.staff")
card_entry = LazyModule("billing.card_entry")


class DeskCards(DeskBase):
    """A card typed in, saved on file or presented on a reader."""

    def saved_cards(self, payer: Payer) -> list[CardChoice]:
        if payer.kind == "code":
            return []
        client = Client.get_or_none(Client.id == payer.client_id)
        if client is None or not client.stripe_customer_id:
            return []
        # Only the cards kept on file with the payer's consent (allow_redisplay=always).
        return [
            CardChoice(kind="saved", payment_method_id=c.payment_method_id,
                       label=f"{receipts.card_label(c.brand, c.last4)} (expires "
                             f"{saved_cards.expiry(c)})")
            for c in _asking_stripe("The client's saved cards could not be read",
                                    saved_cards.saved_cards, self.gateway, client)
        ]

    def remove_saved_card(self, payer: Payer, payment_method_id: str) -> str:
        """Take one of the client's saved cards off file (the client, or staff acting for
        them); returns the card's label. Recorded in the audit log."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        return saved_cards.remove_saved_card(self.gateway, payer, payment_method_id,
                                             terminal=self.terminal)

    def readers(self) -> list[tuple[str, str]]:
        return list(_asking_stripe("The card readers could not be listed",
                                   self.gateway.list_readers))

    def present_test_card(self, reader_id: str, card_number: str) -> None:
        if not self.settings.stripe.test_mode:
            raise NotAllowed("A test card can be presented only in test mode.")
        _asking_stripe("The test card could not be presented on the reader",
                       self.gateway.present_test_card_on_reader, reader_id, card_number)

    def cancel_reader_action(self, reader_id: str) -> bool:
        """The payer cancelled on the screen while the reader waited for the card: the
        reader stops, and the payment waiting on it ends with nothing charged. False when
        the reader was not waiting (the card was already read)."""
        try:
            return self.gateway.cancel_reader_action(reader_id)
        except gw.GatewayError:
            raise StripeUnavailable(
                "The card reader could not be stopped: Stripe did not answer. It stops by "
                "itself if no card is presented in time; nothing is charged without a "
                "card.") from None

    def pay(self, payer: Payer, amounts: Mapping[int, Money], card: CardChoice,
            on_progress: Callable[[ProgressEvent], None] | None = None) -> CheckoutResult:
        if card.kind not in engine.CARD_METHODS:
            raise BillingError("Choose how the card is given: typed in, saved or the reader.")
        if card.kind == "keyed" and card.keyed is None:
            raise BillingError("Enter the card number.")
        if card.kind == "keyed":
            # The whole card is checked before anything is reserved: a typo leaves nothing.
            card_entry.check_keyed_card(card.keyed, today=self._today())
        if card.kind == "saved" and not card.payment_method_id:
            raise BillingError("Choose a saved card.")
        if card.kind == "reader" and not card.reader_id:
            raise BillingError("Choose a card reader.")
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        if payer.kind == "code" and payer.email is not None:
            # The code holder's own address for their receipt (never the client's).
            payer = replace(payer, email=emails.check_address(payer.email))
        saved_cards.check_keep(payer, card)
        # Nothing is reserved or sent before start-up has settled what earlier runs left.
        gateway = self.gateway
        checkout_id = reserve.reserve(payer, amounts, method=engine.CARD_METHODS[card.kind],
                                     terminal=self.terminal, today=self._today())
        saved_cards.record_consent(checkout_id, payer, card, terminal=self.terminal)
        result = engine.run_checkout(gateway, checkout_id, card, terminal=self.terminal,
                                     on_progress=on_progress)
        if result.status == "verifying":
            # One more try now (the card processor may answer at once); else reconciliation.
            try:
                reconcile.settle_checkout(gateway, checkout_id, terminal=self.terminal)
            except Exception:  # noqa: BLE001 - left for reconciliation
                log.warning("checkout %s: still verifying", checkout_id)
            result = ledger.result_of(checkout_id)
            saved_cards.settle_card(gateway, checkout_id, terminal=self.terminal)
        if result.succeeded:
            self._deliver_email()
        return result


def _asking_stripe(what: str, call: Callable, *args):
    """`call(*args)`, a read (or a test-mode reader tap) made before any payment or refund
    is sent; a gateway error becomes StripeUnavailable, in words, saying nothing was charged."""
    try:
        return call(*args)
    except gw.OutcomeUnknown:
        raise StripeUnavailable(
            f"{what}: Stripe did not answer. Nothing was charged; check the connection to "
            "Stripe and try again in a moment.") from None
    except gw.GatewayError as exc:
        raise StripeUnavailable(f"{what}. {exc.message} Nothing was charged.") from None
