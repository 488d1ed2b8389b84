"""/v1/payment_methods: create (test card numbers), retrieve, attach, detach, list."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

from gateway.cards import TEST_CARD_PAYMENT_METHODS, luhn_ok, normalise
from gateway.sandbox import objects
from gateway.sandbox.errors import ApiError, invalid, missing
from gateway.sandbox.forms import as_int, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.store import State
from gateway.sandbox.testcards import DISPUTE_NUMBERS, TestCard, card_for_number, test_card

LIVE_CARD_IN_TEST_MODE = (
    "Your card was declined. Your request was in test mode, but used a non test (live) card. "
    "For a list of valid test cards, visit: https://stripe.com/docs/testing."
)


def fingerprint(seed: str) -> str:
    """A stable fingerprint; the number itself is never kept."""
    return hashlib.sha256(("paydesk-sandbox:" + seed).encode()).hexdigest()[:16]


def card_error(message: str, *, code: str, decline_code: str | None = None,
               param: str | None = None, **extra: Any) -> ApiError:
    return ApiError(402, message, type="card_error", code=code, decline_code=decline_code,
                    param=param, saved=True, **extra)


def new_payment_method(state: State, card: TestCard, seed: str, *, kind: str = "card",
                       postal_code: str | None = None,
                       meta: dict[str, str] | None = None) -> dict[str, Any]:
    pm = objects.payment_method(state.new_id("pm_"), state.now(), card,
                                fingerprint=fingerprint(seed), kind=kind,
                                postal_code=postal_code, meta=meta)
    state.attach_card(pm, card)
    return state.add(pm)


def _test_card_number(ident: str) -> str:
    """The card number behind a `pm_card_*` test id, so that the same card has the same
    fingerprint however it reaches Stripe (a test id, its number, a reader tap)."""
    for number, pm_id in {**TEST_CARD_PAYMENT_METHODS, **DISPUTE_NUMBERS}.items():
        if pm_id == ident:
            return number
    return ident


def resolve(state: State, ident: Any, param: str = "payment_method") -> dict[str, Any]:
    """A stored PaymentMethod; a `pm_card_*` test id becomes a new PaymentMethod, as in Stripe."""
    obj = state.objects.get(ident) if isinstance(ident, str) else None
    if obj is not None and obj.get("object") == "payment_method":
        return obj
    card = test_card(ident) if isinstance(ident, str) else None
    if card is None:
        raise missing("PaymentMethod", str(ident), param)
    return new_payment_method(state, card, _test_card_number(ident))


def create(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("type") != "card":
        raise invalid("Only type=card can be created in the sandbox.", param="type")
    card = params.get("card")
    if not isinstance(card, dict) or not card.get("number"):
        raise invalid("Missing required param: card[number].", param="card[number]",
                      code="parameter_missing")
    digits = normalise(str(card["number"]))
    if not digits.isdigit() or not luhn_ok(digits):
        raise card_error("Your card number is incorrect.", code="incorrect_number",
                         param="card[number]")
    found = card_for_number(digits)
    if found is None:
        raise card_error(LIVE_CARD_IN_TEST_MODE, code="card_declined",
                         decline_code="test_mode_live_card")
    month = as_int(card, "exp_month", required=True)
    year = as_int(card, "exp_year", required=True)
    assert month is not None and year is not None
    if not 1 <= month <= 12:
        raise card_error("Your card's expiration month is invalid.",
                         code="invalid_expiry_month", param="card[exp_month]")
    year = year + 2000 if year < 100 else year
    if year < 2000 or year > 2100:
        raise card_error("Your card's expiration year is invalid.",
                         code="invalid_expiry_year", param="card[exp_year]")
    cvc = str(card.get("cvc") or "")
    if cvc and (not cvc.isdigit() or len(cvc) not in (3, 4)):
        raise card_error("Your card's security code is invalid.", code="invalid_cvc",
                         param="card[cvc]")
    billing = params.get("billing_details") or {}
    address = billing.get("address") if isinstance(billing, dict) else None
    postal = address.get("postal_code") if isinstance(address, dict) else None
    return new_payment_method(state, replace(found, exp_month=month, exp_year=year), digits,
                              postal_code=postal, meta=metadata(params))


def retrieve(state: State, params: dict[str, Any], pm: str) -> dict[str, Any]:
    return resolve(state, pm, "payment_method")


def attach(state: State, params: dict[str, Any], pm: str) -> dict[str, Any]:
    customer_id = params.get("customer")
    if not customer_id:
        raise invalid("Missing required param: customer.", param="customer",
                      code="parameter_missing")
    state.get(customer_id, "customer", param="customer")
    obj = resolve(state, pm, "payment_method")
    if obj["customer"] == customer_id:
        return obj
    if obj["customer"] is not None:
        raise invalid("This PaymentMethod is already attached to another Customer.",
                      code="payment_method_unexpected_state", saved=True)
    card = state.card_of(obj)
    # Stripe checks a card when it is attached; a declining test card fails here.
    if card.decline is not None and card.decline_on_attach:
        raise card_error(card.decline.message, code=card.decline.code,
                         decline_code=card.decline.decline_code, param=card.decline.param)
    obj["customer"] = customer_id
    state.emit("payment_method.attached", obj)
    return obj


REDISPLAY = ("always", "limited", "unspecified")


def update(state: State, params: dict[str, Any], pm: str) -> dict[str, Any]:
    """Stripe updates only a PaymentMethod attached to a customer: here its
    `allow_redisplay`, its card's expiry and its metadata."""
    obj = state.get(pm, "payment_method", label="PaymentMethod")
    if obj["customer"] is None:
        raise invalid("You must save this PaymentMethod to a customer before you can update it.",
                      code="payment_method_unexpected_state")
    redisplay = params.get("allow_redisplay")
    if redisplay is not None and redisplay not in REDISPLAY:
        raise invalid(f"Invalid allow_redisplay: must be one of {', '.join(REDISPLAY)}",
                      param="allow_redisplay")
    card = params.get("card")
    month = year = None
    if isinstance(card, dict) and card:
        if obj["type"] != "card":
            raise invalid("Only a card PaymentMethod has a card to update.", param="card")
        month = as_int(card, "exp_month")
        year = as_int(card, "exp_year")
        if month is not None and not 1 <= month <= 12:
            raise card_error("Your card's expiration month is invalid.",
                             code="invalid_expiry_month", param="card[exp_month]")
        if year is not None:
            year = year + 2000 if year < 100 else year
            if year < 2000 or year > 2100:
                raise card_error("Your card's expiration year is invalid.",
                                 code="invalid_expiry_year", param="card[exp_year]")
    meta = metadata(params, obj["metadata"])
    if redisplay is not None:
        obj["allow_redisplay"] = redisplay
    if month is not None:
        obj["card"]["exp_month"] = month
    if year is not None:
        obj["card"]["exp_year"] = year
    obj["metadata"] = meta
    return obj


