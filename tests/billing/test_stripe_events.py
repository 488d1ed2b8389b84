"""What Stripe reports after a checkout reaches its invoices: refunds made in the Stripe
Dashboard, disputes opened and closed, holds that lapsed; each event applied once
(SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from billing import checkout as engine
from billing.emails import parse_message
from billing.events import LAPSED, apply_event
from models import (
    AuditEntry,
    Checkout,
    Dispute,
    Invoice,
    InvoicePayment,
    OutboundEmail,
    Refund,
    StripeEvent,
)
from models.demo import DANA_EMAIL, FIRM_EMAIL
from models.money import Money
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import dispute, event, example, refund


def paid(desk, payer, number: str = "INV-1012") -> InvoicePayment:
    result = desk.pay(payer, full_balances([number]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def fresh(payment: InvoicePayment) -> tuple[InvoicePayment, Invoice]:
    row = InvoicePayment.get_by_id(payment.id)
    return row, Invoice.get_by_id(row.invoice_id)


def audits(action: str) -> list[AuditEntry]:
    return list(AuditEntry.select().where(AuditEntry.action == action).order_by(AuditEntry.id))


# --- refunds made in Stripe ---------------------------------------------------------------

def test_a_refund_made_in_stripe_is_recorded_like_a_desk_refund(desk, dana):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)
    emails_before = OutboundEmail.select().count()
    stripe_refund = refund(payment.stripe_payment_intent_id, 12500,
                           reason="requested_by_customer", refund_id="re_dashboard_1")

    done = apply_event(event("refund.created", stripe_refund), source="poll")

    assert done.applied and done.outcome == "refund"
    row = Refund.get(Refund.stripe_refund_id == "re_dashboard_1")
    assert (row.origin, row.staff_id, row.status, row.amount_minor) == (
        "stripe", None, "succeeded", 12500)
    assert row.receipt_number and row.receipt_number.startswith("RF-")
    assert row.reason == "Refunded in Stripe (requested by the client)"
    after, invoice_after = fresh(payment)
    assert after.refunded_minor == 12500
    assert invoice_after.paid_minor == invoice.paid_minor - 12500
    [entry] = audits("refund")
    assert (entry.actor, entry.result, entry.subject) == ("stripe", "succeeded",
                                                          "invoice:INV-1012")
    new_emails = list(OutboundEmail.select().order_by(OutboundEmail.id))[emails_before:]
    assert [e.recipient for e in new_emails] == [DANA_EMAIL]
    assert "X-Paydesk-Refund" in parse_message(new_emails[0].message)
    text = desk.receipt_text(row.receipt_number)
    assert "re_dashboard_1" in text and "\nBy" not in text  # no staff member made it
    assert StripeEvent.get().outcome == "refund"


def test_the_same_refund_event_twice_changes_things_once(desk, dana):
    payment = paid(desk, dana)
    same = event("refund.created", refund(payment.stripe_payment_intent_id, 5000))

    first = apply_event(same, source="webhook")
    again = apply_event(same, source="poll")

    assert first.applied and not again.applied and again.outcome == "duplicate"
    assert Refund.select().count() == 1
    assert fresh(payment)[0].refunded_minor == 5000
    assert StripeEvent.get().source == "webhook"
    assert len(audits("refund")) == 1


def test_one_refund_in_two_events_is_recorded_once(desk, dana):
    payment = paid(desk, dana)
    stripe_refund = refund(payment.stripe_payment_intent_id, 5000)
    charge = example("charge", id="ch_x", payment_intent=payment.stripe_payment_intent_id,
                     refunds={"object": "list", "data": [stripe_refund], "has_more": False})

    assert apply_event(event("charge.refunded", charge)).outcome == "refund"
    assert apply_event(event("refund.created", stripe_refund)).outcome == "refund.known"
    assert fresh(payment)[0].refunded_minor == 5000


def test_a_refund_made_at_the_desk_is_not_counted_again(desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    result = desk.refund(staff, payment.id, Money(5000, "USD"), "Client overpaid")
    ours = Refund.get_by_id(result.refund_id)
    by_id = refund(payment.stripe_payment_intent_id, 5000, refund_id=ours.stripe_refund_id)
    # Its Stripe id lost (a crash before it was stored): the metadata says it is Paydesk's.
    by_metadata = refund(payment.stripe_payment_intent_id, 5000,
                         metadata={"paydesk_refund": str(ours.id)})
    by_key = refund(payment.stripe_payment_intent_id, 5000)

    assert apply_event(event("refund.created", by_id)).outcome == "refund.known"
    assert apply_event(event("refund.updated", by_metadata)).outcome == "refund.known"
    assert apply_event(event("refund.created", by_key,
                             request_key=ours.idempotency_key)).outcome == "refund.known"
    assert Refund.select().count() == 1
    assert fresh(payment)[0].refunded_minor == 5000


def test_a_pending_refund_is_recorded_when_stripe_says_it_succeeded(desk, dana):
    payment = paid(desk, dana)
    pending = refund(payment.stripe_payment_intent_id, 7000, status="pending",
                     refund_id="re_slow")

    assert apply_event(event("refund.created", pending)).outcome == "refund.pending"
    assert Refund.select().count() == 0
    done = {**pending, "status": "succeeded"}
    assert apply_event(event("refund.updated", done)).outcome == "refund"
    assert fresh(payment)[0].refunded_minor == 7000


def test_a_refund_larger_than_what_is_left_is_left_for_review(desk, dana):
    payment = paid(desk, dana)
    too_much = refund(payment.stripe_payment_intent_id, payment.amount_minor + 1)

    assert apply_event(event("refund.created", too_much)).outcome == "refund.review"
    assert Refund.select().count() == 0
    assert fresh(payment)[0].refunded_minor == 0
    [entry] = audits("refund")
    assert entry.result == "needs_review"


def test_events_about_objects_that_are_not_paydesks_are_only_seen(desk, dana):
    paid(desk, dana)
    before = (Invoice.select().count(), Refund.select().count(), AuditEntry.select().count())
    others = [
        event("refund.created", refund("pi_of_another_app", 100)),
        event("charge.dispute.created", dispute("pi_of_another_app", 100)),
        event("payment_intent.canceled", example("payment_intent", id="pi_other")),
        event("plan.created", example("event")["data"]["object"]),
    ]
    outcomes = [apply_event(e) for e in others]

    assert [o.outcome for o in outcomes] == ["ignored"] * 4 and all(o.applied for o in outcomes)
    assert StripeEvent.select().count() == 4
    assert (Invoice.select().count(), Refund.select().count(),
            AuditEntry.select().count()) == before


def test_a_body_that_is_not_an_event_is_refused(sqlite_db):
    with pytest.raises(ValueError, match="not a Stripe event"):
        apply_event({"object": "event"})
    assert StripeEvent.select().count() == 0


# --- disputes -------------------------------------------------------------------------------

def test_a_dispute_takes_the_amount_off_flags_the_invoice_and_tells_the_firm(desk, dana):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)

    done = apply_event(event("charge.dispute.created",
                             dispute(payment.stripe_payment_intent_id, 20000)))

    assert done.outcome == "dispute.opened"
    _, after = fresh(payment)
    assert after.paid_minor == invoice.paid_minor - 20000  # payable again
    row = Dispute.get()
    assert (row.amount_minor, row.withdrawn_minor, row.status, row.is_open) == (
        20000, 20000, "needs_response", True)
    [notice] = OutboundEmail.select().where(OutboundEmail.subject.contains("dispute"))
    assert notice.recipient == FIRM_EMAIL
    body = parse_message(notice.message).get_body(preferencelist=("plain",)).get_content()
    assert "INV-1012" in body and "$200.00" in body and "did not make the payment" in body
    [entry] = audits("dispute.open")
    assert entry.actor == "stripe" and "withdrawn_minor=20000" in entry.details
    assert "INV-1012" in [i.number for i in desk.payable_invoices(dana)]


@pytest.mark.parametrize(("status", "paid_back"), [("won", True), ("lost", False)])
def test_a_dispute_won_gives_the_payment_back_and_one_lost_does_not(desk, dana, status,
                                                                     paid_back):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)
    apply_event(event("charge.dispute.created", dispute(payment.stripe_payment_intent_id, 20000)))

    done = apply_event(event("charge.dispute.closed",
                             dispute(payment.stripe_payment_intent_id, 20000, status=status)))

    assert done.outcome == ("dispute.won" if paid_back else "dispute.closed")
    _, after = fresh(payment)
    assert after.paid_minor == invoice.paid_minor - (0 if paid_back else 20000)
    row = Dispute.get()
    assert row.status == status and row.closed_at is not None and not row.is_open
    [entry] = audits("dispute.close")
    assert entry.result == status
    again = apply_event(event("charge.dispute.closed",
                              dispute(payment.stripe_payment_intent_id, 20000, status=status)))
    assert again.outcome == "dispute.known" and fresh(payment)[1].paid_minor == after.paid_minor


def test_an_inquiry_takes_no_money_but_flags_the_invoice(desk, dana):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)
    inquiry = dispute(payment.stripe_payment_intent_id, 20000, status="warning_needs_response")

    apply_event(event("charge.dispute.created", inquiry))

    assert fresh(payment)[1].paid_minor == invoice.paid_minor
    row = Dispute.get()
    assert row.withdrawn_minor == 0 and row.is_open
    apply_event(event("charge.dispute.closed", {**inquiry, "status": "warning_closed"}))
    assert fresh(payment)[1].paid_minor == invoice.paid_minor and not Dispute.get().is_open


# --- holds that lapsed, and payment outcomes --------------------------------------------------

class PowerCut(BaseException):
    """The process stops right after the authorizations, as a crash would leave it."""


def test_a_hold_that_lapsed_at_stripe_is_released(desk, dana, monkeypatch):
    def cut(step: str) -> None:
        if step == "authorized":
            raise PowerCut

    monkeypatch.setattr(engine, "crash_point", cut)
    with pytest.raises(PowerCut):
        desk.pay(dana, full_balances(["INV-1012"]), keyed())
    monkeypatch.undo()
    payment = InvoicePayment.select().order_by(InvoicePayment.id.desc()).get()
    assert payment.status == "authorized" and payment.stripe_payment_intent_id
    lapsed = example("payment_intent", id=payment.stripe_payment_intent_id, status="canceled",
                     cancellation_reason="automatic", amount=payment.amount_minor)

    done = apply_event(event("payment_intent.canceled", lapsed))

    assert done.outcome == "payment.released"
    after = InvoicePayment.get_by_id(payment.id)
    assert after.status == "cancelled" and after.failure_message == LAPSED
    assert Checkout.get_by_id(payment.checkout_id).status == "failed"
    [entry] = audits("payment.release")
    assert entry.result == "lapsed"
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == 0


def test_card_payment_intent_outcomes_change_nothing(desk, dana):
    payment = paid(desk, dana)
    pi = example("payment_intent", id=payment.stripe_payment_intent_id, status="succeeded",
                 payment_method_types=["card"])
    before = (fresh(payment)[0].status, fresh(payment)[1].paid_minor, AuditEntry.select().count())

    outcomes = [apply_event(event(kind, pi)).outcome for kind in
                ("payment_intent.succeeded", "payment_intent.payment_failed",
                 "payment_intent.canceled")]

    assert outcomes == ["ignored"] * 3
    assert (fresh(payment)[0].status, fresh(payment)[1].paid_minor,
            AuditEntry.select().count()) == before


def test_an_inquiry_that_escalates_takes_the_money_when_it_is_withdrawn(desk, dana):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)
    inquiry = dispute(payment.stripe_payment_intent_id, 20000, status="warning_needs_response")
    apply_event(event("charge.dispute.created", inquiry))

    done = apply_event(event("charge.dispute.funds_withdrawn",
                             {**inquiry, "status": "needs_response"}))

    assert done.outcome == "dispute.withdrawn"
    assert fresh(payment)[1].paid_minor == invoice.paid_minor - 20000
    assert Dispute.get().withdrawn_minor == 20000


def test_an_inquiry_lost_keeps_its_money_off(desk, dana):
    payment = paid(desk, dana)
    _, invoice = fresh(payment)
    inquiry = dispute(payment.stripe_payment_intent_id, 20000, status="warning_needs_response")
    apply_event(event("charge.dispute.created", inquiry))

    apply_event(event("charge.dispute.closed", {**inquiry, "status": "lost"}))

    assert fresh(payment)[1].paid_minor == invoice.paid_minor - 20000
    row = Dispute.get()
    assert (row.status, row.withdrawn_minor, row.is_open) == ("lost", 20000, False)


def test_the_desk_lists_a_payment_under_dispute_as_disputed(desk, dana):
    from tui.screens.desk_payments import status_text

    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    apply_event(event("charge.dispute.created", dispute(payment.stripe_payment_intent_id, 100)))

    rows = {r.invoice_payment_id: r for r in desk.payments(staff)}

    assert rows[payment.id].disputed and status_text(rows[payment.id]) == "disputed"
    assert not any(r.disputed for i, r in rows.items() if i != payment.id)
    apply_event(event("charge.dispute.closed",
                      dispute(payment.stripe_payment_intent_id, 100, status="won")))
    row = next(r for r in desk.payments(staff) if r.invoice_payment_id == payment.id)
    assert not row.disputed and status_text(row) == "captured"
