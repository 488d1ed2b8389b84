"""/v1/account: the account the API key belongs to (Stripe's "retrieve account").

The sandbox has one account, a US test-mode account that may take card payments; it is
made on first request and kept with the rest of the state. Its keys are those of Stripe's
example account object.
"""

from __future__ import annotations

from typing import Any

from gateway.sandbox.store import State

ACCOUNT_NAME = "Paydesk sandbox"


def _requirements() -> dict[str, Any]:
    return {"alternatives": [], "current_deadline": None, "currently_due": [],
            "disabled_reason": None, "errors": [], "eventually_due": [], "past_due": [],
            "pending_verification": []}


def _account(ident: str, created: int) -> dict[str, Any]:
    return {
        "id": ident, "object": "account",
        "business_profile": {
            "annual_revenue": {"amount": None, "currency": None, "fiscal_year_end": None},
            "estimated_worker_count": None, "mcc": "8111", "name": ACCOUNT_NAME,
            "product_description": None,
            "support_address": {"city": None, "country": None, "line1": None, "line2": None,
                                "postal_code": None, "state": None},
            "support_email": None, "support_phone": None, "support_url": None, "url": None,
        },
        "business_type": "company",
        "capabilities": {"card_payments": "active", "card_present_payments": "active",
                         "transfers": "active"},
        "charges_enabled": True,
        "controller": {"type": "account"},
        "country": "US",
        "created": created,
        "default_currency": "usd",
        "details_submitted": True,
        "email": None,
        "external_accounts": {"data": [], "has_more": False, "object": "list",
                              "url": f"/v1/accounts/{ident}/external_accounts"},
        "future_requirements": _requirements(),
        "metadata": {},
        "payouts_enabled": True,
        "requirements": _requirements(),
        "settings": {
            "branding": {"icon": None, "logo": None, "primary_color": None,
                         "secondary_color": None},
            "card_payments": {"decline_on": {"avs_failure": True, "cvc_failure": True},
                              "statement_descriptor_prefix": None},
            "dashboard": {"display_name": ACCOUNT_NAME, "timezone": "Etc/UTC"},
            "payments": {"statement_descriptor": None},
            "payouts": {"debit_negative_balances": True,
                        "schedule": {"delay_days": 2, "interval": "daily"},
                        "statement_descriptor": None},
        },
        "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
        "type": "standard",
    }


def retrieve_current(state: State, params: dict[str, Any]) -> dict[str, Any]:
    for existing in state.of_type("account"):
        return existing
    return state.add(_account(state.new_id("acct_", 16), state.now()))


ROUTES = [
    ("GET", r"/v1/account", retrieve_current),
]
