"""The engine and reconciliation working on one checkout (or refund) at once: an on-demand
`paydesk reconcile`, or another terminal, settles it while this terminal's Stripe call is
still out. Whatever order the two finish in, nothing is counted twice and nothing
authorized is left behind. Each test makes the interleaving happen at an exact point."""

from __future__ import annotations

from billing import checkout as engine
from billing import lease, ledger, reconcile, refunds
from billing.reserve import reserve
from billing.values import StaffSession
from gateway import errors as gw
from models import Checkout, Invoice, InvoicePayment, Refund, Staff, utcnow
from tests.billing.conftest import TODAY, full_balances, invoice, keyed


class Interleaved:
    """The real gateway, except that the first call of `operation` first lets `meanwhile`
    run (the other terminal finishing its work) and then, when `lose` is set, loses the
    answer (the call was done, the reply never came)."""

    def __init__(self, gateway, operation: str, meanwhile, *, lose: bool = True) -> None:
        self._gateway, self._operation, self._meanwhile = gateway, operation, meanwhile
        self._lose, self.fired = lose, False

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != self._operation:
            return method

        def interleaved(*args, **kwargs):
            if self.fired:
                return method(*args, **kwargs)
            self.fired = True
            self._meanwhile()
            result = method(*args, **kwargs)
            if self._lose:
                raise gw.OutcomeUnknown("the answer was lost")
            return result
        return interleaved


def _reserve(dana, numbers) -> int:
    return reserve(dana, full_balances(numbers), method="card_keyed",
                          terminal="terminal-a", today=TODAY.date())


def test_a_capture_recorded_by_reconciliation_while_the_engine_waits_is_counted_once(
        desk, dana, gateway, sandbox):
    checkout_id = _reserve(dana, ["INV-1001"])
    inv = invoice("INV-1001")
    before = inv.paid_minor

    def reconciliation_on_another_terminal():
        # Only once this run's lease has lapsed (the engine stalled for longer than it)
        # may another terminal take the checkout over.
        assert reconcile.settle_checkout(gateway, checkout_id, terminal="terminal-b",
                                         clock=lambda: utcnow() + lease.LEASE * 2)

    slow = Interleaved(gateway, "capture", reconciliation_on_another_terminal)
    engine.run_checkout(slow, checkout_id, keyed(), terminal="terminal-a")
    assert slow.fired
    # The engine's lost answer must not reopen the payment reconciliation recorded ...
    payment = InvoicePayment.get(InvoicePayment.checkout == checkout_id)
    assert payment.status == "captured"
    # ... or a later reconciliation would record the same capture a second time.
    desk.reconcile()
    amount = payment.amount_minor
    assert Invoice.get_by_id(inv.id).paid_minor == before + amount
    assert InvoicePayment.get_by_id(payment.id).status == "captured"
    assert Checkout.get_by_id(checkout_id).status == "succeeded"
    captured = [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert [pi["amount_received"] for pi in captured] == [amount]


def test_reconciliation_taking_a_checkout_over_stops_the_engine_from_authorizing(
        desk, dana, gateway, sandbox):
    checkout_id = _reserve(dana, ["INV-1001", "INV-1004"])

    def reconciliation_decides_first():
        # `paydesk reconcile` on another terminal decides to release this checkout.
        assert ledger.set_checkout_status(checkout_id, "cancelling",
                                          only_from=ledger.UNDECIDED)

    slow = Interleaved(gateway, "card_from_keyed_entry", reconciliation_decides_first,
                       lose=False)
    result = engine.run_checkout(slow, checkout_id, keyed(), terminal="terminal-a")
    assert slow.fired
    assert not result.succeeded
    # Nothing was authorized on the payer's card once the checkout was being released.
    assert sandbox.objects("payment_intent") == []
    desk.reconcile()
    assert Checkout.get_by_id(checkout_id).status == "failed"
    assert {p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id)} == {"cancelled"}
    assert reconcile.open_count() == 0


def test_a_refund_recorded_by_another_terminal_while_reconciliation_waits_counts_once(
        desk, dana, gateway, sandbox):
    paid = desk.pay(dana, full_balances(["INV-1001"]), keyed())
    assert paid.succeeded
    payment_id = paid.transactions[0].invoice_payment_id
    staff = Staff.get(Staff.name == "Front Desk")
    session = StaffSession(staff_id=staff.id, name=staff.name, role=staff.role)
    refund_id = refunds.reserve_refund(session, payment_id, None, "duplicate",
                                       terminal="terminal-a")

    def the_staff_terminal_finishes():
        assert refunds.send_refund(gateway, refund_id, terminal="terminal-a")

    # Reconciliation replays the open refund; its answer is lost after the terminal
    # that started the refund has recorded it.
    slow = Interleaved(gateway, "refund", the_staff_terminal_finishes)
    assert not refunds.send_refund(slow, refund_id, terminal="terminal-b")
    assert slow.fired
    assert Refund.get_by_id(refund_id).status == "succeeded"
    desk.reconcile()
    payment = InvoicePayment.get_by_id(payment_id)
    assert payment.refunded_minor == payment.amount_minor
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == (
        invoice("INV-1001").total_minor - payment.amount_minor)
    assert sum(r["amount"] for r in sandbox.objects("refund")) == payment.amount_minor
