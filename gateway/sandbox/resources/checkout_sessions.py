"""/v1/checkout/sessions in setup mode: create, retrieve, list, expire; and what the hosted
page (gateway/sandbox/hosted_page.py) does with a card typed in on it.

What Stripe does, and so the sandbox:
- Setup mode saves a card for later payments through a SetupIntent. Since API version
  2022-08-01 no SetupIntent exists until the payer submits the page
  (https://docs.stripe.com/changelog/2022-08-01/removes-setupintent-checkout-session);
  `currency` is required in setup mode unless `allowed_payment_method_types` is set (the
  SDK's CheckoutSessionCreateParams), and `line_items`, `saved_payment_method_options`,
  `payment_intent_data`, `subscription_data`, `submit_type` and `customer_creation` belong
  to the other modes.
- `expires_at` lies 30 minutes to 24 hours after creation, 24 hours by default
  (https://docs.stripe.com/payments/checkout/managing-limited-inventory). The session is
  `open` until it completes or expires; an open one can be expired at once
  (POST .../expire, https://docs.stripe.com/api/checkout/sessions/expire). Either way
  `checkout.session.expired` is sent; here an expiry by the clock is automatic (no request).
- A card saved in setup mode has `allow_redisplay` "always"
  (https://support.stripe.com/questions/prefilling-saved-cards-in-checkout) unless the
  session's `payment_method_data[allow_redisplay]` overrides it: that value is set on the
  card at confirmation, whatever the page shows (the pinned SDK's
  SessionCreateParamsPaymentMethodData). Stripe's setup-mode page has no "keep this card
  on file" box, and neither has the sandbox's; `custom_fields` (which could ask the
  question) are not available in setup mode
  (https://docs.stripe.com/payments/checkout/custom-fields), so the sandbox refuses them.
- `url` is there only while the session is open. A declined card leaves it open (the
  SetupIntent fails, nothing is attached); a card that asks for 3-D Secure is set up only
  once the challenge (the sandbox's test page) is completed, as on Stripe's page.

Beyond this the sandbox keeps to cards on a hosted page: other modes, ui modes and the
parameters it does not model are refused rather than silently ignored.
"""

from __future__ import annotations

import re
import weakref
from typing import Any

from gateway.sandbox import objects
from gateway.sandbox.errors import ApiError, invalid
from gateway.sandbox.events import changed, created_filter
from gateway.sandbox.forms import as_int, as_list, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.resources.payment_methods import attach
from gateway.sandbox.store import State

MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 3600
TEXT_LIMIT = 1200  # "Text can be up to 1200 characters in length."
OTHER_MODES_ONLY = ("line_items", "saved_payment_method_options", "payment_intent_data",
                    "subscription_data", "submit_type", "customer_creation",
                    "optional_items", "discounts", "invoice_creation", "shipping_options",
                    "custom_fields")
# What the sandbox models; anything else the SDK allows is refused as unsupported.
SUPPORTED = frozenset({
    "mode", "ui_mode", "customer", "currency", "expires_at", "success_url", "cancel_url",
    "custom_text", "metadata", "client_reference_id", "setup_intent_data",
    "payment_method_data", "allowed_payment_method_types", "locale", "consent_collection",
    "expand"})
_OPEN: weakref.WeakKeyDictionary[State, set[str]] = weakref.WeakKeyDictionary()
_URL = re.compile(r"^https?://[^\s/]+(/\S*)?$")


