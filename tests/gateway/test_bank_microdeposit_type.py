"""The sandbox answers a microdeposit by the deposit it sent, as Stripe does: the other
kind of answer is refused as a bad parameter, without using one of the payer's tries; the
gateway reads which kind was sent from next_action."""

from __future__ import annotations

import pytest

from gateway import StripeGateway
from gateway.errors import InvalidRequest
from gateway.sandbox import Sandbox
from tests.gateway.test_bank_debits import DELAY, _account, _debit, bank_sandbox  # noqa: F401

MISMATCH = "payment_method_microdeposit_verification_{}_mismatch"


def test_amounts_are_refused_for_a_descriptor_code_without_a_try(
        gateway: StripeGateway, customer_id: str, bank_sandbox: Sandbox) -> None:  # noqa: F811
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    assert started.microdeposit_type == "descriptor_code"
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, amounts=(32, 45), idempotency_key="v-1")
    assert caught.value.code is None and caught.value.param == "amounts"
    assert "descriptor_code" in str(caught.value)
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, descriptor_code="SM99ZZ", idempotency_key="v-2")
    assert caught.value.code == MISMATCH.format("descriptor_code")
    assert "Attempts left: 9." in str(caught.value)  # the refused amounts used none


def test_a_code_is_refused_for_two_amounts_without_a_try(
        gateway: StripeGateway, customer_id: str, bank_sandbox: Sandbox) -> None:  # noqa: F811
    bank_sandbox.configure_bank_debits(settlement_delay=DELAY, microdeposit_type="amounts")
    pm = _account(gateway, customer_id).payment_method_id
    started = _debit(gateway, customer_id, pm, "inv-1")
    assert started.microdeposit_type == "amounts"
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, descriptor_code="SM11AA",
                                     idempotency_key="v-1")
    assert caught.value.code is None and caught.value.param == "descriptor_code"
    with pytest.raises(InvalidRequest) as caught:
        gateway.verify_microdeposits(started.id, amounts=(1, 2), idempotency_key="v-2")
    assert caught.value.code == MISMATCH.format("amounts")
    assert "Attempts left: 2." in str(caught.value)
    done = gateway.verify_microdeposits(started.id, amounts=(32, 45), idempotency_key="v-3")
    assert done.status == "processing" and done.microdeposit_type is None
