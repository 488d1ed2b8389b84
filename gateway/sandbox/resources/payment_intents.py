"""/v1/payment_intents: create (and confirm), confirm, capture, cancel, retrieve, list, search."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from typing import Any

from gateway.sandbox import holds, objects
from gateway.sandbox.errors import ApiError, invalid, unexpected_state
from gateway.sandbox.events import changed
from gateway.sandbox.forms import as_bool, as_int, as_list, metadata
from gateway.sandbox.hold_refunds import refund_released_hold
from gateway.sandbox.listing import paginate, search
from gateway.sandbox.resources.disputes import after_capture
from gateway.sandbox.resources.payment_methods import card_error, resolve
from gateway.sandbox.store import State
from gateway.sandbox.testcards import Decline

MAX_AMOUNT = 99_999_999
ZERO_DECIMAL = {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx",
                "vnd", "vuv", "xaf", "xof", "xpf"}
# Stripe's minimum charge amounts, in minor units (https://docs.stripe.com/currencies).
MINIMUM = {"usd": 50, "aed": 200, "aud": 50, "bgn": 100, "brl": 50, "cad": 50, "chf": 50,
           "czk": 1500, "dkk": 250, "eur": 50, "gbp": 30, "hkd": 400, "huf": 17500,
           "inr": 50, "jpy": 50, "mxn": 1000, "myr": 200, "nok": 300, "nzd": 50, "pln": 200,
           "ron": 200, "sek": 300, "sgd": 50, "thb": 1000}
CURRENCIES = set(MINIMUM) | ZERO_DECIMAL | {"ars", "clp", "cny", "cop", "idr", "ils", "isk",
                                            "kwd", "bhd", "jod", "omr", "tnd", "php", "zar",
                                            "try", "twd", "krw", "vnd", "egp", "ngn", "kes"}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation",
              "requires_action", "processing")
CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
AUTHENTICATION = Decline("authentication_required", "authentication_required",
                         "Your card was declined. This transaction requires authentication.")
# https://docs.stripe.com/get-started/account/statement-descriptors: at most 22 characters,
# Latin characters only, at least one letter, none of < > \ ' " *.
_BAD_DESCRIPTOR_CHARS = set("<>\\'\"*")
MAX_DESCRIPTOR = 22
# The payment method types the sandbox can take; others in allowed_payment_method_types are
# left out of the intent's payment_method_types, silently, as Stripe leaves out types that
# do not suit the intent.
SANDBOX_TYPES = ("card", "card_present", "us_bank_account")  # bank: bank_debits.py
DEFAULT_TYPES = ["card"]  # what dynamic payment methods give the sandbox's account
# A private confirm option (never from a request: the schema refuses unknown names): a
# function that completes the new charge's details before its events are recorded.
ON_CHARGE = "_on_charge"
EXCLUSIVE_WITH_ALLOWED = ("excluded_payment_method_types", "automatic_payment_methods",
                          "payment_method_configuration")


def _money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"{amount // 100}.{amount % 100:02d} {currency}"


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    if amount < 1:
        raise invalid("This value must be greater than or equal to 1.", param=param)
    minimum = MINIMUM.get(currency, 50)
    if amount < minimum:
        raise invalid(f"Amount must be at least {_money(minimum, currency)}", param=param,
                      code="amount_too_small")
    if amount > MAX_AMOUNT:
        raise invalid(f"Amount must be no more than {_money(MAX_AMOUNT, currency)}",
                      param=param, code="amount_too_large")


def _latin(char: str) -> bool:
    if char.isascii():
        return char.isprintable()
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def _descriptor_suffix(params: dict[str, Any]) -> str | None:
    suffix = params.get("statement_descriptor_suffix")
    if suffix is None or suffix == "":
        return None
    param = "statement_descriptor_suffix"
    if len(suffix) > MAX_DESCRIPTOR:
        raise invalid(f"The statement descriptor suffix must be at most {MAX_DESCRIPTOR} "
                      f"characters long; it has {len(suffix)}.", param=param,
                      code="payment_intent_invalid_parameter")
    if not all(_latin(c) for c in suffix) or _BAD_DESCRIPTOR_CHARS & set(suffix):
        raise invalid("The statement descriptor suffix may contain Latin characters only, and "
                      "none of < > \\ ' \" *.", param=param, code="invalid_characters")
    if not any(c.isalpha() for c in suffix):
        raise invalid("The statement descriptor suffix must contain at least one letter.",
                      param=param, code="payment_intent_invalid_parameter")
    return suffix


def payment_method_types(params: dict[str, Any], noun: str = "PaymentIntent",
                         ) -> tuple[list[str] | None, list[str]]:
    """(allowed_payment_method_types as sent, or None; the intent's payment_method_types).

    `allowed_payment_method_types` is filtered to the types that suit the intent (here: the
    sandbox's); without it, dynamic payment methods give the account's default."""
    allowed = params.get("allowed_payment_method_types")
    if allowed is None or allowed == "":
        excluded = as_list(params, "excluded_payment_method_types")
        types = [t for t in DEFAULT_TYPES if t not in excluded]
        if not types:
            raise invalid(f"No payment method types are left for this {noun} once "
                          "excluded_payment_method_types are taken out.",
                          param="excluded_payment_method_types")
        return None, types
    for other in EXCLUSIVE_WITH_ALLOWED:
        if params.get(other) not in (None, ""):
            raise invalid(f"You may only specify one of these parameters: "
                          f"allowed_payment_method_types, {other}.", param=other,
                          code="parameters_exclusive")
    wanted = [str(t) for t in as_list(params, "allowed_payment_method_types")]
    types = [t for t in dict.fromkeys(wanted) if t in SANDBOX_TYPES
             and (noun == "PaymentIntent" or t != "us_bank_account")]  # no bank SetupIntents
    if not types:
        raise invalid(f"None of the allowed_payment_method_types can be used with this {noun}: "
                      f"the sandbox takes {', '.join(SANDBOX_TYPES)}.",
                      param="allowed_payment_method_types")
    return wanted, types


def check_payment_method_type(pm: dict[str, Any], types: list[str],
                              noun: str = "PaymentIntent") -> None:
    """Stripe's refusal of a PaymentMethod whose type the intent does not allow."""
    if pm["type"] not in types:
        raise invalid(f"The provided PaymentMethod of type {pm['type']} is not allowed for this "
                      f"{noun}. Provide a PaymentMethod of one of these types: "
                      f"{', '.join(types)}, or create the {noun} with "
                      f"allowed_payment_method_types that include {pm['type']}.",
                      param="payment_method", code="payment_intent_incompatible_payment_method")


def _check_owner(pm: dict[str, Any], customer: str | None) -> None:
    if pm["customer"] is not None and pm["customer"] != customer:
        raise invalid("The provided PaymentMethod belongs to a different Customer than the one "
                      "on this PaymentIntent." if customer else
                      "The provided PaymentMethod was previously attached to a Customer; pass "
                      "that Customer's id to use it.", param="payment_method")


def create(state: State, params: dict[str, Any]) -> dict[str, Any]:
    amount = as_int(params, "amount", required=True)
    currency = str(params.get("currency") or "").lower()
    if not currency:
        raise invalid("Missing required param: currency.", param="currency",
                      code="parameter_missing")
    if currency not in CURRENCIES:
        raise invalid(f"Invalid currency: {currency}.", param="currency")
    assert amount is not None
    check_amount(amount, currency)
    capture_method = params.get("capture_method") or "automatic"
    if capture_method not in CAPTURE_METHODS:
        raise invalid(f"Invalid capture_method: {capture_method}", param="capture_method")
    customer = params.get("customer") or None
    if customer:
        state.get(customer, "customer", param="customer")
    _, types = payment_method_types(params)
    suffix = _descriptor_suffix(params)
    meta = metadata(params)
    confirm = as_bool(params, "confirm")
    if confirm and not params.get("payment_method"):
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment "
                      "method.", param="payment_method", code="payment_intent_unexpected_state")
    pm = None
    if params.get("payment_method"):
        pm = resolve(state, params["payment_method"])
        _check_owner(pm, customer)
        check_payment_method_type(pm, types)
    pi_id = state.new_id("pi_")
    pi = objects.payment_intent(pi_id, state.now(), state.secret(pi_id))
    pi.update(amount=amount, currency=currency, capture_method=capture_method,
              customer=customer, description=params.get("description") or None,
              metadata=meta, payment_method=pm["id"] if pm else None,
              payment_method_types=types,
              excluded_payment_method_types=as_list(params, "excluded_payment_method_types")
              or None, statement_descriptor_suffix=suffix,
              receipt_email=params.get("receipt_email") or None,
              status="requires_confirmation" if pm else "requires_payment_method")
    if params.get("confirmation_method") == "manual":
        pi["confirmation_method"] = "manual"
    state.add(pi)
    state.emit("payment_intent.created", pi)
    if confirm:  # with the PaymentMethod just resolved (a `pm_card_*` id makes a new one)
        _confirm(state, pi, {**params, "payment_method": pi["payment_method"]})
    return pi


def _confirm(state: State, pi: dict[str, Any], params: dict[str, Any]) -> None:
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.")
    pm_id = params.get("payment_method") or pi["payment_method"]
    if not pm_id:
        raise invalid("You cannot confirm this PaymentIntent because it's missing a payment "
                      "method. Update it with a payment method, then confirm it again.",
                      param="payment_method", code="payment_intent_unexpected_state")
    pm = resolve(state, pm_id)
    _check_owner(pm, pi["customer"])
    check_payment_method_type(pm, pi["payment_method_types"])
    pi["payment_method"] = pm["id"]
    card = state.card_of(pm)
    if card.authentication_required:
        if not as_bool(params, "off_session"):
            pi["status"] = "requires_action"
            pi["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {
                "type": "three_d_secure_redirect", "source": state.new_id("src_"),
                "stripe_js": "https://hooks.stripe.com/3d_secure_2/hosted"}}
            state.emit("payment_intent.requires_action", pi)
            return
        card = replace(card, decline=AUTHENTICATION)
    charge = objects.charge(state.new_id("ch_"), state.now(), pi, pm, card,
                            state.new_id("txn_"))
    if params.get("off_session") not in (None, "", "false"):
        charge[holds.MERCHANT_INITIATED] = True  # a shorter hold for some brands
    state.add(charge)
    pi["latest_charge"] = charge["id"]
    if params.get(ON_CHARGE):  # a reader's tap: the charge says so before it is announced
        params[ON_CHARGE](charge)
    if card.decline is not None:
        decline = card.decline
        pi["status"] = "requires_payment_method"
        pi["payment_method"] = None
        pi["last_payment_error"] = {
            "charge": charge["id"], "code": decline.code, "decline_code": decline.decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
            "message": decline.message, "param": decline.param,
            "payment_method": state.render(pm), "type": "card_error"}
        state.emit("charge.failed", charge)
        state.emit("payment_intent.payment_failed", pi)
        raise card_error(decline.message, code=decline.code, decline_code=decline.decline_code,
                         param=decline.param, charge=charge["id"],
                         payment_intent=state.render(pi), payment_method=state.render(pm))
    pi["last_payment_error"] = None
    pi["next_action"] = None
    if pi["capture_method"] == "manual":
        pi["status"] = "requires_capture"
        pi["amount_capturable"] = pi["amount"]
        state.emit("charge.succeeded", charge)
        state.emit("payment_intent.amount_capturable_updated", pi)
    else:
        _capture_charge(state, pi, charge, pi["amount"], announce=False)
        state.emit("charge.succeeded", charge)
        state.emit("payment_intent.succeeded", pi)
        after_capture(state, charge)