def _session(state: State, params: dict[str, Any], expires_at: int) -> dict[str, Any]:
    ident = "cs_test_" + state.new_id("", 58)
    text = params.get("custom_text") or {}
    reuse = (params.get("payment_method_data") or {}).get("allow_redisplay")
    return {
        "id": ident, "object": "checkout.session", "adaptive_pricing": None,
        "after_expiration": None, "allow_promotion_codes": None,
        "allowed_payment_method_types": as_list(params, "allowed_payment_method_types") or None,
        "amount_subtotal": None, "amount_total": None,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None,
                          "status": None},
        "billing_address_collection": None, "cancel_url": params.get("cancel_url"),
        "client_reference_id": params.get("client_reference_id"), "client_secret": None,
        "consent": None, "consent_collection": params.get("consent_collection"),
        "created": state.now(), "currency": params.get("currency"), "custom_fields": [],
        "custom_text": {key: (text.get(key) or None) for key in (
            "after_submit", "shipping_address", "submit", "terms_of_service_acceptance")},
        "customer": params.get("customer"), "customer_creation": None,
        "customer_details": None, "customer_email": None, "expires_at": expires_at,
        "invoice": None, "invoice_creation": None, "livemode": False,
        "locale": params.get("locale"), "metadata": metadata(params), "mode": "setup",
        "payment_intent": None, "payment_link": None, "payment_method_collection": "always",
        "payment_method_options": {}, "payment_method_types": ["card"],
        "payment_status": "no_payment_required", "setup_intent": None,
        "status": "open", "submit_type": None, "subscription": None,
        "success_url": params.get("success_url"), "ui_mode": "hosted_page",
        "collected_information": None, "currency_conversion": None, "customer_account": None,
        "discounts": [], "integration_identifier": None, "managed_payments": None,
        "origin_context": None, "payment_method_configuration_details": None,
        "permissions": None, "phone_number_collection": {"enabled": False},
        "recovered_from": None, "saved_payment_method_options": None,
        "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
        "total_details": None, "wallet_options": None,
        "url": f"{state.base_url}/pay/{ident}",
        "_setup_intent_data": params.get("setup_intent_data") or {},
        "_allow_redisplay": reuse,
    }


def _check(state: State, params: dict[str, Any]) -> None:
    """Stripe's rules the types cannot say, then the sandbox's own limits."""
    mode = params.get("mode")
    if mode is None:
        raise invalid("Missing required param: mode.", param="mode", code="parameter_missing")
    if mode != "setup":
        raise invalid("The sandbox's Checkout supports mode=setup only.", param="mode")
    for name in OTHER_MODES_ONLY:
        if name in params:
            raise invalid(f"You can not pass `{name}` in `setup` mode.", param=name)
    if params.get("ui_mode", "hosted_page") != "hosted_page":
        raise invalid("The sandbox's Checkout supports ui_mode=hosted_page only.",
                      param="ui_mode")
    for name in params:
        if name not in SUPPORTED:
            raise invalid(f"The sandbox's Checkout does not support `{name}`.", param=name)
    types = as_list(params, "allowed_payment_method_types")
    if not params.get("currency") and not types:
        raise invalid("Missing required param: currency. It is required in `setup` mode "
                      "when `allowed_payment_method_types` is not set.", param="currency",
                      code="parameter_missing")
    if types and types != ["card"]:
        raise invalid("The sandbox's Checkout supports allowed_payment_method_types=[card] "
                      "only.", param="allowed_payment_method_types")
    if params.get("customer"):
        state.get(params["customer"], "customer", param="customer")
    for name in ("success_url", "cancel_url"):
        if name in params and not _URL.match(str(params[name])):
            raise invalid("Not a valid URL", param=name, code="url_invalid")
    text = params.get("custom_text") or {}
    for key, value in text.items():
        message = value.get("message", "") if isinstance(value, dict) else ""
        if len(message) > TEXT_LIMIT:
            raise invalid(f"custom_text[{key}][message] must be at most {TEXT_LIMIT} "
                          "characters.", param=f"custom_text[{key}][message]")
    if text.get("terms_of_service_acceptance") and (
            (params.get("consent_collection") or {}).get("terms_of_service") != "required"):
        raise invalid("custom_text[terms_of_service_acceptance] can only be set when "
                      "consent_collection[terms_of_service] is `required`.",
                      param="custom_text[terms_of_service_acceptance]")


