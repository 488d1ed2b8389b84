"""ACH Direct Debit through the gateway, against the sandbox: bank accounts, mandates,
microdeposits, settlement by the sandbox clock, returns, refunds, events."""

from __future__ import annotations

import dataclasses

import pytest

from gateway import StripeGateway
from gateway.bank_debits import routing_number_ok
from gateway.errors import InvalidRequest
from gateway.sandbox import Sandbox
from gateway.sandbox.settlement import DEFAULT_BUSINESS_DAYS, add_business_days
from gateway.values import (
    BankAccountInfo,
    ExistingMandate,
    OfflineAcceptance,
    OnlineAcceptance,
    PaymentIntentInfo,
)

ROUTING = "110000000"
SUCCEEDS = "000123456789"
DELAY = 3600  # the sandbox's settlement delay in these tests (Stripe: 4 business days)
ONLINE = OnlineAcceptance("203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64)")


@pytest.fixture
def bank_sandbox(sandbox: Sandbox) -> Sandbox:
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    return sandbox


def _account(gateway: StripeGateway, customer_id: str, number: str = SUCCEEDS,
             key: str = "ba-1") -> BankAccountInfo:
    return gateway.create_bank_account(routing=ROUTING, account=number, holder_name="Ada Lovelace",
                                       customer_id=customer_id, idempotency_key=key)


def _debit(gateway: StripeGateway, customer_id: str, pm: str, key: str, amount: int = 12_500,
           acceptance: object = ONLINE) -> PaymentIntentInfo:
    return gateway.start_bank_debit(amount=amount, currency="usd", customer=customer_id,
                                    payment_method_id=pm, metadata={"invoice": key},
                                    acceptance=acceptance,  # type: ignore[arg-type]
                                    idempotency_key=key)


def _verified_debit(gateway: StripeGateway, customer_id: str, pm: str,
                    key: str) -> PaymentIntentInfo:
    started = _debit(gateway, customer_id, pm, key)
    assert started.status == "requires_action"
    return gateway.verify_microdeposits(started.id, descriptor_code="SM11AA",
                                        idempotency_key=key + ":verify")


def test_routing_checksum() -> None:
    assert routing_number_ok("110000000")
    assert routing_number_ok("021000021")  # a real bank's (3-7-1 weights sum to 60)
    assert not routing_number_ok("110000001")
    assert not routing_number_ok("02100002")
    assert not routing_number_ok("0210000211")
    assert not routing_number_ok("11000000a")


@pytest.mark.parametrize("routing", ["110000001", "12345678", "021000022"])
def test_bad_routing_number_refused_before_stripe(gateway: StripeGateway, customer_id: str,
                                                  bank_sandbox: Sandbox, routing: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        gateway.create_bank_account(routing=routing, account=SUCCEEDS, holder_name="Ada",
                                    idempotency_key="ba-bad")
    assert caught.value.code == "routing_number_invalid"
    assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert bank_sandbox.count("payment_method") == 0  # nothing was sent


def test_bank_account_keeps_last4_only(gateway: StripeGateway, customer_id: str,
                                       bank_sandbox: Sandbox) -> None:
    info = _account(gateway, customer_id)
    assert info.last4 == "6789" and info.bank_name == "STRIPE TEST BANK"
    assert info.fingerprint and info.customer == customer_id and not info.verified
    fields = {f.name for f in dataclasses.fields(BankAccountInfo)}
    assert not fields & {"routing_number", "account_number", "routing", "account"}
    again = _account(gateway, customer_id, key="ba-2")
    assert again.fingerprint == info.fingerprint and again.payment_method_id != info.payment_method_id


def test_first_debit_waits_for_microdeposits(gateway: StripeGateway, customer_id: str,
                                             bank_sandbox: Sandbox) -> None:
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    assert started.status == "requires_action" and started.latest_charge is None
    action = bank_sandbox.objects("payment_intent")[0]["next_action"]
    assert action["type"] == "verify_with_microdeposits"
    assert action["verify_with_microdeposits"]["microdeposit_type"] == "descriptor_code"
    verified = gateway.verify_microdeposits(started.id, descriptor_code="sm11aa",
                                            idempotency_key="inv-1:verify")
    assert verified.status == "processing" and verified.mandate is not None
    mandate = gateway.mandate(verified.mandate)
    assert (mandate.status, mandate.acceptance_type, mandate.payment_method_id) == (
        "active", "online", pm)


def test_wrong_amounts_count_down_then_fail(gateway: StripeGateway, customer_id: str,
                                            bank_sandbox: Sandbox) -> None:
    bank_sandbox.configure_bank_debits(settlement_delay=DELAY, microdeposit_type="amounts")
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    for attempt, left in ((1, 2), (2, 1)):
        with pytest.raises(InvalidRequest) as caught:
            gateway.verify_microdeposits(started.id, amounts=(32, 46),
                                         idempotency_key=f"inv-1:verify-{attempt}")
        assert caught.value.code == "payment_method_microdeposit_verification_amounts_mismatch"
        assert f"Attempts left: {left}." in str(caught.value)
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, amounts=(45, 32), idempotency_key="inv-1:v-3")
    assert caught.value.code == "payment_method_microdeposit_verification_attempts_exceeded"
    after = gateway.bank_debit(started.id)
    assert after.status == "requires_payment_method"
    assert after.failure is not None and after.failure.ach_return_code is None
    assert after.failure.code == "payment_method_microdeposit_verification_attempts_exceeded"
    assert [m["status"] for m in bank_sandbox.objects("mandate")] == ["inactive"]


