"""Terminal readers (one simulated reader) and the SetupIntents a reader processes."""

from __future__ import annotations

from typing import Any

from gateway.sandbox import objects
from gateway.sandbox.errors import invalid, unexpected_state
from gateway.sandbox.forms import as_bool, as_list, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.resources.payment_methods import new_payment_method
from gateway.sandbox.store import State
from gateway.sandbox.testcards import card_for_number

DEFAULT_TEST_CARD = "4242424242424242"


def create_setup_intent(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("customer"):
        state.get(params["customer"], "customer", param="customer")
    types = as_list(params, "payment_method_types") or ["card"]
    usage = params.get("usage") or "off_session"
    if usage not in ("on_session", "off_session"):
        raise invalid(f"Invalid usage: {usage}", param="usage")
    seti_id = state.new_id("seti_")
    return state.add(objects.setup_intent(seti_id, state.now(), state.secret(seti_id), params,
                                          metadata(params), types))


def retrieve_setup_intent(state: State, params: dict[str, Any], seti: str) -> dict[str, Any]:
    return state.get(seti, "setup_intent", label="setupintent")


def cancel_setup_intent(state: State, params: dict[str, Any], seti: str) -> dict[str, Any]:
    obj = state.get(seti, "setup_intent", label="setupintent")
    if obj["status"] in ("succeeded", "canceled"):
        raise unexpected_state(f"You cannot cancel this SetupIntent because it has a status of "
                               f"{obj['status']}.")
    obj["status"] = "canceled"
    obj["cancellation_reason"] = params.get("cancellation_reason") or None
    return obj


def list_readers(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("terminal.reader")
    if params.get("status"):
        items = [r for r in items if r["status"] == params["status"]]
    return paginate(state, items, params, "/v1/terminal/readers")


def retrieve_reader(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    return state.get(reader, "terminal.reader", label="terminal.reader")


def process_setup_intent(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    if not params.get("allow_redisplay"):
        raise invalid("Missing required param: allow_redisplay.", param="allow_redisplay",
                      code="parameter_missing")
    seti = state.get(params.get("setup_intent"), "setup_intent", label="setupintent",
                     param="setup_intent")
    if seti["status"] != "requires_payment_method":
        raise invalid(f"The SetupIntent {seti['id']} has a status of {seti['status']} and "
                      "cannot be processed.", param="setup_intent",
                      code="setup_intent_unexpected_state")
    action = obj.get("action")
    if action and action["status"] == "in_progress":
        raise invalid("Reader is currently busy processing another request.",
                      code="terminal_reader_busy")
    config = params.get("process_config") or {}
    obj["action"] = {
        "type": "process_setup_intent", "status": "in_progress", "failure_code": None,
        "failure_message": None, "api_error": None,
        "process_setup_intent": {
            "setup_intent": seti["id"], "generated_card": None,
            "process_config": {"enable_customer_cancellation": as_bool(
                config, "enable_customer_cancellation")}},
    }
    obj["_allow_redisplay"] = params["allow_redisplay"]
    return obj


def cancel_action(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    action = obj.get("action")
    if not action or action["status"] != "in_progress":
        raise invalid("This reader has no in-progress action to cancel.",
                      code="terminal_reader_action_not_in_progress")
    action.update(status="failed", failure_code="canceled",
                  failure_message="The action was canceled.")
    return obj


def present_payment_method(state: State, params: dict[str, Any], reader: str) -> dict[str, Any]:
    """Test helper: a card is tapped on the simulated reader, finishing its action."""
    obj = state.get(reader, "terminal.reader", label="terminal.reader")
    action = obj.get("action")
    if not action or action["status"] != "in_progress":
        raise invalid("The reader has no in-progress action to present a payment method to.",
                      code="terminal_reader_action_not_in_progress")
    source = params.get("card_present") or params.get("card") or {}
    number = str(source.get("number") or DEFAULT_TEST_CARD) if isinstance(source, dict) \
        else DEFAULT_TEST_CARD
    card = card_for_number(number)
    if card is None:
        raise invalid("Only Stripe's test card numbers can be presented to a simulated reader.",
                      param="card_present[number]")
    seti = state.get(action["process_setup_intent"]["setup_intent"], "setup_intent")
    present = new_payment_method(state, card, number, kind="card_present")
    if card.decline is not None and card.decline_on_attach:
        decline = card.decline
        action.update(status="failed", failure_code=decline.code,
                      failure_message=decline.message)
        seti["last_setup_error"] = {
            "code": decline.code, "decline_code": decline.decline_code,
            "message": decline.message, "payment_method": state.render(present),
            "type": "card_error"}
        return obj
    attempt = state.new_id("setatt_")
    generated = new_payment_method(state, card, number)
    generated["card"]["generated_from"] = {
        "charge": None, "setup_attempt": attempt,
        "payment_method_details": {"type": "card_present", "card_present": present[
            "card_present"]}}
    generated["customer"] = seti["customer"]
    generated["allow_redisplay"] = obj.pop("_allow_redisplay", "unspecified")
    seti.update(status="succeeded", payment_method=present["id"], latest_attempt=attempt,
                last_setup_error=None)
    action["status"] = "succeeded"
    action["process_setup_intent"]["generated_card"] = generated["id"]
    return obj


_READER = r"/v1/terminal/readers/(?P<reader>tmr_\w+)"
_SETI = r"/v1/setup_intents/(?P<seti>seti_\w+)"
ROUTES = [
    ("POST", r"/v1/setup_intents", create_setup_intent),
    ("GET", _SETI, retrieve_setup_intent),
    ("POST", _SETI + "/cancel", cancel_setup_intent),
    ("GET", r"/v1/terminal/readers", list_readers),
    ("GET", _READER, retrieve_reader),
    ("POST", _READER + "/process_setup_intent", process_setup_intent),
    ("POST", _READER + "/cancel_action", cancel_action),
    ("POST", r"/v1/test_helpers/terminal/readers/(?P<reader>tmr_\w+)/present_payment_method",
     present_payment_method),
]
