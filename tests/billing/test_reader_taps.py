"""Paying several invoices with a card on the reader, through the engine, the real gateway
and the sandbox's simulated reader (SQLite and PostgreSQL).

A card the reader keeps is charged once per invoice as a card (card-not-present). A card it
cannot keep (a wallet tap) is tapped once per invoice, each a card-present authorization,
and still all or nothing: a tap that fails cancels the ones already authorized."""

from __future__ import annotations

from typing import Any

from billing import checkout as engine
from billing.reserve import reserve
from billing.values import CardChoice, ProgressEvent
from gateway import errors as gw
from models import Checkout, InvoicePayment
from tests.billing.conftest import TODAY, balances, full_balances, invoice
from tests.reader_taps import APPLE_PAY_TAP, DECLINED, VISA, Tapper

THREE = ("INV-1001", "INV-1004", "INV-1009")


def _reader(sandbox) -> CardChoice:
    return CardChoice(kind="reader", reader_id=sandbox.reader_id,
                      label="card on Front desk reader")


def _intents(sandbox, checkout_id: int) -> list[dict[str, Any]]:
    """The checkout's PaymentIntents, in invoice order."""
    mine = [pi for pi in sandbox.objects("payment_intent")
            if pi["metadata"].get("paydesk_checkout") == str(checkout_id)]
    return sorted(mine, key=lambda pi: pi["metadata"]["invoice_number"])


def _method_type(sandbox, pm_id: str) -> str:
    return next(pm["type"] for pm in sandbox.objects("payment_method") if pm["id"] == pm_id)


def _statuses(checkout_id: int) -> dict[str, str]:
    return {p.invoice.number: p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id)}


def test_a_card_the_reader_keeps_is_charged_for_each_invoice_as_a_card(
        desk, dana, sandbox, gateway):
    with Tapper(sandbox, gateway, [VISA]) as taps:
        result = desk.pay(dana, full_balances(THREE), _reader(sandbox))
        tapped = taps.join()
    assert result.succeeded, result.message
    assert [kind for kind, _ in tapped] == ["process_setup_intent"]  # one tap only
    intents = _intents(sandbox, result.checkout_id)
    assert len(intents) == 3
    assert {pi["status"] for pi in intents} == {"succeeded"}
    assert {pi["metadata"]["invoice_number"] for pi in intents} == set(THREE)
    assert {pi["payment_method_types"][0] for pi in intents} == {"card"}
    [card] = {pi["payment_method"] for pi in intents}
    assert _method_type(sandbox, card) == "card"
    assert Checkout.get_by_id(result.checkout_id).payment_method_id == card
    assert balances(THREE) == dict.fromkeys(THREE, 0)


def test_a_wallet_tap_is_tapped_again_for_each_invoice_and_all_are_captured(
        desk, dana, sandbox, gateway):
    events: list[ProgressEvent] = []
    amounts = full_balances(THREE)
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP] * 4) as taps:
        result = desk.pay(dana, amounts, _reader(sandbox), on_progress=events.append)
        tapped = taps.join()
    assert result.succeeded, result.message
    assert [kind for kind, _ in tapped] == ["process_setup_intent"] + \
        ["process_payment_intent"] * 3
    intents = _intents(sandbox, result.checkout_id)
    # One tap per invoice, in the order of the invoices.
    assert [pi["id"] for pi in intents] == [target for _, target in tapped[1:]]
    assert [pi["metadata"]["invoice_number"] for pi in intents] == list(THREE)
    assert {pi["status"] for pi in intents} == {"succeeded"}
    assert {tuple(pi["payment_method_types"]) for pi in intents} == {("card_present",)}
    assert {_method_type(sandbox, pi["payment_method"]) for pi in intents} == {"card_present"}
    assert [pi["amount_received"] for pi in intents] == [m.minor for m in amounts.values()]
    checkout = Checkout.get_by_id(result.checkout_id)
    assert (checkout.payment_method_id, checkout.card_last4) == (None, "7775")
    assert {t.card_last4 for t in result.transactions} == {"7775"}
    assert balances(THREE) == dict.fromkeys(THREE, 0)
    # The payer is told how many taps, then which invoice each tap is for.
    plan = [e for e in events if e.status == "taps"]
    assert [e.message for e in plan] == [
        "This card or phone pays one invoice per tap: tap it once for each invoice, 3 taps."]
    prompts = [e.message for e in events if e.status == "tap"]
    assert prompts == [f"Tap the card on the reader for {n} ({i} of 3)"
                       for i, n in enumerate(THREE, start=1)]
    assert events.index(plan[0]) < events.index(
        next(e for e in events if e.status == "tap"))


