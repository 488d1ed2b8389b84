"""Dispute events beyond open-then-close: money reinstated after a loss, a close or
reinstatement learnt before the opening, a dispute larger than what is left on a partly
refunded payment (SQLite and PostgreSQL)."""

from __future__ import annotations

from billing.events import apply_event
from models import AuditEntry, Dispute, Invoice, InvoicePayment, OutboundEmail
from models.money import Money
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import dispute, event


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def paid_minor(payment: InvoicePayment) -> int:
    return Invoice.get_by_id(payment.invoice_id).paid_minor


def notices() -> int:
    return OutboundEmail.select().where(OutboundEmail.subject.contains("dispute")).count()


def test_funds_reinstated_after_a_loss_give_the_money_back_once(desk, dana):
    payment = paid(desk, dana)
    before = paid_minor(payment)
    pi = payment.stripe_payment_intent_id
    apply_event(event("charge.dispute.created", dispute(pi, 20000)))
    apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="lost")))
    assert paid_minor(payment) == before - 20000

    first = apply_event(event("charge.dispute.funds_reinstated", dispute(pi, 20000,
                                                                         status="lost")))
    again = apply_event(event("charge.dispute.funds_reinstated", dispute(pi, 20000,
                                                                         status="lost")))

    assert (first.outcome, again.outcome) == ("dispute.reinstated", "dispute.known")
    assert paid_minor(payment) == before
    assert Dispute.get().reinstated_minor == 20000
    [entry] = AuditEntry.select().where(AuditEntry.action == "dispute.reinstate")
    assert entry.result == "reinstated" and "given_back_minor=20000" in entry.details
    # The loss reversed: the close that follows gives nothing more.
    assert apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="won"))
                       ).outcome == "dispute.won"
    assert paid_minor(payment) == before


def test_a_dispute_lost_then_won_gives_the_money_back(desk, dana):
    payment = paid(desk, dana)
    before = paid_minor(payment)
    pi = payment.stripe_payment_intent_id
    apply_event(event("charge.dispute.created", dispute(pi, 20000)))
    apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="lost")))

    done = apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="won")))

    assert done.outcome == "dispute.won"
    assert paid_minor(payment) == before
    assert Dispute.get().status == "won"
    # Its funds_reinstated event, whichever order it comes in, gives nothing twice.
    assert apply_event(event("charge.dispute.funds_reinstated", dispute(pi, 20000,
                                                                        status="won"))
                       ).outcome == "dispute.known"
    assert paid_minor(payment) == before


def test_a_won_dispute_and_its_funds_reinstated_give_back_once(desk, dana):
    payment = paid(desk, dana)
    before = paid_minor(payment)
    pi = payment.stripe_payment_intent_id
    apply_event(event("charge.dispute.created", dispute(pi, 20000)))

    apply_event(event("charge.dispute.funds_reinstated", dispute(pi, 20000, status="won")))
    apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="won")))

    assert paid_minor(payment) == before
    row = Dispute.get()
    assert (row.status, row.withdrawn_minor, row.reinstated_minor) == ("won", 20000, 20000)


def test_a_dispute_first_learnt_already_won_tells_the_firm_nothing(desk, dana):
    payment = paid(desk, dana)
    before = paid_minor(payment)

    done = apply_event(event("charge.dispute.closed",
                             dispute(payment.stripe_payment_intent_id, 20000, status="won")))

    assert done.outcome == "dispute.won"
    assert notices() == 0
    assert paid_minor(payment) == before
    row = Dispute.get()
    assert row.status == "won" and row.closed_at is not None


def test_a_dispute_first_learnt_lost_takes_the_money_without_a_notice(desk, dana):
    payment = paid(desk, dana)
    before = paid_minor(payment)

    apply_event(event("charge.dispute.closed",
                      dispute(payment.stripe_payment_intent_id, 20000, status="lost")))

    assert notices() == 0
    assert paid_minor(payment) == before - 20000
    assert Dispute.get().withdrawn_minor == 20000


def test_a_dispute_larger_than_what_is_left_after_a_refund_is_left_for_review(desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    desk.refund(staff, payment.id, Money(payment.amount_minor - 5000, "USD"), "Overpaid")
    before = paid_minor(payment)

    apply_event(event("charge.dispute.created",
                      dispute(payment.stripe_payment_intent_id, payment.amount_minor)))

    row = Dispute.get()
    assert row.withdrawn_minor == 5000  # never more than the payment still counts for
    assert paid_minor(payment) == before - 5000
    [entry] = AuditEntry.select().where(AuditEntry.action == "dispute.open")
    assert entry.result == "needs_review" and "only 5000 was left" in entry.details


def test_a_lost_dispute_shows_at_the_desk_as_charged_back_with_nothing_to_refund(desk, dana):
    from tui.screens.desk_payments import status_text

    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    pi = payment.stripe_payment_intent_id
    apply_event(event("charge.dispute.created", dispute(pi, 20000)))
    apply_event(event("charge.dispute.closed", dispute(pi, 20000, status="lost")))

    row = next(r for r in desk.payments(staff) if r.invoice_payment_id == payment.id)

    assert row.charged_back and not row.disputed
    assert status_text(row) == "charged back" and row.refundable.minor == 0
    apply_event(event("charge.dispute.funds_reinstated", dispute(pi, 20000, status="lost")))
    row = next(r for r in desk.payments(staff) if r.invoice_payment_id == payment.id)
    assert not row.charged_back and row.refundable.minor == payment.amount_minor


def test_a_dispute_opened_meanwhile_by_another_event_is_known_not_an_error(
        desk, dana, monkeypatch):
    """charge.dispute.created and funds_withdrawn at once: the second finds the dispute
    again once it holds the payment's lock."""
    from billing import event_disputes

    payment = paid(desk, dana)
    real = event_disputes.payment_of

    def the_other_event_first(obj, *, lock=False):
        found = real(obj, lock=lock)
        if lock and not Dispute.select().exists():
            # What the other transaction committed while this one waited for the lock.
            Dispute.create(invoice_payment=found.id, stripe_dispute_id="dp_test_1",
                           amount_minor=20000, withdrawn_minor=0, status="needs_response",
                           reason="fraudulent")
        return found

    monkeypatch.setattr(event_disputes, "payment_of", the_other_event_first)
    done = apply_event(event("charge.dispute.created",
                             dispute(payment.stripe_payment_intent_id, 20000)))

    assert done.applied and done.outcome == "dispute.known"
    assert Dispute.select().count() == 1
