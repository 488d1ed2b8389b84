"""/v1/disputes (retrieve, list, update, close), and opening and closing disputes as a card
network would: from the sandbox's control endpoint, or after capture with Stripe's dispute
test cards (https://docs.stripe.com/testing#disputes).

A chargeback (`needs_response`) withdraws the disputed amount plus a fee at once (a balance
transaction, `charge.dispute.funds_withdrawn`) and the charge can no longer be refunded; an
inquiry (`warning_needs_response`) withdraws nothing. Won after a withdrawal, the funds come
back (`charge.dispute.funds_reinstated`). As in Stripe's test mode, evidence whose
`uncategorized_text` is "winning_evidence" or "losing_evidence" decides the outcome when it
is submitted.
"""

from __future__ import annotations

from typing import Any

from gateway.sandbox.errors import ApiError, invalid
from gateway.sandbox.events import AUTOMATIC, changed, created_filter
from gateway.sandbox.forms import as_bool, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.store import State

DAY = 24 * 3600
EVIDENCE_DAYS = 7  # evidence is due by the end of the seventh day
DISPUTE_FEE = 1_500  # Stripe's dispute fee, in minor units of the charge's currency
REASONS = ("bank_cannot_process", "check_returned", "credit_not_processed",
           "customer_initiated", "debit_not_authorized", "duplicate", "fraudulent", "general",
           "incorrect_account_details", "insufficient_funds", "noncompliant",
           "product_not_received", "product_unacceptable", "subscription_canceled",
           "unrecognized")
# Visa's reason codes for the reasons a card dispute usually has.
NETWORK_REASON = {"fraudulent": "10.4", "product_not_received": "13.1", "duplicate": "12.6.1",
                  "credit_not_processed": "13.6", "product_unacceptable": "13.3",
                  "subscription_canceled": "13.2", "unrecognized": "10.4"}
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy",
    "cancellation_policy_disclosure", "cancellation_rebuttal", "customer_communication",
    "customer_email_address", "customer_name", "customer_purchase_ip", "customer_signature",
    "duplicate_charge_documentation", "duplicate_charge_explanation", "duplicate_charge_id",
    "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation",
    "shipping_address", "shipping_carrier", "shipping_date", "shipping_documentation",
    "shipping_tracking_number", "uncategorized_file", "uncategorized_text")
OPEN = ("warning_needs_response", "warning_under_review", "needs_response", "under_review")
CLOSABLE = ("warning_needs_response", "needs_response")
TEST_OUTCOMES = {"winning_evidence": "won", "losing_evidence": "lost"}