def test_right_amounts_verify(gateway: StripeGateway, customer_id: str,
                              bank_sandbox: Sandbox) -> None:
    bank_sandbox.configure_bank_debits(settlement_delay=DELAY, microdeposit_type="amounts")
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    with pytest.raises(InvalidRequest):
        gateway.verify_microdeposits(started.id, amounts=(1, 2), idempotency_key="inv-1:v-1")
    done = gateway.verify_microdeposits(started.id, amounts=(32, 45), idempotency_key="inv-1:v2")
    assert done.status == "processing"


def test_descriptor_code_gets_ten_attempts(gateway: StripeGateway, customer_id: str,
                                           bank_sandbox: Sandbox) -> None:
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    for attempt in range(9):
        with pytest.raises(InvalidRequest) as caught:
            gateway.verify_microdeposits(started.id, descriptor_code="SM99ZZ",
                                         idempotency_key=f"inv-1:v-{attempt}")
        assert caught.value.code == \
            "payment_method_microdeposit_verification_descriptor_code_mismatch"
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, descriptor_code="SM99ZZ", idempotency_key="x")
    assert caught.value.code == "payment_method_microdeposit_verification_attempts_exceeded"


def test_stripe_test_code_exceeds_attempts_at_once(gateway: StripeGateway, customer_id: str,
                                                   bank_sandbox: Sandbox) -> None:
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, descriptor_code="SM33CC", idempotency_key="v")
    assert caught.value.code == "payment_method_microdeposit_verification_attempts_exceeded"


def test_processing_until_the_clock_passes_settlement(gateway: StripeGateway, customer_id: str,
                                                      bank_sandbox: Sandbox) -> None:
    pm = _account(gateway, customer_id).payment_method_id
    debit = _verified_debit(gateway, customer_id, pm, "inv-1")
    assert debit.status == "processing" and debit.amount_received == 0
    bank_sandbox.advance_clock(DELAY - 30)  # a margin for the real seconds the test takes
    assert gateway.bank_debit(debit.id).status == "processing"
    bank_sandbox.advance_clock(30)
    settled = gateway.bank_debit(debit.id)
    assert (settled.status, settled.amount_received, settled.failure) == ("succeeded", 12_500, None)


def test_default_delay_is_four_business_days(customer_id: str, sandbox: Sandbox,
                                             gateway: StripeGateway) -> None:
    friday = 1_796_774_400 + 12 * 3600  # Friday 2026-12-04 12:00 UTC
    assert add_business_days(friday, DEFAULT_BUSINESS_DAYS) == friday + 6 * 86_400  # Thursday
    pm = _account(gateway, customer_id).payment_method_id
    debit = _verified_debit(gateway, customer_id, pm, "inv-1")
    due = add_business_days(sandbox.objects("charge")[0]["created"], DEFAULT_BUSINESS_DAYS)
    sandbox.advance_clock_to(due - 30)  # a margin for the real seconds the test takes
    assert gateway.bank_debit(debit.id).status == "processing"
    sandbox.advance_clock_to(due)
    assert gateway.bank_debit(debit.id).status == "succeeded"


def test_verified_account_is_reused_under_its_mandate(gateway: StripeGateway, customer_id: str,
                                                      bank_sandbox: Sandbox) -> None:
    """Several invoices in one sitting: microdeposits once, then each debit goes straight
    to processing under the same mandate (or a new acceptance)."""
    pm = _account(gateway, customer_id).payment_method_id
    first = _verified_debit(gateway, customer_id, pm, "inv-1")
    assert first.mandate is not None
    second = _debit(gateway, customer_id, pm, "inv-2", acceptance=ExistingMandate(first.mandate))
    third = _debit(gateway, customer_id, pm, "inv-3", acceptance=OfflineAcceptance())
    assert (second.status, second.mandate) == ("processing", first.mandate)
    assert third.status == "processing" and third.mandate not in (None, first.mandate)
    assert gateway.mandate(third.mandate or "").acceptance_type == "offline"
    bank_sandbox.advance_clock(DELAY)
    assert {gateway.bank_debit(d.id).status for d in (first, second, third)} == {"succeeded"}


@pytest.mark.parametrize(("number", "code", "ach"), [
    ("000111111113", "account_closed", "R02"),
    ("000111111116", "no_account", "R03"),
    ("000222222227", "insufficient_funds", "R01"),
    ("000333333335", "debit_not_authorized", "R10"),
    ("000444444440", "invalid_currency", None),
])
def test_failing_test_accounts(gateway: StripeGateway, customer_id: str, bank_sandbox: Sandbox,
                               number: str, code: str, ach: str | None) -> None:
    pm = _account(gateway, customer_id, number).payment_method_id
    debit = _verified_debit(gateway, customer_id, pm, "inv-1")
    assert debit.status == "processing"
    bank_sandbox.advance_clock(DELAY)
    failed = gateway.bank_debit(debit.id)
    assert failed.status == "requires_payment_method" and failed.failure is not None
    assert (failed.failure.code, failed.failure.ach_return_code) == (code, ach)
    charge = bank_sandbox.objects("charge")[0]
    assert (charge["status"], charge["failure_code"]) == ("failed", code)
    mandate = gateway.mandate(debit.mandate or "")
    assert mandate.status == ("inactive" if code in (
        "account_closed", "no_account", "debit_not_authorized") else "active")