def create(state: State, params: dict[str, Any]) -> dict[str, Any]:
    _check(state, params)
    now = state.now()
    expires_at = as_int(params, "expires_at")
    if expires_at is None:
        expires_at = now + MAX_LIFETIME
    elif expires_at < now + MIN_LIFETIME:
        raise invalid("The `expires_at` timestamp must be at least 30 minutes from Checkout "
                      "Session creation.", param="expires_at")
    elif expires_at > now + MAX_LIFETIME:
        raise invalid("The `expires_at` timestamp must be less than 24 hours from Checkout "
                      "Session creation.", param="expires_at")
    session = state.add(_session(state, params, expires_at))
    _open_ids(state).add(session["id"])
    return session


def find(state: State, ident: str) -> dict[str, Any]:
    return state.get(ident, "checkout.session", label="checkout.session")


def retrieve(state: State, params: dict[str, Any], session: str) -> dict[str, Any]:
    return find(state, session)


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """Filtered by each field given (a setup-mode session has no payment_intent,
    payment_link or subscription, so those match nothing) and by `created`."""
    by_created = created_filter(params)
    fields = ("customer", "customer_account", "status", "payment_intent", "payment_link",
              "subscription")
    email = (params.get("customer_details") or {}).get("email")
    items = [s for s in state.of_type("checkout.session")
             if all(params.get(f) in (None, "") or s[f] == params[f] for f in fields)
             and by_created(s["created"])
             and (email is None or (s["customer_details"] or {}).get("email") == email)]
    return paginate(state, items, params, "/v1/checkout/sessions")


def _expire(state: State, session: dict[str, Any]) -> None:
    before = state.snapshot(session)
    session.update(status="expired", url=None)
    state.emit("checkout.session.expired", session, changed(before, state.snapshot(session)))


def expire(state: State, params: dict[str, Any], session: str) -> dict[str, Any]:
    obj = find(state, session)
    if obj["status"] != "open":
        raise invalid(f"This Checkout Session is {obj['status']}: only an open Checkout "
                      "Session can be expired.", saved=True)
    _expire(state, obj)
    return obj


def _open_ids(state: State) -> set[str]:
    """The open sessions' ids: every request sweeps, so it looks at these only (found once
    by scanning when a state was loaded from its file)."""
    found = _OPEN.get(state)
    if found is None:
        found = _OPEN[state] = {s["id"] for s in state.of_type("checkout.session")
                                if s["status"] == "open"}
    return found


def expire_due(state: State) -> int:
    """Expire every open session whose `expires_at` the clock has passed (the caller made
    the change automatic); how many."""
    now, open_ids = state.now(), _open_ids(state)
    due = sorted((state.objects[i] for i in open_ids
                  if state.objects[i]["status"] == "open"
                  and state.objects[i]["expires_at"] <= now),
                 key=lambda s: (s["expires_at"], s["created"]))
    for session in due:  # in the order they fell due
        _expire(state, session)
    open_ids.difference_update(i for i in list(open_ids)
                               if state.objects[i]["status"] != "open")
    return len(due)


# -- the hosted page's submission ------------------------------------------------------------


AUTHENTICATE = "authenticate"  # the card needs 3-D Secure: the page asks for it first
AUTH_FAILED = ("We are unable to authenticate your payment method. Please choose a "
               "different payment method and try again.")


def submit_card(state: State, session: dict[str, Any],
                pm: dict[str, Any]) -> ApiError | str | None:
    """The payer submitted a card: None once it is set up and the session complete; the
    decline (the page shows its message; the session stays open, the card unattached);
    or AUTHENTICATE when the card asks for 3-D Secure (Stripe's page opens the bank's
    challenge; `authenticate` finishes). The SetupIntent is made at the first submission."""
    seti = _setup_intent(state, session)
    session.pop("_pending", None)  # a new card replaces one left waiting for 3-D Secure
    # The session's override, as Stripe sets it at confirmation; "always" without one.
    pm["allow_redisplay"] = session.get("_allow_redisplay") or "always"
    if state.card_of(pm).authentication_required:
        # A new confirmation clears the last one's error, as Stripe does.
        seti.update(status="requires_action", payment_method=pm["id"], last_setup_error=None,
                    next_action={"type": "use_stripe_sdk", "use_stripe_sdk": {}})
        session["_pending"] = pm["id"]
        state.emit("setup_intent.requires_action", seti)
        return AUTHENTICATE
    return _set_up(state, session, seti, pm)


