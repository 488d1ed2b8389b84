"""Customers and their cards: a Customer found or made, a card typed in at the desk attached
to it, and saved cards listed, read, kept on file or taken off."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial

from stripe.params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerPaymentMethodListParams,
    CustomerSearchParams,
    PaymentMethodAttachParams,
    PaymentMethodCreateParams,
    PaymentMethodDetachParams,
    PaymentMethodUpdateParams,
)

from gateway.cards import KeyedCard, check_number, normalise, payment_method_for_test_card
from gateway.errors import InvalidRequest, KeyedEntryRefused
from gateway.stripe_calls import StripeCalls
from gateway.values import CardInfo

CLIENT_REF_KEY = "paydesk_client_ref"
TEST_CARDS_ONLY = ("In test mode only Stripe's test card numbers work, such as "
                   "4242 4242 4242 4242 (see https://docs.stripe.com/testing).")
KEYED_ENTRY_OFF = ("Typing in a card number is not enabled for this firm's Stripe account. "
                   "Please use the card reader or a saved card.")


class CustomerCards(StripeCalls):
    """A payer's Stripe Customer and the cards on it."""

    def find_or_create_customer(self, *, client_ref: str, email: str, name: str,
                                idempotency_key: str) -> str:
        """The id of the Stripe Customer for this client: found by email and Paydesk's
        reference (list is consistent at once), then by search, else created. An empty
        `email` or `name` is left out, never sent: Stripe refuses an empty value (a payer
        by payment code has no email address, so it is found by search only)."""
        if email:
            by_email: CustomerListParams = {"email": email, "limit": 100}
            listed = self._call(lambda: self._v1.customers.list(params=by_email))
            for customer in listed["data"]:
                if (customer.get("metadata") or {}).get(CLIENT_REF_KEY) == client_ref:
                    return customer["id"]
        if "'" not in client_ref and "\\" not in client_ref:
            try:
                search: CustomerSearchParams = {
                    "query": f"metadata['{CLIENT_REF_KEY}']:'{client_ref}'", "limit": 1}
                found = self._call(lambda: self._v1.customers.search(params=search))
                if found["data"]:
                    return found["data"][0]["id"]
            except InvalidRequest:
                pass  # search is not offered everywhere; creating with the key is still safe
        create: CustomerCreateParams = {"metadata": {CLIENT_REF_KEY: client_ref}}
        if email:
            create["email"] = email
        if name:
            create["name"] = name
        opts = self._key(idempotency_key)
        created = self._call(lambda: self._v1.customers.create(params=create, options=opts))
        return created["id"]

    def card_from_keyed_entry(self, card: KeyedCard, *, customer_id: str,
                              idempotency_key: str) -> CardInfo:
        """A card typed in at the desk, attached to the customer (so that each invoice of
        the payment can be charged with it) and not redisplayable: it is kept on file only
        if the caller says so afterwards (`keep_card`), else detached (`detach_card`). The
        number and CVC are checked here, sent at most once, and not kept. The card's expiry
        is the one typed in (a test card's PaymentMethod is updated to it).

        A failure leaves without its inner frames or chained exceptions: tracebacks that
        show local variables (debuggers, rich tracebacks) would otherwise print them."""
        try:
            return self._keyed_card(card, customer_id, idempotency_key)
        except Exception as exc:  # noqa: BLE001 - every failure is scrubbed the same way
            failure = exc
        failure.__cause__ = failure.__context__ = None
        failure.__suppress_context__ = True
        raise failure.with_traceback(None)

    def _keyed_card(self, card: KeyedCard, customer_id: str, idempotency_key: str) -> CardInfo:
        check_number(card.number)
        _check_expiry(card.exp_month, card.exp_year)
        if not card.cvc.isdigit() or len(card.cvc) not in (3, 4):
            raise InvalidRequest("The card's security code (CVC) must be 3 or 4 digits.",
                                 code="invalid_cvc", param="cvc")
        if self.test_mode:
            pm_id = payment_method_for_test_card(card.number)
            if pm_id is None:
                raise InvalidRequest(TEST_CARDS_ONLY, code="test_mode_test_card_required",
                                     param="number")
        elif not self.raw_card_data_access:
            raise KeyedEntryRefused(KEYED_ENTRY_OFF, code="raw_card_data_access_required")
        else:
            raw = _raw_card_params(card)
            pm_opts = self._key(idempotency_key, "pm")
            pm_id = self._call(lambda: self._v1.payment_methods.create(
                params=raw, options=pm_opts))["id"]
        attach: PaymentMethodAttachParams = {"customer": customer_id}
        opts = self._key(idempotency_key, "attach")
        attached = self._call(lambda: self._v1.payment_methods.attach(
            pm_id, params=attach, options=opts))
        info = CardInfo.from_stripe(attached)
        year = card.exp_year + 2000 if 0 <= card.exp_year < 100 else card.exp_year
        if (info.exp_month, info.exp_year) == (card.exp_month, year):
            return info
        # A test card's PaymentMethod carries Stripe's own expiry, not the one typed in.
        expiry: PaymentMethodUpdateParams = {"card": {"exp_month": card.exp_month,
                                                      "exp_year": year}}
        exp_opts = self._key(idempotency_key, "expiry")
        attached_id = info.payment_method_id
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.update(
            attached_id, params=expiry, options=exp_opts)))

    def saved_cards(self, customer_id: str, *, allow_redisplay: str | None = None,
                    ) -> list[CardInfo]:
        """The customer's card PaymentMethods, newest first; with `allow_redisplay`
        ("always": the cards kept on file with the payer's consent), only those."""
        cards: CustomerPaymentMethodListParams = {"type": "card", "limit": 100}
        if allow_redisplay:
            cards["allow_redisplay"] = allow_redisplay
        found: list[CardInfo] = []
        while True:
            listed = self._call(partial(self._v1.customers.payment_methods.list, customer_id,
                                        params=cards))
            found.extend(CardInfo.from_stripe(pm) for pm in listed["data"])
            if not listed.get("has_more") or not listed["data"]:
                return found
            cards["starting_after"] = listed["data"][-1]["id"]

    def card(self, payment_method_id: str) -> CardInfo:
        """One PaymentMethod, read back (its customer says whether it is still attached)."""
        return CardInfo.from_stripe(self._call(
            lambda: self._v1.payment_methods.retrieve(payment_method_id)))

    def keep_card(self, payment_method_id: str, *, idempotency_key: str) -> CardInfo:
        """Mark an attached card as kept on file with the payer's consent
        (`allow_redisplay=always`): it is then listed among the saved cards."""
        params: PaymentMethodUpdateParams = {"allow_redisplay": "always"}
        opts = self._key(idempotency_key)
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.update(
            payment_method_id, params=params, options=opts)))

    def detach_card(self, payment_method_id: str, *, idempotency_key: str) -> CardInfo:
        """Take a card off its customer: it can no longer be charged or listed."""
        params: PaymentMethodDetachParams = {}
        opts = self._key(idempotency_key)
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.detach(
            payment_method_id, params=params, options=opts)))


def _raw_card_params(card: KeyedCard) -> PaymentMethodCreateParams:
    """The one request body that carries a card number and CVC (live raw card entry)."""
    params: PaymentMethodCreateParams = {"type": "card", "card": {
        "number": normalise(card.number), "exp_month": card.exp_month,
        "exp_year": card.exp_year, "cvc": card.cvc}}
    if card.postal_code:
        params["billing_details"] = {"address": {"postal_code": card.postal_code}}
    return params


def _check_expiry(month: int, year: int) -> None:
    if not 1 <= month <= 12:
        raise InvalidRequest("The card's expiry month must be between 1 and 12.",
                             code="invalid_expiry_month", param="exp_month")
    year = year + 2000 if 0 <= year < 100 else year
    now = datetime.now(UTC)
    if (year, month) < (now.year, now.month):
        raise InvalidRequest("The card's expiry date has passed.", code="invalid_expiry_year",
                             param="exp_year")
    if year > now.year + 50:
        raise InvalidRequest("The card's expiry year is not valid.", code="invalid_expiry_year",
                             param="exp_year")
