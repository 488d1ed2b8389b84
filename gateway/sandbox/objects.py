"""Builders of Stripe objects with every top-level key of Stripe's examples (fixtures3.json)."""

from __future__ import annotations

from typing import Any

from gateway.sandbox.testcards import TestCard


def _address(postal_code: str | None = None) -> dict[str, Any]:
    return {"city": None, "country": None, "line1": None, "line2": None,
            "postal_code": postal_code, "state": None}


def customer(id_: str, created: int, params: dict[str, Any], meta: dict[str, str],
             invoice_prefix: str) -> dict[str, Any]:
    return {
        "id": id_, "object": "customer", "address": _address(), "balance": 0,
        "created": created, "currency": None, "default_source": None, "delinquent": False,
        "description": params.get("description"), "discount": None,
        "email": params.get("email"), "invoice_prefix": invoice_prefix,
        "invoice_settings": {"custom_fields": None, "default_payment_method": None,
                             "footer": None, "rendering_options": None},
        "livemode": False, "metadata": meta, "name": params.get("name"),
        "next_invoice_sequence": 1, "phone": params.get("phone"), "preferred_locales": [],
        "shipping": None, "tax_exempt": "none", "test_clock": None,
    }


def _card_details(card: TestCard, fingerprint: str, postal_code: str | None) -> dict[str, Any]:
    return {
        "brand": card.brand, "display_brand": card.brand,
        "checks": {"address_line1_check": None,
                   "address_postal_code_check": "pass" if postal_code else None,
                   "cvc_check": "pass"},
        "country": card.country, "exp_month": card.exp_month, "exp_year": card.exp_year,
        "fingerprint": fingerprint, "funding": card.funding, "generated_from": None,
        "last4": card.last4, "networks": {"available": [card.brand], "preferred": None},
        "regulated_status": "unregulated", "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def payment_method(id_: str, created: int, card: TestCard, *, fingerprint: str,
                   kind: str = "card", postal_code: str | None = None,
                   meta: dict[str, str] | None = None) -> dict[str, Any]:
    details = _card_details(card, fingerprint, postal_code)
    obj = {
        "id": id_, "object": "payment_method", "allow_redisplay": "unspecified",
        "billing_details": {"address": _address(postal_code), "email": None, "name": None,
                            "phone": None, "tax_id": None},
        "created": created, "customer": None, "customer_account": None, "livemode": False,
        "metadata": meta or {}, "type": kind,
    }
    if kind == "card_present":
        details = {k: details[k] for k in ("brand", "country", "exp_month", "exp_year",
                                           "fingerprint", "funding", "last4")}
        details["read_method"] = "contactless_emv"
    obj[kind] = details
    return obj


def payment_intent(id_: str, created: int, secret: str) -> dict[str, Any]:
    return {
        "id": id_, "object": "payment_intent", "amount": 0, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": None, "automatic_payment_methods": None,
        "canceled_at": None, "cancellation_reason": None, "capture_method": "automatic",
        "client_secret": secret, "confirmation_method": "automatic", "created": created,
        "currency": "usd", "customer": None, "customer_account": None, "description": None,
        "excluded_payment_method_types": None, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "managed_payments": None, "metadata": {},
        "next_action": None, "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None,
                                            "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": None,
        "review": None, "setup_future_usage": None, "shipping": None, "source": None,
        "statement_descriptor": None, "statement_descriptor_suffix": None,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None,
    }


