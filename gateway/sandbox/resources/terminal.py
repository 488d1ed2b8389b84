"""Terminal readers (one simulated reader), the SetupIntents a reader processes, and
PaymentIntents processed on a reader (server-driven Stripe Terminal).

A reader action (`process_setup_intent` or `process_payment_intent`) stays `in_progress`
until a card is presented with the test helper `present_payment_method`, or the action is
cancelled with `cancel_action`.

Wallet taps. Stripe's test mode cannot simulate a mobile wallet on a reader ("you can't use
Stripe Terminal with mobile wallets (for example, Apple Pay or Google Pay) in testmode",
https://docs.stripe.com/terminal/references/testing), and the test helper's
`card_present` takes only a `number`. So the sandbox adds two numbers of its own,
`WALLET_TAPS`, which real Stripe does not know: presenting one simulates a phone tapped on
the reader. The `card_present` PaymentMethod it makes carries `card_present.wallet.type`
(`apple_pay` or `google_pay`: the field Stripe added in 2024-09-30.acacia), and, as Stripe
documents, a wallet tap cannot be saved: a SetupIntent processed with it succeeds without a
`generated_card` ("Digital wallet payments such as Apple Pay or Google Pay can't be saved and
don't create a generated_card", https://docs.stripe.com/terminal/features/saving-cards/
save-after-payment). A wallet tap pays a PaymentIntent like any card.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gateway.cards import brand_of, last4
from gateway.sandbox import holds, objects
from gateway.sandbox.errors import ApiError, invalid, unexpected_state
from gateway.sandbox.forms import as_bool, as_list, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.resources import payment_intents
from gateway.sandbox.resources.payment_methods import new_payment_method
from gateway.sandbox.store import State
from gateway.sandbox.testcards import CATALOGUE, TestCard, card_for_number

DEFAULT_TEST_CARD = "4242424242424242"
# Sandbox-only numbers (see above): a phone tapped on the reader, by wallet.
WALLET_TAPS = {"4000000000007775": "apple_pay", "5555555555551234": "google_pay"}
PROCESSABLE = ("requires_payment_method", "requires_confirmation")


def create_setup_intent(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("customer"):
        state.get(params["customer"], "customer", param="customer")
    _, types = payment_intents.payment_method_types(params, "SetupIntent")
    usage = params.get("usage") or "off_session"
    meta = metadata(params)
    seti_id = state.new_id("seti_")
    seti = objects.setup_intent(seti_id, state.now(), state.secret(seti_id), params, meta, types)
    seti["excluded_payment_method_types"] = as_list(params, "excluded_payment_method_types") \
        or None
    seti["usage"] = usage
    state.add(seti)
    state.emit("setup_intent.created", seti)
    return seti


def retrieve_setup_intent(state: State, params: dict[str, Any], seti: str) -> dict[str, Any]:
    return state.get(seti, "setup_intent", label="setupintent")


def cancel_setup_intent(state: State, params: dict[str, Any], seti: str) -> dict[str, Any]:
    obj = state.get(seti, "setup_intent", label="setupintent")
    if obj["status"] in ("succeeded", "canceled"):
        raise unexpected_state(f"You cannot cancel this SetupIntent because it has a status of "
                               f"{obj['status']}.")
    obj["status"] = "canceled"
    obj["cancellation_reason"] = params.get("cancellation_reason") or None
    state.emit("setup_intent.canceled", obj)
    return obj


def list_readers(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("terminal.reader")
    if params.get("status"):
        items = [r for r in items if r["status"] == params["status"]]
    return paginate(state, items, params, "/v1/terminal/readers")


def retrieve_reader(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    return state.get(reader, "terminal.reader", label="terminal.reader")


def _check_processable(intent: dict[str, Any], noun: str, param: str,
                       statuses: tuple[str, ...]) -> None:
    """A reader processes an intent that awaits a card and allows card_present. (Missing
    parameters never get here: the request schema refuses them first.)"""
    if intent["status"] not in statuses:
        raise invalid(f"The {noun} {intent['id']} has a status of {intent['status']} and "
                      "cannot be processed.", param=param, code=f"{param}_unexpected_state")
    if "card_present" not in (intent.get("payment_method_types") or []):
        raise invalid(f"The {noun} {intent['id']} does not allow the payment method type "
                      "card_present, so a reader cannot process it. Create it with "
                      "card_present among its allowed payment method types.",
                      param=param, code=f"{param}_invalid_parameter")


def _start_action(reader: dict[str, Any], kind: str, details: dict[str, Any],
                  allow_redisplay: str) -> dict[str, Any]:
    """The reader now waits for a card for `details` (`in_progress`)."""
    _refuse_if_busy(reader)
    reader["action"] = {"type": kind, "status": "in_progress", "failure_code": None,
                        "failure_message": None, "api_error": None, kind: details}
    reader["_allow_redisplay"] = allow_redisplay
    return reader


def process_setup_intent(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    seti = state.get(params.get("setup_intent"), "setup_intent", label="setupintent",
                     param="setup_intent")
    _check_processable(seti, "SetupIntent", "setup_intent", ("requires_payment_method",))
    config = params.get("process_config") or {}
    return _start_action(obj, "process_setup_intent", {
        "setup_intent": seti["id"], "generated_card": None,
        "process_config": {"enable_customer_cancellation": as_bool(
            config, "enable_customer_cancellation")}}, params["allow_redisplay"])


def process_payment_intent(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    """Hand a PaymentIntent to the reader: it waits for a card (`in_progress`)."""
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    pi = state.get(params.get("payment_intent"), "payment_intent", label="payment_intent",
                   param="payment_intent")
    _check_processable(pi, "PaymentIntent", "payment_intent", PROCESSABLE)
    config = params.get("process_config") or {}
    return _start_action(obj, "process_payment_intent", {
        "payment_intent": pi["id"],
        "process_config": {
            "enable_customer_cancellation": as_bool(config, "enable_customer_cancellation"),
            "skip_tipping": as_bool(config, "skip_tipping"),
        }}, config.get("allow_redisplay") or "unspecified")


def _refuse_if_busy(reader: dict[str, Any]) -> None:
    action = reader.get("action")
    if action and action["status"] == "in_progress":
        raise invalid("Reader is currently busy processing another request.",
                      code="terminal_reader_busy")


def cancel_action(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    action = obj.get("action")
    if not action or action["status"] != "in_progress":
        raise invalid("This reader has no in-progress action to cancel.",
                      code="terminal_reader_action_not_in_progress")
    action.update(status="failed", failure_code="canceled",
                  failure_message="The action was canceled.")
    obj.pop("_allow_redisplay", None)
    return obj


def present_payment_method(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    """Test helper: a card (or, with a `WALLET_TAPS` number, a phone) is tapped on the
    simulated reader, finishing its action."""
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    action = obj.get("action")
    if not action or action["status"] != "in_progress":
        raise invalid("The reader has no in-progress action to present a payment method to.",
                      code="terminal_reader_action_not_in_progress")
    kind = params.get("type") or "card_present"
    if kind != "card_present":
        raise invalid(f"The sandbox's simulated reader presents only card_present, not {kind}.",
                      param="type")
    source = params.get("card_present")
    number = str(source.get("number") or DEFAULT_TEST_CARD) if isinstance(source, dict) \
        else DEFAULT_TEST_CARD
    wallet = WALLET_TAPS.get(number)
    card = _wallet_card(number) if wallet else card_for_number(number)
    if card is None:
        raise invalid("Only Stripe's test card numbers can be presented to a simulated reader.",
                      param="card_present[number]")
    # No 3-D Secure in person: the cardholder is there, with the card or the phone.
    card = replace(card, authentication_required=False)
    present = new_payment_method(state, card, number, kind="card_present")
    present["card_present"]["wallet"] = {"type": wallet} if wallet else None
    if action["type"] == "process_payment_intent":
        _pay_on_reader(state, obj, action, present)
    else:
        _set_up_on_reader(state, obj, action, present, card, number, wallet)
    return obj


def _wallet_card(number: str) -> TestCard:
    return replace(CATALOGUE["pm_card_visa"], brand=brand_of(number), last4=last4(number))


def _set_up_on_reader(state: State, obj: dict[str, Any], action: dict[str, Any],
                      present: dict[str, Any], card: TestCard, number: str,
                      wallet: str | None) -> None:
    seti = state.get(action["process_setup_intent"]["setup_intent"], "setup_intent")
    if card.decline is not None and card.decline_on_attach:
        decline = card.decline
        action.update(status="failed", failure_code=decline.code,
                      failure_message=decline.message)
        seti["last_setup_error"] = {
            "code": decline.code, "decline_code": decline.decline_code,
            "message": decline.message, "payment_method": state.render(present),
            "type": "card_error"}
        obj.pop("_allow_redisplay", None)
        state.emit("setup_intent.setup_failed", seti)
        return
    attempt = state.new_id("setatt_")
    generated_id = None
    if wallet is None:  # a wallet tap cannot be saved: no generated card
        generated = new_payment_method(state, card, number)
        generated["card"]["generated_from"] = {
            "charge": None, "setup_attempt": attempt,
            "payment_method_details": {"type": "card_present", "card_present": present[
                "card_present"]}}
        generated["customer"] = seti["customer"]
        generated["allow_redisplay"] = obj.get("_allow_redisplay", "unspecified")
        generated_id = generated["id"]
    obj.pop("_allow_redisplay", None)
    seti.update(status="succeeded", payment_method=present["id"], latest_attempt=attempt,
                last_setup_error=None)
    action["status"] = "succeeded"
    action["process_setup_intent"]["generated_card"] = generated_id
    state.emit("setup_intent.succeeded", seti)


def _pay_on_reader(state: State, obj: dict[str, Any], action: dict[str, Any],
                   present: dict[str, Any]) -> None:
    """The PaymentIntent is confirmed with the tapped card: authorized (manual capture),
    paid (automatic), or declined, which fails the action with the decline's code."""
    obj.pop("_allow_redisplay", None)
    pi = state.get(action["process_payment_intent"]["payment_intent"], "payment_intent")

    def tapped(charge: dict[str, Any]) -> None:
        _card_present_charge(charge, present, obj)

    try:
        payment_intents.confirm(state, {"payment_method": present["id"],
                                        payment_intents.ON_CHARGE: tapped}, pi["id"])
    except ApiError as exc:
        action.update(status="failed", failure_code=exc.code, failure_message=exc.message)
        return
    charge = state.objects.get(pi.get("latest_charge") or "")
    if charge is not None and holds.is_hold(charge, pi) and pi["status"] == "requires_capture":
        state.holds.track(charge)  # an in-person hold: Stripe's shorter window applies
    action["status"] = "succeeded"