def dispute_object(id_: str, created: int, charge: dict[str, Any], amount: int, reason: str,
                   inquiry: bool) -> dict[str, Any]:
    """A Dispute with every key of Stripe's example (fixtures3.json)."""
    card = (charge.get("payment_method_details") or {})
    details = card.get(card.get("type") or "card") or {}
    brand = details.get("brand") or "visa"
    return {
        "id": id_, "object": "dispute", "amount": amount, "balance_transactions": [],
        "charge": charge["id"], "created": created, "currency": charge["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {**dict.fromkeys(EVIDENCE_FIELDS), "enhanced_evidence": {}},
        "evidence_details": {"due_by": (created // DAY + EVIDENCE_DAYS + 1) * DAY - 1,
                             "enhanced_eligibility": {}, "has_evidence": False,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": inquiry, "livemode": False, "metadata": {},
        "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {"card": {
            "brand": brand, "case_type": "inquiry" if inquiry else "chargeback",
            "network_reason_code": NETWORK_REASON.get(reason, "13.7"), "network": brand},
            "type": "card"},
        "reason": reason,
        "status": "warning_needs_response" if inquiry else "needs_response",
    }


def _balance_transaction(state: State, dispute: dict[str, Any], withdrawal: bool,
                         ) -> dict[str, Any]:
    amount = -dispute["amount"] if withdrawal else dispute["amount"]
    fee = DISPUTE_FEE if withdrawal else 0
    now = state.now()
    return {"id": state.new_id("txn_"), "object": "balance_transaction", "amount": amount,
            "available_on": now, "balance_type": "payments", "created": now,
            "currency": dispute["currency"],
            "description": ("Chargeback withdrawal for " if withdrawal
                            else "Chargeback reversal for ") + dispute["charge"],
            "exchange_rate": None, "fee": fee,
            "fee_details": [{"amount": fee, "application": None,
                             "currency": dispute["currency"], "description": "Dispute fee",
                             "type": "stripe_fee"}] if fee else [],
            "net": amount - fee,
            "reporting_category": "dispute" if withdrawal else "dispute_reversal",
            "source": dispute["id"], "status": "available", "type": "adjustment"}


def charge_for(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """The charge named by `payment_intent` (its latest charge) or `charge`."""
    if params.get("payment_intent"):
        pi = state.get(params["payment_intent"], "payment_intent", label="payment_intent",
                       param="payment_intent")
        if not pi.get("latest_charge"):
            raise invalid(f"The PaymentIntent {pi['id']} has no charge.",
                          param="payment_intent")
        return state.get(pi["latest_charge"], "charge")
    if params.get("charge"):
        return state.get(params["charge"], "charge", param="charge")
    raise invalid("One of the following params should be provided for this request: "
                  "payment_intent or charge.", code="parameter_missing")


def open_dispute(state: State, charge: dict[str, Any], *, amount: int | None = None,
                 reason: str = "fraudulent", inquiry: bool = False) -> dict[str, Any]:
    """The cardholder's bank disputes a captured charge (call with the state's lock held)."""
    if reason not in REASONS:
        raise invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason")
    if charge["status"] != "succeeded" or not charge["captured"]:
        raise invalid(f"Charge {charge['id']} is not captured: only a captured charge can "
                      "be disputed.", param="charge")
    if charge.get("_dispute"):
        raise invalid(f"Charge {charge['id']} already has a dispute "
                      f"({charge['_dispute']}).", param="charge")
    amount = charge["amount_captured"] if amount is None else amount
    if not 1 <= amount <= charge["amount_captured"]:
        raise invalid(f"The disputed amount must be between 1 and the captured amount "
                      f"({charge['amount_captured']}).", param="amount")
    dispute = dispute_object(state.new_id("dp_"), state.now(), charge, amount, reason, inquiry)
    state.add(dispute)
    charge["disputed"], charge["_dispute"] = True, dispute["id"]
    if not inquiry:
        # The withdrawal is part of the chargeback from the start: the created event
        # already lists it, as Stripe's does.
        dispute["balance_transactions"].append(_balance_transaction(state, dispute, True))
    state.emit("charge.dispute.created", dispute)
    if not inquiry:
        state.emit("charge.dispute.funds_withdrawn", dispute)
    return dispute


def _escalate(state: State, dispute: dict[str, Any]) -> None:
    """An inquiry the cardholder's bank turns into a chargeback: it needs a response again
    and its funds are withdrawn, before it can be lost."""
    before = state.snapshot(dispute)
    dispute["status"] = "needs_response"
    dispute["is_charge_refundable"] = False
    dispute["payment_method_details"]["card"]["case_type"] = "chargeback"
    dispute["balance_transactions"].append(_balance_transaction(state, dispute, True))
    state.emit("charge.dispute.updated", dispute, changed(before, state.snapshot(dispute)))
    state.emit("charge.dispute.funds_withdrawn", dispute)


def close_dispute(state: State, dispute: dict[str, Any], outcome: str) -> dict[str, Any]:
    """The bank decides: `outcome` won or lost (call with the state's lock held)."""
    if outcome not in ("won", "lost"):
        raise invalid("outcome must be won or lost.", param="outcome")
    if dispute["status"] not in OPEN:
        raise invalid(f"The dispute {dispute['id']} is already closed "
                      f"({dispute['status']}).", param="dispute")
    if outcome == "lost" and dispute["status"].startswith("warning_"):
        _escalate(state, dispute)  # an inquiry is lost only once it escalated
    before = state.snapshot(dispute)
    inquiry = dispute["status"].startswith("warning_")
    withdrawn = bool(dispute["balance_transactions"])
    dispute["status"] = "warning_closed" if inquiry and outcome == "won" else outcome
    dispute["is_charge_refundable"] = outcome == "won"  # won, the funds are back
    dispute["evidence_details"]["past_due"] = False
    state.emit("charge.dispute.closed", dispute, changed(before, state.snapshot(dispute)))
    if outcome == "won" and withdrawn:
        dispute["balance_transactions"].append(_balance_transaction(state, dispute, False))
        state.emit("charge.dispute.funds_reinstated", dispute)
    return dispute


def after_capture(state: State, charge: dict[str, Any]) -> None:
    """Stripe's dispute test cards: the captured payment is disputed right away. The bank
    does it, not the request that captured: its events carry no request."""
    pm = state.objects.get(charge.get("payment_method") or "")
    if pm is None or "_card" not in pm:
        return
    kind = state.card_of(pm).dispute
    if kind is None:
        return
    caused_by, state.request = state.request, AUTOMATIC
    try:
        open_dispute(state, charge, reason="general" if kind == "inquiry" else kind,
                     inquiry=kind == "inquiry")
    finally:
        state.request = caused_by


def refusal_to_refund(state: State, charge: dict[str, Any]) -> ApiError | None:
    """Stripe's refusal to refund a charge whose funds a dispute took."""
    dispute = state.objects.get(charge.get("_dispute") or "")
    if dispute is None or dispute["is_charge_refundable"]:
        return None
    return invalid(f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                   code="charge_disputed", saved=True)


# -- the API


def retrieve(state: State, params: dict[str, Any], dispute: str) -> dict[str, Any]:
    return state.get(dispute, "dispute")


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("dispute")
    for name in ("charge", "payment_intent"):
        if params.get(name):
            items = [d for d in items if d[name] == params[name]]
    in_range = created_filter(params)
    items = [d for d in items if in_range(d["created"])]
    return paginate(state, items, params, "/v1/disputes")


def update(state: State, params: dict[str, Any], dispute: str) -> dict[str, Any]:
    """Evidence and metadata; evidence is submitted unless `submit` is false."""
    obj = state.get(dispute, "dispute")
    if obj["status"] not in OPEN:
        raise invalid(f"This dispute is already closed ({obj['status']}): it can no longer "
                      "be updated.", saved=True)
    evidence = params.get("evidence") or {}
    submit = as_bool(params, "submit") if "submit" in params else True
    before = state.snapshot(obj)
    obj["metadata"] = metadata(params, obj["metadata"])
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            obj["evidence"][key] = value if value != "" else None
    if evidence and submit:
        obj["evidence_details"]["has_evidence"] = True
        obj["evidence_details"]["submission_count"] += 1
        obj["status"] = {"needs_response": "under_review",
                         "warning_needs_response": "warning_under_review"}.get(
                             obj["status"], obj["status"])
    state.emit("charge.dispute.updated", obj, changed(before, state.snapshot(obj)))
    outcome = TEST_OUTCOMES.get(str(obj["evidence"].get("uncategorized_text") or ""))
    if evidence and submit and outcome:
        close_dispute(state, obj, outcome)
    return obj


def close(state: State, params: dict[str, Any], dispute: str) -> dict[str, Any]:
    """Accept the dispute: it is lost."""
    obj = state.get(dispute, "dispute")
    if obj["status"] not in CLOSABLE:
        raise invalid(f"This dispute cannot be closed: it has a status of {obj['status']}.",
                      saved=True)
    return close_dispute(state, obj, "lost")


_DP = r"/v1/disputes/(?P<dispute>dp_\w+)"
ROUTES = [
    ("GET", r"/v1/disputes", list_),
    ("GET", _DP, retrieve),
    ("POST", _DP, update),
    ("POST", _DP + "/close", close),
]