def _capture_charge(state: State, pi: dict[str, Any], charge: dict[str, Any],
                    amount: int, *, announce: bool = True) -> None:
    """Capture `amount`; `announce` sends charge.captured and payment_intent.succeeded (an
    automatic capture is announced by charge.succeeded instead)."""
    before = state.snapshot(charge)
    charge["captured"] = True
    charge["amount_captured"] = amount
    charge["amount_refunded"] = charge["amount"] - amount  # the uncaptured rest is released
    pi.update(status="succeeded", amount_received=amount, amount_capturable=0)
    if announce:
        state.emit("charge.captured", charge, changed(before, state.snapshot(charge)))
        state.emit("payment_intent.succeeded", pi)


def confirm(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    types = _types_update(params, obj)
    if params.get("payment_method"):  # refused before anything changes
        pm = resolve(state, params["payment_method"])  # a `pm_card_*` id makes one, once
        check_payment_method_type(pm, types)
        params = {**params, "payment_method": pm["id"]}
    obj["payment_method_types"] = types
    _confirm(state, obj, params)
    return obj


def _types_update(params: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """The intent's payment_method_types after an update or confirm that may name
    allowed_payment_method_types."""
    if params.get("allowed_payment_method_types") in (None, ""):
        return list(obj["payment_method_types"])
    return payment_method_types(params)[1]


def capture(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    if obj["status"] != "requires_capture":
        raise unexpected_state(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{obj['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture.", payment_intent=state.render(obj))
    amount = as_int(params, "amount_to_capture")
    amount = obj["amount_capturable"] if amount is None else amount
    if amount < 1 or amount > obj["amount_capturable"]:
        raise invalid("The amount to capture must be between 1 and the amount capturable "
                      f"({obj['amount_capturable']}).", param="amount_to_capture",
                      code="amount_too_large")
    if params.get("metadata") is not None:
        obj["metadata"] = metadata(params, obj["metadata"])
    charge = state.get(obj["latest_charge"], "charge")
    _capture_charge(state, obj, charge, amount)
    after_capture(state, charge)
    return obj


def cancel(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    reason = params.get("cancellation_reason") or None
    if reason is not None and reason not in CANCELLATION_REASONS:
        raise invalid(f"Invalid cancellation_reason: {reason}", param="cancellation_reason")
    if obj["status"] not in CANCELABLE:
        raise unexpected_state(
            f"You cannot cancel this PaymentIntent because it has a status of {obj['status']}. "
            "Only a PaymentIntent with one of the following statuses may be canceled: "
            + ", ".join(CANCELABLE) + ".", payment_intent=state.render(obj))
    if obj["status"] == "requires_capture":  # releasing the authorization
        charge = state.get(obj["latest_charge"], "charge")
        before = state.snapshot(charge)
        charge["refunded"], charge["amount_refunded"] = True, charge["amount"]
        refund_released_hold(state, charge, None)
        state.emit("charge.refunded", charge, changed(before, state.snapshot(charge)))
    obj.update(status="canceled", canceled_at=state.now(), cancellation_reason=reason,
               amount_capturable=0, next_action=None)
    state.emit("payment_intent.canceled", obj)
    return obj


def retrieve(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    return state.get(pi, "payment_intent", label="payment_intent")


def update(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    types = _types_update(params, obj)
    obj["metadata"] = metadata(params, obj["metadata"])
    obj["payment_method_types"] = types
    if "description" in params:
        obj["description"] = params["description"] or None
    return obj


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("payment_intent")
    if params.get("customer"):
        items = [p for p in items if p["customer"] == params["customer"]]
    return paginate(state, items, params, "/v1/payment_intents")


def search_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return search(state, state.of_type("payment_intent"), params, "/v1/payment_intents/search")


_PI = r"/v1/payment_intents/(?P<pi>pi_\w+)"
ROUTES = [
    ("POST", r"/v1/payment_intents", create),
    ("GET", r"/v1/payment_intents", list_),
    ("GET", r"/v1/payment_intents/search", search_),
    ("GET", _PI, retrieve),
    ("POST", _PI, update),
    ("POST", _PI + "/confirm", confirm),
    ("POST", _PI + "/capture", capture),
    ("POST", _PI + "/cancel", cancel),
]

__all__ = ["ROUTES", "ApiError", "check_amount"]
