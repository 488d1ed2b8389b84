"""us_bank_account PaymentMethods (ACH Direct Debit) and their Mandates (GET /v1/mandates/{id}).

What Stripe documents, and where:
- The test bank is routing number 110000000 ("STRIPE TEST BANK"); the account numbers below
  give the outcomes of docs.stripe.com/payments/ach-direct-debit/accept-a-payment
  ("Test your integration": 000123456789 succeeds, 000111111113 account closed,
  000111111116 no account, 000222222227 insufficient funds, 000333333335 debits not
  authorized; reproduced by documentation.paysimple.com/v2019/docs/stripe-ach with their
  pm_usBankAccount_* tokens). 000444444440 (invalid_currency) comes from Stripe's Connect
  test bank numbers (stripe.com/docs/connect/testing), the same numbering.
- A routing number must pass the ABA checksum (weights 3, 7, 1): Stripe's error code
  `routing_number_invalid`; a malformed account number `account_number_invalid` (both in the
  pinned SDK's error codes). An ACH account number has at most 17 characters (Nacha's DFI
  account number field); 4 is the shortest the sandbox takes.
- `billing_details[name]` is required for us_bank_account; so is the account holder type.
- The object keeps bank_name, last4, routing_number, fingerprint, account type and holder
  type, as Stripe's PaymentMethod does: never the account number (only a private outcome).
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.sandbox.errors import ApiError, invalid
from gateway.sandbox.forms import metadata
from gateway.sandbox.store import State

TEST_ROUTING_NUMBER = "110000000"
TEST_BANK_NAME = "STRIPE TEST BANK"
# account number -> the failure code its debit ends with (None: it succeeds)
TEST_ACCOUNTS: dict[str, str | None] = {
    "000123456789": None,
    "000111111113": "account_closed",
    "000111111116": "no_account",
    "000222222227": "insufficient_funds",
    "000333333335": "debit_not_authorized",
    "000444444440": "invalid_currency",
}
# Stripe's words for each failure (shown on the charge and in last_payment_error).
FAILURE_MESSAGES = {
    "account_closed": "The customer's bank account has been closed.",
    "no_account": "The customer's bank account could not be located.",
    "insufficient_funds": "The customer's account has insufficient funds to cover this "
                          "payment.",
    "debit_not_authorized": "The customer has notified their bank that this payment was "
                            "unauthorized.",
    "invalid_currency": "The bank was unable to process this payment because of its currency.",
}
# Returns after which Stripe stops using the mandate (the account is gone or refuses debits).
DEACTIVATING = {"account_closed", "no_account", "debit_not_authorized"}
OUTCOME = "_outcome"  # private: the failure code of the test account, never rendered
VERIFIED = "_verified"  # private: microdeposits were verified for this PaymentMethod
HOLDER_TYPES = ("individual", "company")
ACCOUNT_TYPES = ("checking", "savings")
_ABA_WEIGHTS = (3, 7, 1, 3, 7, 1, 3, 7, 1)


def routing_ok(routing: str) -> bool:
    """Nine digits whose ABA checksum (weights 3, 7, 1) is a multiple of 10."""
    if len(routing) != 9 or not routing.isascii() or not routing.isdigit():
        return False
    return sum(int(d) * w for d, w in zip(routing, _ABA_WEIGHTS, strict=True)) % 10 == 0


def _fingerprint(routing: str, account: str) -> str:
    return hashlib.sha256(f"paydesk-sandbox-bank:{routing}:{account}".encode()).hexdigest()[:16]


def create_payment_method(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """POST /v1/payment_methods with type=us_bank_account."""
    bank = params.get("us_bank_account")
    if not isinstance(bank, dict):
        raise invalid("Missing required param: us_bank_account.", param="us_bank_account",
                      code="parameter_missing")
    if bank.get("financial_connections_account"):
        raise invalid("The sandbox has no Financial Connections accounts: give routing_number "
                      "and account_number.", param="us_bank_account[financial_connections_account]")
    for field in ("routing_number", "account_number", "account_holder_type"):
        if not bank.get(field):
            raise invalid(f"Missing required param: us_bank_account[{field}].",
                          param=f"us_bank_account[{field}]", code="parameter_missing")
    billing = params.get("billing_details")
    name = billing.get("name") if isinstance(billing, dict) else None
    if not name or not str(name).strip():
        raise invalid("Missing required param: billing_details[name].",
                      param="billing_details[name]", code="parameter_missing")
    routing = str(bank["routing_number"])
    if not routing_ok(routing):
        raise invalid("Routing number must have 9 digits and be a valid ABA routing number.",
                      param="us_bank_account[routing_number]", code="routing_number_invalid")
    account = str(bank["account_number"])
    if not (account.isascii() and account.isdigit() and 4 <= len(account) <= 17):
        raise invalid("The account number must be 4 to 17 digits.",
                      param="us_bank_account[account_number]", code="account_number_invalid")
    holder = bank["account_holder_type"]
    if holder not in HOLDER_TYPES:
        raise invalid(f"Invalid account_holder_type: must be one of {', '.join(HOLDER_TYPES)}",
                      param="us_bank_account[account_holder_type]")
    kind = bank.get("account_type") or "checking"
    if kind not in ACCOUNT_TYPES:
        raise invalid(f"Invalid account_type: must be one of {', '.join(ACCOUNT_TYPES)}",
                      param="us_bank_account[account_type]")
    email = billing.get("email") if isinstance(billing, dict) else None
    pm = {
        "id": state.new_id("pm_"), "object": "payment_method", "allow_redisplay": "unspecified",
        "billing_details": {"address": {"city": None, "country": None, "line1": None,
                                        "line2": None, "postal_code": None, "state": None},
                            "email": email or None, "name": str(name), "phone": None,
                            "tax_id": None},
        "created": state.now(), "customer": None, "customer_account": None, "livemode": False,
        "metadata": metadata(params), "type": "us_bank_account",
        "us_bank_account": {
            "account_holder_type": holder, "account_type": kind,
            "bank_name": TEST_BANK_NAME if routing == TEST_ROUTING_NUMBER else "TEST BANK",
            "financial_connections_account": None,
            "fingerprint": _fingerprint(routing, account), "last4": account[-4:],
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": routing, "status_details": None},
        OUTCOME: TEST_ACCOUNTS.get(account),
    }
    return state.add(pm)


def acceptance(state: State, params: dict[str, Any]) -> dict[str, Any] | None:
    """`mandate_data[customer_acceptance]` as a Mandate keeps it, or None when not given;
    ApiError when it is incomplete."""
    data = params.get("mandate_data")
    if data in (None, ""):
        return None
    accepted = data.get("customer_acceptance") if isinstance(data, dict) else None
    if not isinstance(accepted, dict) or not accepted.get("type"):
        raise invalid("Missing required param: mandate_data[customer_acceptance][type].",
                      param="mandate_data[customer_acceptance][type]", code="parameter_missing")
    kind = accepted["type"]
    out: dict[str, Any] = {"accepted_at": state.now(), "offline": None, "online": None,
                           "type": kind}
    if kind == "online":
        online = accepted.get("online")
        for name in ("ip_address", "user_agent"):
            if not isinstance(online, dict) or not online.get(name):
                raise invalid(f"Missing required param: mandate_data[customer_acceptance]"
                              f"[online][{name}].", code="parameter_missing",
                              param=f"mandate_data[customer_acceptance][online][{name}]")
        assert isinstance(online, dict)
        out["online"] = {"ip_address": online["ip_address"], "user_agent": online["user_agent"]}
    elif kind == "offline":
        if accepted.get("online"):
            raise invalid("online may only be given when type is online.",
                          param="mandate_data[customer_acceptance][online]")
        out["offline"] = {}
    else:
        raise invalid(f"Invalid customer_acceptance type: {kind}; must be online or offline.",
                      param="mandate_data[customer_acceptance][type]")
    if accepted.get("accepted_at") not in (None, ""):
        out["accepted_at"] = int(accepted["accepted_at"])
    return out


def new_mandate(state: State, pm: dict[str, Any], accepted: dict[str, Any], *,
                active: bool) -> dict[str, Any]:
    """A multi-use ACH mandate for `pm`: pending until the account is verified."""
    mandate = {
        "id": state.new_id("mandate_"), "object": "mandate", "customer_acceptance": accepted,
        "livemode": False, "multi_use": {}, "on_behalf_of": None, "payment_method": pm["id"],
        "payment_method_details": {"type": "us_bank_account",
                                   "us_bank_account": {"collection_method": None}},
        "single_use": None, "status": "active" if active else "pending", "type": "multi_use",
    }
    return state.add(mandate)


def set_mandate_status(state: State, mandate: dict[str, Any], status: str) -> None:
    """Change a mandate's status; mandate.updated tells of it (as Stripe sends it)."""
    if mandate["status"] == status:
        return
    before = state.snapshot(mandate)
    mandate["status"] = status
    state.emit("mandate.updated", mandate, {"status": before["status"]})


def reusable_mandate(state: State, ident: Any, pm: dict[str, Any]) -> dict[str, Any]:
    """`mandate=<id>` on a confirm: an active mandate of this very PaymentMethod."""
    mandate = state.get(ident, "mandate", param="mandate")
    if mandate["payment_method"] != pm["id"] or mandate["status"] != "active":
        raise invalid("The mandate is not active for this PaymentMethod; collect a new one "
                      "with mandate_data.", param="mandate", code="payment_intent_mandate_invalid")
    return mandate


def retrieve_mandate(state: State, params: dict[str, Any], mandate: str) -> dict[str, Any]:
    return state.get(mandate, "mandate", label="mandate")


ROUTES = [("GET", r"/v1/mandates/(?P<mandate>mandate_\w+)", retrieve_mandate)]

__all__ = ["ROUTES", "ApiError", "create_payment_method", "routing_ok"]