def authenticate(state: State, session: dict[str, Any], passed: bool) -> ApiError | None:
    """The test challenge's answer for the card waiting for it (ApiError when none is)."""
    pm_id = session.pop("_pending", None)
    if pm_id is None:
        return ApiError(400, "There is no card waiting for authentication.")
    seti, pm = _setup_intent(state, session), state.get(pm_id, "payment_method")
    seti["next_action"] = None
    if not passed:
        failure = ApiError(402, AUTH_FAILED, code="setup_intent_authentication_failure")
        _failed(state, seti, pm, failure, "invalid_request_error")
        return failure
    return _set_up(state, session, seti, pm)


def _failed(state: State, seti: dict[str, Any], pm: dict[str, Any], error: ApiError,
            kind: str) -> None:
    """The SetupIntent back to `requires_payment_method`, with Stripe's `last_setup_error`
    (the pinned SDK's SetupIntent.LastSetupError): what the page said, and the card refused.
    The session stays open: the payer can try another card on the same page."""
    failure: dict[str, Any] = {"code": error.code, "decline_code": error.decline_code,
                               "message": error.message, "param": error.param,
                               "payment_method": state.render(pm),
                               "payment_method_type": pm["type"], "type": kind}
    if error.code:
        failure["doc_url"] = ("https://stripe.com/docs/error-codes/"
                              + error.code.replace("_", "-"))
    seti.update(status="requires_payment_method", payment_method=None,
                last_setup_error=failure)
    state.emit("setup_intent.setup_failed", seti)


def _set_up(state: State, session: dict[str, Any], seti: dict[str, Any],
            pm: dict[str, Any]) -> ApiError | None:
    try:
        if session["customer"]:
            attach(state, {"customer": session["customer"]}, pm["id"])
        else:  # no one to attach to: the card is still checked
            card = state.card_of(pm)
            if card.decline is not None and card.decline_on_attach:
                raise ApiError(402, card.decline.message, type="card_error",
                               code=card.decline.code, decline_code=card.decline.decline_code)
    except ApiError as declined:
        _failed(state, seti, pm, declined, "card_error")
        return declined
    seti.update(status="succeeded", payment_method=pm["id"], last_setup_error=None,
                next_action=None, latest_attempt=state.new_id("setatt_"))
    state.emit("setup_intent.succeeded", seti)
    before = state.snapshot(session)
    customer = state.objects.get(session["customer"] or "") or {}
    session.update(status="complete", url=None, customer_details={
        "address": pm["billing_details"]["address"], "business_name": None,
        "email": customer.get("email"), "individual_name": None, "name": customer.get("name"),
        "phone": None, "tax_exempt": "none", "tax_ids": []})
    state.emit("checkout.session.completed", session, changed(before, state.snapshot(session)))
    return None


def _setup_intent(state: State, session: dict[str, Any]) -> dict[str, Any]:
    if session["setup_intent"]:
        return state.get(session["setup_intent"], "setup_intent")
    data = session["_setup_intent_data"]
    ident = state.new_id("seti_")
    seti = objects.setup_intent(ident, state.now(), state.secret(ident),
                                {"customer": session["customer"],
                                 "description": data.get("description")},
                                dict(data.get("metadata") or {}), ["card"])
    state.add(seti)
    session["setup_intent"] = ident
    state.emit("setup_intent.created", seti)
    return seti


_SESSION = r"/v1/checkout/sessions/(?P<session>cs_\w+)"
ROUTES = [
    ("POST", r"/v1/checkout/sessions", create),
    ("GET", r"/v1/checkout/sessions", list_),
    ("GET", _SESSION, retrieve),
    ("POST", _SESSION + "/expire", expire),
]
