"""ACH Direct Debit on PaymentIntents: confirm with a mandate, microdeposit verification,
`processing`, then settlement (settlement.py) to `succeeded` or a failure.

Its routes come before those of payment_methods and payment_intents: a request about a
us_bank_account is answered here, any other goes on to the card handlers unchanged.

What Stripe documents (docs.stripe.com/payments/ach-direct-debit/accept-a-payment, direct
API; docs.stripe.com/api/payment_intents/verify_microdeposits;
support.stripe.com/questions/verify-a-new-ach-direct-debit-customer-using-micro-deposits):
- ACH takes USD only and no manual capture.
- Confirming needs a mandate: `mandate_data[customer_acceptance]` (online with ip_address
  and user_agent, or offline), or `mandate` naming an active mandate of the same
  PaymentMethod (a verified account is reused without new microdeposits).
- Numbers typed in (no Financial Connections account) are verified by microdeposits: the
  intent goes to `requires_action` with `next_action.verify_with_microdeposits`; POST
  .../verify_microdeposits with `amounts` (test: 32 and 45) or `descriptor_code` (test:
  SM11AA), whichever `next_action.verify_with_microdeposits.microdeposit_type` says was
  sent (the other is refused without using an attempt). Test values 10/11 or SM33CC exceed the attempts; 40/41 or SM44DD time out.
  A payer has 3 attempts for amounts, 10 for a descriptor code; the microdeposit lands in
  1-2 business days and must be verified within 10 days.
- Then the intent is `processing` (charge.pending, payment_intent.processing) until the
  debit settles.
"""

from __future__ import annotations

import weakref
from typing import Any

from gateway.sandbox import settlement
from gateway.sandbox.errors import ApiError, invalid, unexpected_state
from gateway.sandbox.forms import as_bool, as_list
from gateway.sandbox.resources import bank_accounts as banks
from gateway.sandbox.resources import payment_intents, payment_methods
from gateway.sandbox.store import State

BANK = "us_bank_account"
VERIFICATION_METHODS = ("automatic", "instant", "microdeposits")
MICRODEPOSIT_TYPES = ("descriptor_code", "amounts")
ATTEMPTS = {"amounts": 3, "descriptor_code": 10}
ARRIVAL_BUSINESS_DAYS = 2  # "can take 1-2 business days to appear"
VERIFY_WITHIN = 10 * 24 * 3600
# Stripe's test values for verify_microdeposits, by outcome.
SUCCESS = ((32, 45), "SM11AA")
EXCEEDED = ((10, 11), "SM33CC")
TIMED_OUT = ((40, 41), "SM44DD")
TIMEOUT_CODE = "payment_method_microdeposit_verification_timeout"
TIMEOUT_MESSAGE = ("The microdeposits were not verified in time; collect the bank account "
                   "again.")
MICRODEPOSITS = "_microdeposits"  # private: type, attempts, expiry of an open verification
MANDATE = "_mandate"  # private: the mandate the intent's debit runs under
USED = "_used"  # private: confirmed once; without a Customer it cannot be used again
SINGLE_USE = ("The provided PaymentMethod was previously used with a PaymentIntent without "
              "Customer attachment, shared with a connected account without Customer "
              "attachment, or was detached from a Customer. It may not be used again. To use a "
              "PaymentMethod multiple times, you must attach it to a Customer first.")
_TYPES: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def set_microdeposit_type(state: State, kind: str) -> None:
    """Which microdeposit the sandbox sends: descriptor_code (Stripe's for PaymentIntents)
    or amounts (two deposits)."""
    if kind not in MICRODEPOSIT_TYPES:
        raise ValueError(f"microdeposit_type must be one of {', '.join(MICRODEPOSIT_TYPES)}, "
                         f"got {kind!r}.")
    _TYPES[state] = kind