def charge(id_: str, created: int, pi: dict[str, Any], pm: dict[str, Any],
           card: TestCard, txn: str) -> dict[str, Any]:
    decline = card.decline
    failed = decline is not None
    details = dict(pm.get("card") or pm.get("card_present") or {})
    return {
        "id": id_, "object": "charge", "amount": pi["amount"], "amount_captured": 0,
        "amount_refunded": 0, "application": None, "application_fee": None,
        "application_fee_amount": None, "balance_transaction": None if failed else txn,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": "PAYDESK* " + (pi["statement_descriptor_suffix"] or ""),
        "captured": False, "created": created, "currency": pi["currency"],
        "customer": pi["customer"], "description": pi["description"], "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {}, "livemode": False, "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None, "network_advice_code": None, "network_decline_code": None,
            "network_status": "declined_by_network" if failed else "approved_by_network",
            "reason": decline.decline_code if decline else None,
            "risk_level": "normal", "risk_score": 20,
            "seller_message": "The bank did not return any further details with this decline."
            if failed else "Payment complete.",
            "type": "issuer_declined" if failed else "authorized",
        },
        "paid": not failed, "payment_intent": pi["id"], "payment_method": pm["id"],
        "payment_method_details": {"card": {
            "amount_authorized": None if failed else pi["amount"], "brand": card.brand,
            "checks": details.get("checks"), "country": card.country,
            "exp_month": card.exp_month, "exp_year": card.exp_year,
            "extended_authorization": {"status": "disabled"},
            "fingerprint": details.get("fingerprint"), "funding": card.funding,
            "incremental_authorization": {"status": "unavailable"}, "installments": None,
            "last4": card.last4, "mandate": None, "multicapture": {"status": "unavailable"},
            "network": card.brand, "network_token": {"used": False},
            "overcapture": {"maximum_amount_capturable": pi["amount"], "status": "unavailable"},
            "three_d_secure": None, "wallet": None, "authorization_code": None,
            "regulated_status": "unregulated", "network_transaction_id": None,
            "transaction_link_id": None,
        }, "type": "card"},
        "receipt_email": None, "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{id_}",
        "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0,
                    "url": f"/v1/charges/{id_}/refunds"},
        "review": None, "shipping": None, "source": None, "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": pi["statement_descriptor_suffix"],
        "status": "failed" if failed else "succeeded", "transfer_data": None,
        "transfer_group": None,
    }


def refund(id_: str, created: int, amount: int, ch: dict[str, Any], reason: str | None,
           meta: dict[str, str], txn: str | None, reference: str) -> dict[str, Any]:
    return {
        "id": id_, "object": "refund", "amount": amount, "balance_transaction": txn,
        "charge": ch["id"], "created": created, "currency": ch["currency"],
        "customer": ch["customer"], "customer_account": None,
        "destination_details": {"card": {"reference": reference,
                                         "reference_status": "available",
                                         "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": meta, "payment_intent": ch["payment_intent"],
        "payment_method": ch["payment_method"], "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    }


def setup_intent(id_: str, created: int, secret: str, params: dict[str, Any],
                 meta: dict[str, str], types: list[str]) -> dict[str, Any]:
    return {
        "id": id_, "object": "setup_intent", "application": None,
        "automatic_payment_methods": None, "cancellation_reason": None,
        "client_secret": secret, "created": created, "customer": params.get("customer"),
        "description": params.get("description"), "excluded_payment_method_types": None,
        "flow_directions": None, "last_setup_error": None, "latest_attempt": None,
        "livemode": False, "mandate": None, "metadata": meta, "next_action": None,
        "on_behalf_of": None, "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {}, "payment_method_types": types,
        "single_use_mandate": None, "status": "requires_payment_method",
        "usage": params.get("usage") or "off_session",
    }


def reader(id_: str, label: str, serial: str, now: int) -> dict[str, Any]:
    return {
        "id": id_, "object": "terminal.reader", "action": None,
        "device_sw_version": "2.37.2.0", "device_type": "simulated_wisepos_e",
        "ip_address": "0.0.0.0", "label": label, "last_seen_at": now * 1000,  # noqa: S104
        "livemode": False, "location": None, "metadata": {}, "serial_number": serial,
        "status": "online",
    }


def list_object(url: str, data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def search_result(url: str, data: list[dict[str, Any]], has_more: bool,
                  next_page: str | None) -> dict[str, Any]:
    return {"object": "search_result", "data": data, "has_more": has_more,
            "next_page": next_page, "url": url}