def test_a_declined_tap_on_the_second_invoice_captures_nothing(desk, dana, sandbox, gateway):
    before = balances(THREE)
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP, APPLE_PAY_TAP, DECLINED]) as taps:
        result = desk.pay(dana, full_balances(THREE), _reader(sandbox))
        tapped = taps.join()
    assert result.status == "failed"
    assert "INV-1004" in result.message and "declined" in result.message.lower()
    assert len(tapped) == 3  # the third invoice was never put on the reader
    first, second = _intents(sandbox, result.checkout_id)
    assert first["status"] == "canceled" and first["amount_received"] == 0
    assert second["status"] == "canceled"
    assert second["last_payment_error"]["decline_code"] == "generic_decline"
    assert not [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert _statuses(result.checkout_id) == {
        "INV-1001": "cancelled", "INV-1004": "declined", "INV-1009": "cancelled"}
    assert balances(THREE) == before


def test_no_tap_in_time_for_the_last_invoice_cancels_the_others(demo_db, desk, dana, sandbox,
                                                                gateway):
    before = balances(THREE)
    checkout_id = reserve(dana, full_balances(THREE), method="card_reader",
                                 terminal="test-terminal", today=TODAY.date())
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP] * 3) as taps:
        result = engine.run_checkout(gateway, checkout_id, _reader(sandbox),
                                     terminal="test-terminal", reader_timeout=2.0)
        taps.join()
    assert result.status == "failed"
    assert "INV-1009" in result.message and "in time" in result.message
    intents = _intents(sandbox, checkout_id)
    assert len(intents) == 3
    assert {pi["status"] for pi in intents} == {"canceled"}
    assert _statuses(checkout_id) == {
        "INV-1001": "cancelled", "INV-1004": "cancelled", "INV-1009": "failed"}
    assert balances(THREE) == before
    [reader] = sandbox.objects("terminal.reader")
    assert reader["action"]["status"] == "failed"  # freed for the next payment
    assert invoice("INV-1009").balance_minor == before["INV-1009"]


class LosesSecondTapAnswer:
    """The real gateway, except that the answer to the second tap's authorization is lost
    after Stripe authorized it (the connection dropped)."""

    def __init__(self, gateway) -> None:
        self._gateway = gateway
        self.taps = 0

    def __getattr__(self, name: str):
        return getattr(self._gateway, name)

    def authorize_on_reader(self, *args, **kwargs):
        self.taps += 1
        held = self._gateway.authorize_on_reader(*args, **kwargs)
        if self.taps == 2:
            raise gw.OutcomeUnknown("The connection to the card processor was lost.")
        return held


def test_a_lost_answer_to_a_tap_is_found_and_released_not_left_held(
        desk, dana, sandbox, gateway):
    before = balances(THREE)
    desk.gateway = LosesSecondTapAnswer(gateway)
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP] * 3) as taps:
        result = desk.pay(dana, full_balances(THREE), _reader(sandbox))
        taps.join()
    assert result.status in ("failed", "cancelled"), result.status
    intents = _intents(sandbox, result.checkout_id)
    assert [pi["metadata"]["invoice_number"] for pi in intents] == ["INV-1001", "INV-1004"]
    assert {pi["status"] for pi in intents} == {"canceled"}  # the lost one too
    assert balances(THREE) == before