def _card_present_charge(charge: dict[str, Any], present: dict[str, Any],
                         reader: dict[str, Any]) -> None:
    """The charge of a tapped card says so: `payment_method_details.type` is card_present."""
    details = dict(charge["payment_method_details"].get("card") or {})
    card_present = {key: details.get(key) for key in (
        "amount_authorized", "brand", "country", "exp_month", "exp_year", "fingerprint",
        "funding", "last4", "network", "network_transaction_id")}
    card_present.update(
        brand_product=None, capture_before=None, cardholder_name=None,
        description=None, emv_auth_data=None, generated_card=None, iin=None,
        incremental_authorization_supported=False, issuer=None,
        location=reader.get("location"), offline=None, overcapture_supported=False,
        preferred_locales=None, read_method="contactless_emv", reader=reader["id"],
        receipt=None, wallet=present["card_present"].get("wallet"))
    charge["payment_method_details"] = {"type": "card_present", "card_present": card_present}


_READER = r"/v1/terminal/readers/(?P<reader>tmr_\w+)"
_SETI = r"/v1/setup_intents/(?P<seti>seti_\w+)"
ROUTES = [
    ("POST", r"/v1/setup_intents", create_setup_intent),
    ("GET", _SETI, retrieve_setup_intent),
    ("POST", _SETI + "/cancel", cancel_setup_intent),
    ("GET", r"/v1/terminal/readers", list_readers),
    ("GET", _READER, retrieve_reader),
    ("POST", _READER + "/process_setup_intent", process_setup_intent),
    ("POST", _READER + "/process_payment_intent", process_payment_intent),
    ("POST", _READER + "/cancel_action", cancel_action),
    ("POST", r"/v1/test_helpers/terminal/readers/(?P<reader>tmr_\w+)/present_payment_method",
     present_payment_method),
]