def _bank_pm(state: State, ident: Any) -> dict[str, Any] | None:
    obj = state.objects.get(ident) if isinstance(ident, str) else None
    return obj if obj is not None and obj.get("type") == BANK else None


def _check_intent(params: dict[str, Any], currency: str | None,
                  pm: dict[str, Any] | None = None) -> None:
    if currency is not None and currency.lower() != "usd":
        raise invalid(f"The currency provided ({currency.lower()}) is invalid. Payments with "
                      "us_bank_account support the following currencies: usd.",
                      param="currency")
    if params.get("capture_method") == "manual":
        raise invalid("The payment method type us_bank_account does not support "
                      "capture_method manual.", param="capture_method")
    options = params.get("payment_method_options")
    bank = options.get(BANK) if isinstance(options, dict) else None
    method = bank.get("verification_method") if isinstance(bank, dict) else None
    if method not in (None, "") and method not in VERIFICATION_METHODS:
        raise invalid(f"Invalid verification_method: must be one of "
                      f"{', '.join(VERIFICATION_METHODS)}",
                      param="payment_method_options[us_bank_account][verification_method]")
    if method == "instant" and pm is not None and not pm[BANK]["financial_connections_account"]:
        raise invalid("verification_method instant needs a bank account linked through "
                      "Financial Connections; this PaymentMethod was entered by hand.",
                      param="payment_method_options[us_bank_account][verification_method]",
                      code="payment_intent_invalid_parameter")


def _verification_method(params: dict[str, Any], pi: dict[str, Any]) -> str:
    options = params.get("payment_method_options")
    bank = options.get(BANK) if isinstance(options, dict) else None
    given = bank.get("verification_method") if isinstance(bank, dict) else None
    stored = ((pi.get("payment_method_options") or {}).get(BANK) or {}).get(
        "verification_method")
    return str(given or stored or "automatic")


def _set_options(pi: dict[str, Any], method: str) -> None:
    """The intent's options: its bank account's, and those of its other allowed types."""
    options = {k: v for k, v in (pi.get("payment_method_options") or {}).items()
               if k in pi["payment_method_types"]}
    options[BANK] = {"mandate_options": {}, "verification_method": method}
    pi["payment_method_options"] = options


