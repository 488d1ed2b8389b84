"""The sandbox's ACH Direct Debit as Stripe answers it: refusals, events in order, refunds
that settle, and no account number in the state file or the logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway import StripeGateway
from gateway.sandbox import Sandbox, start_sandbox
from gateway.values import OnlineAcceptance
from tests.contract_plugin import Recorder
from tests.gateway.conftest import api, make_gateway

ROUTING = "110000000"
SUCCEEDS = "000123456789"
DELAY = 3600
ONLINE = OnlineAcceptance("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)")


def _pm_params(**changes: str) -> dict[str, str]:
    params = {"type": "us_bank_account", "us_bank_account[routing_number]": ROUTING,
              "us_bank_account[account_number]": SUCCEEDS,
              "us_bank_account[account_holder_type]": "individual",
              "billing_details[name]": "Ada Lovelace"}
    params.update(changes)
    return {k: v for k, v in params.items() if v != ""}


@pytest.mark.parametrize(("changes", "param", "code"), [
    ({"us_bank_account[routing_number]": "110000001"}, "us_bank_account[routing_number]",
     "routing_number_invalid"),
    ({"us_bank_account[routing_number]": "11000000"}, "us_bank_account[routing_number]",
     "routing_number_invalid"),
    ({"us_bank_account[account_number]": "12-34"}, "us_bank_account[account_number]",
     "account_number_invalid"),
    ({"us_bank_account[account_number]": "1" * 18}, "us_bank_account[account_number]",
     "account_number_invalid"),
    ({"billing_details[name]": ""}, "billing_details[name]", "parameter_missing"),
    ({"us_bank_account[account_holder_type]": ""}, "us_bank_account[account_holder_type]",
     "parameter_missing"),
])
def test_bank_account_refusals(sandbox: Sandbox, changes: dict[str, str], param: str,
                               code: str) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_methods", _pm_params(**changes))
    assert status == 400
    assert (body["error"]["param"], body["error"]["code"]) == (param, code)
    assert sandbox.count("payment_method") == 0


def _pm(sandbox: Sandbox, number: str = SUCCEEDS) -> str:
    status, _, body = api(sandbox, "POST", "/v1/payment_methods",
                          _pm_params(**{"us_bank_account[account_number]": number}))
    assert status == 200, body
    assert body["us_bank_account"]["last4"] == number[-4:]
    assert "account_number" not in body["us_bank_account"]
    return str(body["id"])


def _intent(pm: str, **extra: str) -> dict[str, str]:
    return {"amount": "5000", "currency": "usd", "payment_method": pm, "confirm": "true",
            "allowed_payment_method_types[0]": "us_bank_account", **extra}


OFFLINE = {"mandate_data[customer_acceptance][type]": "offline"}


@pytest.mark.parametrize(("extra", "param"), [
    ({}, "mandate_data"),
    ({"mandate_data[customer_acceptance][type]": "online",
      "mandate_data[customer_acceptance][online][ip_address]": "203.0.113.7"},
     "mandate_data[customer_acceptance][online][user_agent]"),
    ({**OFFLINE, "currency": "eur"}, "currency"),
    ({**OFFLINE, "capture_method": "manual"}, "capture_method"),
    ({**OFFLINE, "payment_method_options[us_bank_account][verification_method]": "instant"},
     "payment_method_options[us_bank_account][verification_method]"),
    ({"mandate": "mandate_nosuchmandate"}, "mandate"),
])
def test_confirm_refusals_make_nothing(sandbox: Sandbox, extra: dict[str, str],
                                       param: str) -> None:
    pm = _pm(sandbox)
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **extra))
    assert status in (400, 404), body
    assert body["error"]["param"] == param
    assert sandbox.count("payment_intent") == 0 and sandbox.count("mandate") == 0


def test_confirm_later_needs_mandate_data(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    status, _, created = api(sandbox, "POST", "/v1/payment_intents",
                             {k: v for k, v in _intent(pm).items() if k != "confirm"})
    assert status == 200 and created["status"] == "requires_confirmation"
    path = f"/v1/payment_intents/{created['id']}/confirm"
    status, _, body = api(sandbox, "POST", path, {})
    assert (status, body["error"]["param"]) == (400, "mandate_data")
    status, _, body = api(sandbox, "POST", path, OFFLINE)
    assert (status, body["status"]) == (200, "requires_action")


def test_verify_needs_an_open_verification(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents",
                   {k: v for k, v in _intent(pm).items() if k != "confirm"})
    status, _, body = api(sandbox, "POST", f"/v1/payment_intents/{pi['id']}/verify_microdeposits",
                          {"descriptor_code": "SM11AA"})
    assert (status, body["error"]["code"]) == (400, "payment_intent_unexpected_state")


def _settled_debit(sandbox: Sandbox) -> str:
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    pm = _pm(sandbox)
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    api(sandbox, "POST", f"/v1/payment_intents/{pi['id']}/verify_microdeposits",
        {"descriptor_code": "SM11AA"})
    sandbox.advance_clock(DELAY)
    return str(pi["id"])


def test_events_in_order(sandbox: Sandbox) -> None:
    pi = _settled_debit(sandbox)
    kinds = [e["type"] for e in reversed(sandbox.events())]
    assert kinds == ["payment_intent.created", "payment_intent.requires_action",
                     "mandate.updated", "charge.pending", "payment_intent.processing",
                     "charge.succeeded", "payment_intent.succeeded"]
    settled = [e for e in sandbox.events() if e["type"] == "payment_intent.succeeded"][0]
    assert settled["request"] == {"id": None, "idempotency_key": None}  # the bank's doing
    assert settled["data"]["object"]["id"] == pi
    mandate = sandbox.events("mandate.updated")[0]["data"]
    assert (mandate["object"]["status"], mandate["previous_attributes"]) == (
        "active", {"status": "pending"})


def test_failed_debit_events(sandbox: Sandbox) -> None:
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    pm = _pm(sandbox, "000222222227")
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    api(sandbox, "POST", f"/v1/payment_intents/{pi['id']}/verify_microdeposits",
        {"descriptor_code": "SM11AA"})
    sandbox.advance_clock(DELAY)
    kinds = [e["type"] for e in reversed(sandbox.events())]
    assert kinds[-2:] == ["charge.failed", "payment_intent.payment_failed"]
    failed = sandbox.events("payment_intent.payment_failed")[0]["data"]["object"]
    assert failed["last_payment_error"]["code"] == "insufficient_funds"


def test_refund_pending_then_succeeded(sandbox: Sandbox) -> None:
    pi = _settled_debit(sandbox)
    status, _, refund = api(sandbox, "POST", "/v1/refunds",
                            {"payment_intent": pi, "amount": "2000"})
    assert (status, refund["status"]) == (200, "pending")
    created = sandbox.events("refund.created")[0]["data"]["object"]
    assert created["status"] == "pending"
    sandbox.advance_clock(DELAY - 30)  # a margin for the real seconds the test takes
    assert api(sandbox, "GET", f"/v1/refunds/{refund['id']}")[2]["status"] == "pending"
    sandbox.advance_clock(30)
    assert api(sandbox, "GET", f"/v1/refunds/{refund['id']}")[2]["status"] == "succeeded"
    updated = sandbox.events("refund.updated")[0]["data"]
    assert updated["previous_attributes"]["status"] == "pending"


def test_refund_refused_while_processing(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    api(sandbox, "POST", f"/v1/payment_intents/{pi['id']}/verify_microdeposits",
        {"descriptor_code": "SM11AA"})
    status, _, body = api(sandbox, "POST", "/v1/refunds", {"payment_intent": pi["id"]})
    assert (status, body["error"]["code"]) == (400, "charge_not_refundable")


@pytest.fixture
def saved_sandbox(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    path = tmp_path / "state.json"
    with start_sandbox(state_file=str(path)) as running:
        running.configure_bank_debits(settlement_delay=DELAY)
        yield running, path


def test_no_account_number_in_state_or_logs(saved_sandbox: tuple[Sandbox, Path],
                                            caplog: pytest.LogCaptureFixture,
                                            customer_id: str) -> None:
    sandbox, path = saved_sandbox
    gateway = make_gateway(sandbox)
    customer = gateway.find_or_create_customer(client_ref="c-9", email="ada@example.com",
                                               name="Ada", idempotency_key="cus-9")
    numbers = (SUCCEEDS, "000222222227")
    with caplog.at_level(logging.DEBUG):
        for i, number in enumerate(numbers):
            pm = gateway.create_bank_account(routing=ROUTING, account=number, holder_name="Ada",
                                             customer_id=customer, idempotency_key=f"ba-{i}")
            debit = gateway.start_bank_debit(
                amount=5000, currency="usd", customer=customer,
                payment_method_id=pm.payment_method_id, metadata={}, acceptance=ONLINE,
                idempotency_key=f"inv-{i}")
            gateway.verify_microdeposits(debit.id, descriptor_code="SM11AA",
                                         idempotency_key=f"inv-{i}:v")
        sandbox.advance_clock(DELAY)
    text = path.read_text(encoding="utf-8")
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert '"last4": "6789"' in text and "mandate_" in text  # the debits are in the file
    for number in numbers:
        assert number not in text and number[3:] not in text
        assert number not in logged and number[3:] not in logged


def test_state_file_keeps_a_debit_due(tmp_path: Path) -> None:
    """A restarted sandbox still settles the debits it had in processing."""
    path = tmp_path / "state.json"
    with start_sandbox(state_file=str(path)) as first:
        first.configure_bank_debits(settlement_delay=DELAY)
        pm = _pm(first)
        _, _, pi = api(first, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
        api(first, "POST", f"/v1/payment_intents/{pi['id']}/verify_microdeposits",
            {"descriptor_code": "SM11AA"})
    with start_sandbox(state_file=str(path)) as second:
        assert second.objects("payment_intent")[0]["status"] == "processing"
        second.advance_clock(DELAY)
        assert second.objects("payment_intent")[0]["status"] == "succeeded"


def test_every_bank_request_is_typed(gateway: StripeGateway, customer_id: str,
                                     sandbox: Sandbox, stripe_contract: Recorder) -> None:
    sandbox.configure_bank_debits(settlement_delay=DELAY, microdeposit_type="amounts")
    pm = gateway.create_bank_account(routing=ROUTING, account=SUCCEEDS, holder_name="Ada",
                                     customer_id=customer_id, idempotency_key="ba-1")
    debit = gateway.start_bank_debit(amount=5000, currency="usd", customer=customer_id,
                                     payment_method_id=pm.payment_method_id, metadata={"i": "1"},
                                     acceptance=ONLINE, idempotency_key="inv-1")
    done = gateway.verify_microdeposits(debit.id, amounts=(32, 45), idempotency_key="inv-1:v")
    gateway.mandate(done.mandate or "")
    gateway.bank_debit(done.id)
    seen: dict[str, Any] = {f"{c.method} {c.path.split('/')[2]}": c
                            for c in stripe_contract.requests}
    assert {"POST payment_methods", "POST payment_intents", "GET mandates",
            "GET payment_intents"} <= set(seen)
    assert all(not c.violations and c.status == 200 for c in stripe_contract.requests)
    verify = [c for c in stripe_contract.requests if c.path.endswith("/verify_microdeposits")]
    assert verify and "amounts[0]" in verify[0].names


def test_processing_debit_cannot_be_canceled(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    path = f"/v1/payment_intents/{pi['id']}"
    api(sandbox, "POST", path + "/verify_microdeposits", {"descriptor_code": "SM11AA"})
    status, _, body = api(sandbox, "POST", path + "/cancel", {})
    assert (status, body["error"]["code"]) == (400, "payment_intent_unexpected_state")
    assert api(sandbox, "GET", path)[2]["status"] == "processing"


def test_awaiting_microdeposits_can_be_canceled(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    _, _, pi = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    status, _, body = api(sandbox, "POST", f"/v1/payment_intents/{pi['id']}/cancel", {})
    assert (status, body["status"]) == (200, "canceled")


def test_unattached_account_is_single_use(sandbox: Sandbox) -> None:
    pm = _pm(sandbox)
    assert api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))[0] == 200
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", _intent(pm, **OFFLINE))
    assert (status, body["error"]["param"]) == (400, "payment_method")
    assert "attach it to a Customer" in body["error"]["message"]
    assert sandbox.count("payment_intent") == 1


def test_card_on_an_intent_that_also_takes_bank_accounts(sandbox: Sandbox) -> None:
    status, _, pi = api(sandbox, "POST", "/v1/payment_intents", {
        "amount": "5000", "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true",
        "allowed_payment_method_types[0]": "card",
        "allowed_payment_method_types[1]": "us_bank_account"})
    assert (status, pi["status"]) == (200, "succeeded")
    assert set(pi["payment_method_options"]) == {"card", "us_bank_account"}