def detach(state: State, params: dict[str, Any], pm: str) -> dict[str, Any]:
    obj = state.get(pm, "payment_method", label="PaymentMethod")
    if obj["customer"] is None:
        raise invalid("The payment method you provided is not attached to a customer so "
                      "detachment is impossible.", code="payment_method_unexpected_state")
    obj["customer"] = None
    state.emit("payment_method.detached", obj)
    return obj


def _list(state: State, params: dict[str, Any], customer: str | None, url: str) -> dict[str, Any]:
    if customer:
        state.get(customer, "customer", param="customer")
    items = [pm for pm in state.of_type("payment_method")
             if (customer is None or pm["customer"] == customer)
             and (not params.get("type") or pm["type"] == params["type"])
             and (not params.get("allow_redisplay")
                  or pm["allow_redisplay"] == params["allow_redisplay"])]
    return paginate(state, items, params, url)


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return _list(state, params, params.get("customer"), "/v1/payment_methods")


def list_for_customer(state: State, params: dict[str, Any], customer: str) -> dict[str, Any]:
    return _list(state, params, customer, f"/v1/customers/{customer}/payment_methods")


ROUTES = [
    ("POST", r"/v1/payment_methods", create),
    ("GET", r"/v1/payment_methods", list_),
    ("GET", r"/v1/payment_methods/(?P<pm>pm_\w+)", retrieve),
    ("POST", r"/v1/payment_methods/(?P<pm>pm_\w+)", update),
    ("POST", r"/v1/payment_methods/(?P<pm>pm_\w+)/attach", attach),
    ("POST", r"/v1/payment_methods/(?P<pm>pm_\w+)/detach", detach),
    ("GET", r"/v1/customers/(?P<customer>cus_\w+)/payment_methods", list_for_customer),
]