def create_payment_method(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("type") == BANK:
        return banks.create_payment_method(state, params)
    return payment_methods.create(state, params)


def attach_payment_method(state: State, params: dict[str, Any], pm: str) -> dict[str, Any]:
    """Attach: a bank account has no card check to run (payment_methods.attach's)."""
    obj = _bank_pm(state, pm)
    if obj is None or not params.get("customer") or obj["customer"] is not None:
        return payment_methods.attach(state, params, pm)
    state.get(params["customer"], "customer", param="customer")
    obj["customer"] = params["customer"]
    state.emit("payment_method.attached", obj)
    return obj


def create_intent(state: State, params: dict[str, Any]) -> dict[str, Any]:
    wanted = as_list(params, "allowed_payment_method_types")
    pm = _bank_pm(state, params.get("payment_method"))
    if BANK not in wanted and pm is None:
        return payment_intents.create(state, params)
    _check_intent(params, str(params.get("currency") or "") or None, pm)
    confirm = as_bool(params, "confirm")
    if confirm and pm is not None:  # refused before anything is made, as Stripe does
        if pm["customer"] is None and pm.get(USED):
            raise invalid(SINGLE_USE, param="payment_method")
        _mandate_given(state, params, pm)
    bank_confirm = confirm and pm is not None  # a card's confirm stays the card handler's
    pi = payment_intents.create(state, {k: v for k, v in params.items()
                                        if k != "confirm" or not bank_confirm})
    _set_options(pi, _verification_method(params, pi))
    if bank_confirm:
        assert pm is not None
        _confirm(state, pi, params, pm)
    return pi


def confirm_intent(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    pm = _bank_pm(state, params.get("payment_method") or obj["payment_method"])
    if pm is None:
        return payment_intents.confirm(state, params, pi)
    _check_intent(params, obj["currency"], pm)
    payment_intents.check_payment_method_type(pm, obj["payment_method_types"])
    _confirm(state, obj, params, pm)
    return obj


def cancel_intent(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    """A debit already sent to the bank cannot be called back: Stripe refuses to cancel it."""
    obj = state.get(pi, "payment_intent", label="payment_intent")
    if obj["status"] == "processing" and obj.get(MANDATE):
        raise unexpected_state("You cannot cancel this PaymentIntent because it has a status "
                               "of processing: the debit was sent to the bank.",
                               payment_intent=state.render(obj))
    return payment_intents.cancel(state, params, pi)


def _mandate_given(state: State, params: dict[str, Any],
                   pm: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(customer acceptance, existing mandate): one of them, else Stripe's refusal."""
    accepted = banks.acceptance(state, params)
    if accepted is not None:
        return accepted, None
    if params.get("mandate"):
        return None, banks.reusable_mandate(state, params["mandate"], pm)
    raise invalid("A mandate is required to confirm a PaymentIntent with a us_bank_account "
                  "PaymentMethod: provide mandate_data[customer_acceptance], or mandate with "
                  "the id of an active mandate of this PaymentMethod.",
                  param="mandate_data", code="parameter_missing")


def _confirm(state: State, pi: dict[str, Any], params: dict[str, Any],
             pm: dict[str, Any]) -> None:
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise unexpected_state(
            f"You cannot confirm this PaymentIntent because it has a status of {pi['status']}.")
    if pm["customer"] is not None and pm["customer"] != pi["customer"]:
        raise invalid("The provided PaymentMethod belongs to a different Customer than the one "
                      "on this PaymentIntent.", param="payment_method")
    if pm["customer"] is None and pm.get(USED):
        raise invalid(SINGLE_USE, param="payment_method")
    accepted, mandate = _mandate_given(state, params, pm)
    method = _verification_method(params, pi)
    pm[USED] = True
    verified = bool(pm.get(banks.VERIFIED))
    if mandate is None:
        assert accepted is not None
        mandate = banks.new_mandate(state, pm, accepted, active=verified)
    pi.update(payment_method=pm["id"], last_payment_error=None)
    _set_options(pi, method)
    pi[MANDATE] = mandate["id"]
    if verified:
        start_debit(state, pi, pm)
        return
    kind = _TYPES.get(state, "descriptor_code")
    now = state.now()
    pi[MICRODEPOSITS] = {"type": kind, "attempts": 0, "expires_at": now + VERIFY_WITHIN}
    # Unverified when the 10 days are up, the debit fails by itself (finish_debit).
    settlement.schedule_at(state, pi, now + VERIFY_WITHIN + 1)
    pi.update(status="requires_action", next_action={
        "type": "verify_with_microdeposits", "verify_with_microdeposits": {
            "arrival_date": settlement.add_business_days(now, ARRIVAL_BUSINESS_DAYS),
            "hosted_verification_url":
                f"https://payments.stripe.com/microdeposit/pacs_test_{pi['id'][3:]}",
            "microdeposit_type": kind}})
    state.emit("payment_intent.requires_action", pi)


def start_debit(state: State, pi: dict[str, Any], pm: dict[str, Any]) -> None:
    """The debit is sent: a pending charge, the intent `processing` until it settles."""
    charge = _charge(state, pi, pm)
    state.add(charge)
    pi.update(status="processing", latest_charge=charge["id"], next_action=None)
    pi.pop(MICRODEPOSITS, None)
    settlement.schedule(state, pi, charge["created"])
    state.emit("charge.pending", charge)
    state.emit("payment_intent.processing", pi)


def _charge(state: State, pi: dict[str, Any], pm: dict[str, Any]) -> dict[str, Any]:
    ident = state.new_id("py_")  # Stripe's ACH charges have py_ ids
    bank = pm[BANK]
    return {
        "id": ident, "object": "charge", "amount": pi["amount"], "amount_captured": pi["amount"],
        "amount_refunded": 0, "application": None, "application_fee": None,
        "application_fee_amount": None, "balance_transaction": state.new_id("txn_"),
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "PAYDESK", "captured": True,
        "created": state.now(), "currency": pi["currency"], "customer": pi["customer"],
        "description": pi["description"], "disputed": False,
        "failure_balance_transaction": None, "failure_code": None, "failure_message": None,
        "fraud_details": {}, "livemode": False, "metadata": dict(pi["metadata"]),
        "on_behalf_of": None, "outcome": {
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "approved_by_network", "reason": None, "risk_level": "not_assessed",
            "seller_message": "Payment complete.", "type": "authorized"},
        "paid": False, "payment_intent": pi["id"], "payment_method": pm["id"],
        "payment_method_details": {"type": BANK, BANK: {
            "account_holder_type": bank["account_holder_type"],
            "account_type": bank["account_type"], "bank_name": bank["bank_name"],
            "expected_debit_date": None, "fingerprint": bank["fingerprint"],
            "last4": bank["last4"], "mandate": pi[MANDATE], "payment_reference": None,
            "routing_number": bank["routing_number"]}},
        "receipt_email": None, "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{ident}", "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                    "url": f"/v1/charges/{ident}/refunds"},
        "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
        "status": "pending", "transfer_data": None, "transfer_group": None,
    }


def finish_debit(state: State, pi: dict[str, Any]) -> None:
    """The debit settles (settlement.py): the test account's outcome. Automatic. A debit
    still waiting for its microdeposits when their 10 days are up fails instead, as
    Stripe's does (payment_intent.payment_failed, ..._verification_timeout)."""
    if pi["status"] == "requires_action" and pi.get(MICRODEPOSITS) is not None:
        _end_verification(state, pi, state.get(pi["payment_method"], "payment_method"),
                          TIMEOUT_CODE, TIMEOUT_MESSAGE)
        return
    charge = state.objects.get(pi.get("latest_charge") or "")
    if pi["status"] != "processing" or charge is None or charge["status"] != "pending":
        return
    pm = state.objects.get(charge["payment_method"]) or {}
    code = pm.get(banks.OUTCOME)
    if code is None:
        charge.update(status="succeeded", paid=True)
        pi.update(status="succeeded", amount_received=pi["amount"])
        state.emit("charge.succeeded", charge)
        state.emit("payment_intent.succeeded", pi)
        return
    message = banks.FAILURE_MESSAGES[code]
    charge.update(status="failed", paid=False, captured=False, amount_captured=0,
                  balance_transaction=None, failure_code=code, failure_message=message,
                  outcome={**charge["outcome"], "network_status": "declined_by_network",
                           "seller_message": message, "type": "issuer_declined"})
    pi.update(status="requires_payment_method", payment_method=None, last_payment_error={
        "charge": charge["id"], "code": code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message, "payment_method": state.render(pm) if pm else None,
        "type": "card_error" if code == "insufficient_funds" else "invalid_request_error"})
    state.emit("charge.failed", charge)
    state.emit("payment_intent.payment_failed", pi)
    mandate = state.objects.get(pi.get(MANDATE) or "")
    if code in banks.DEACTIVATING and mandate is not None:
        banks.set_mandate_status(state, mandate, "inactive")


def _values(params: dict[str, Any]) -> tuple[str, Any]:
    amounts = params.get("amounts")
    code = params.get("descriptor_code")
    if (amounts in (None, "", [])) == (code in (None, "")):
        raise invalid("Provide either amounts or descriptor_code.", code="parameter_missing")
    if code not in (None, ""):
        return "descriptor_code", str(code)
    try:
        values = tuple(int(a) for a in as_list(params, "amounts"))
    except (TypeError, ValueError):
        values = ()
    if len(values) != 2 or min(values) < 1:
        raise invalid("amounts must be two positive integers, in cents.", param="amounts",
                      code="payment_method_microdeposit_verification_amounts_invalid")
    return "amounts", values


def verify_microdeposits(state: State, params: dict[str, Any], pi: str) -> dict[str, Any]:
    obj = state.get(pi, "payment_intent", label="payment_intent")
    open_ = obj.get(MICRODEPOSITS)
    if obj["status"] != "requires_action" or open_ is None:
        raise unexpected_state("This PaymentIntent has no microdeposits to verify: it has a "
                               f"status of {obj['status']}.")
    given, value = _values(params)
    if given != open_["type"]:
        # Stripe answers by the deposit it sent, not by what the payer chose to send: the
        # other kind is refused as a bad parameter, and no attempt is used.
        wanted = "a descriptor_code" if open_["type"] == "descriptor_code" else "amounts"
        raise invalid(f"The microdeposit sent to this bank account is of type "
                      f"{open_['type']}: verify it with {wanted}, not {given}.", param=given)
    index = 0 if given == "amounts" else 1
    pm = state.get(obj["payment_method"], "payment_method")
    if state.now() > open_["expires_at"] or value == TIMED_OUT[index]:
        _fail_verification(state, obj, pm, TIMEOUT_CODE, TIMEOUT_MESSAGE)
    if value == EXCEEDED[index]:
        open_["attempts"] = ATTEMPTS[open_["type"]]
    elif value != SUCCESS[index]:
        open_["attempts"] += 1
    if open_["attempts"] >= ATTEMPTS[open_["type"]]:
        _fail_verification(state, obj, pm,
                           "payment_method_microdeposit_verification_attempts_exceeded",
                           "You have exceeded the number of allowed verification attempts.")
    if value != SUCCESS[index]:
        left = ATTEMPTS[open_["type"]] - open_["attempts"]
        what = "amounts provided do not" if given == "amounts" else "descriptor code does not"
        raise ApiError(400, f"The {what} match what was sent to the bank account. You have "
                            f"{left} verification attempts remaining.",
                       code=f"payment_method_microdeposit_verification_{given}_mismatch",
                       param=given, saved=True)
    pm[banks.VERIFIED] = True
    mandate = state.objects.get(obj.get(MANDATE) or "")
    if mandate is not None:
        banks.set_mandate_status(state, mandate, "active")
    start_debit(state, obj, pm)
    return obj


def _fail_verification(state: State, pi: dict[str, Any], pm: dict[str, Any], code: str,
                       message: str) -> None:
    _end_verification(state, pi, pm, code, message)
    raise invalid(message, code=code, saved=True)


def _end_verification(state: State, pi: dict[str, Any], pm: dict[str, Any], code: str,
                      message: str) -> None:
    pi.pop(MICRODEPOSITS, None)
    pi.update(status="requires_payment_method", next_action=None, payment_method=None,
              last_payment_error={"code": code, "message": message,
                                  "payment_method": state.render(pm),
                                  "type": "invalid_request_error"})
    mandate = state.objects.get(pi.get(MANDATE) or "")
    if mandate is not None:
        banks.set_mandate_status(state, mandate, "inactive")
    state.emit("payment_intent.payment_failed", pi)


_PI = r"/v1/payment_intents/(?P<pi>pi_\w+)"
ROUTES = [
    ("POST", r"/v1/payment_methods", create_payment_method),
    ("POST", r"/v1/payment_methods/(?P<pm>pm_\w+)/attach", attach_payment_method),
    ("POST", r"/v1/payment_intents", create_intent),
    ("POST", _PI + "/confirm", confirm_intent),
    ("POST", _PI + "/verify_microdeposits", verify_microdeposits),
    ("POST", _PI + "/cancel", cancel_intent),
    *banks.ROUTES,
]
