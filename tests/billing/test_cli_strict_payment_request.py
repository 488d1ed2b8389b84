"""`paydesk pay`, `offline-payment` and `refund` are as strict as the screens: a payment
request is checked in full (the card's number, expiry and CVC, each invoice named once)
before anything is reserved, and bad input exits 2 leaving nothing in the database."""

from __future__ import annotations

import pytest

from billing.errors import BillingError
from billing.values import StaffSession
from models import Client, Invoice, Staff
from models.money import Money
from tests.billing.cli_support import DANA, EXP_CVC, cli, ledger_state

__all__ = ["cli"]
VISA = "4242424242424242"


@pytest.mark.parametrize(("card", "message"), [
    (("--card", VISA, "--cvc", "123"), "expiry is missing"),
    (("--card", VISA, "--exp", "12/34"), "CVC is missing"),
    (("--card", VISA), "expiry is missing"),
    (("--card", VISA, "--exp", "13/34", "--cvc", "123"), "month must be 01 to 12"),
    (("--card", VISA, "--exp", "01/20", "--cvc", "123"), "That card has expired"),
    (("--card", VISA, "--exp", "12/34", "--cvc", "12"), "The CVC is the 3 digits"),
    (("--card", "378282246310005", "--exp", "12/34", "--cvc", "123"), "The CVC is the 4 digits"),
])
def test_a_card_without_a_valid_expiry_or_cvc_is_refused(cli, sandbox, card, message):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=10", *card)
    assert code == 2, err
    assert message in err and out == ""
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


def test_a_typo_in_the_card_leaves_no_checkout_behind(cli, sandbox):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=10", "--card", "-",
                         stdin="4242 4242 4242 4241 12/34 123\n")
    assert code == 2
    assert "card number is not valid" in err and out == ""
    assert ledger_state() == before  # no `cancelled` checkout, no invoice payment
    assert sandbox.count("payment_intent") == 0
    assert "4241" not in err


def test_an_invoice_named_twice_is_refused(cli, sandbox):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1054=10",
                         "--invoice", "inv-1054=20", "--card", VISA, *EXP_CVC)
    assert code == 2
    assert "named twice" in err and out == ""
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=10",
                         "--invoice", "INV-1001=20", "--card", VISA, *EXP_CVC)
    assert code == 2 and "INV-1001 is named twice" in err
    code, _, err = cli("offline-payment", "--staff", "Front Desk", "--client", DANA,
                       "--invoice", "INV-1001=10", "--invoice", "INV-1001=20",
                       "--method", "cash")
    assert code == 2 and "named twice" in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


def test_the_same_check_reference_twice_on_an_invoice_is_refused_unless_confirmed(cli):
    record = ("offline-payment", "--staff", "Front Desk", "--client", DANA,
              "--invoice", "INV-1001=250", "--method", "check")
    code, out, err = cli(*record, "--reference", "CHK-2001")
    assert code == 0, err
    [receipt] = [line.split()[-1] for line in out.strip().splitlines()]
    before = ledger_state()

    code, out, err = cli(*record, "--reference", " chk-2001 ")
    assert code == 2 and out == ""
    assert "INV-1001 already has the check CHK-2001 recorded" in err
    assert receipt in err and "--allow-duplicate-reference" in err
    assert ledger_state() == before
    assert Invoice.get(Invoice.number == "INV-1001").paid_minor == 25000

    # Another invoice with that check is fine: one check may pay several invoices.
    code, _, err = cli("offline-payment", "--staff", "Front Desk", "--client", DANA,
                       "--invoice", "INV-1012=100", "--method", "check",
                       "--reference", "CHK-2001")
    assert code == 0, err
    # A second payment with the same reference, confirmed.
    code, _, err = cli(*record, "--reference", "CHK-2001", "--allow-duplicate-reference")
    assert code == 0, err
    assert Invoice.get(Invoice.number == "INV-1001").paid_minor == 50000


def test_the_desk_screens_get_the_same_duplicate_refusal(demo_db):
    from billing.offline import DuplicateReference, record_offline_payment

    staff = Staff.get(Staff.name == "Front Desk")
    session = StaffSession(staff_id=staff.id, name=staff.name, role=staff.role)
    client = Client.get(Client.email == DANA)
    inv = Invoice.get(Invoice.number == "INV-1021")
    amounts = {inv.id: Money(1000, "USD")}
    record_offline_payment(session, client.id, amounts, "bank_transfer", "TRF-9",
                           terminal="t")
    with pytest.raises(DuplicateReference) as caught:
        record_offline_payment(session, client.id, amounts, "bank_transfer", "trf-9",
                               terminal="t")
    assert isinstance(caught.value, BillingError)
    assert "INV-1021 already has the bank transfer TRF-9 recorded" in caught.value.message
    assert Invoice.get(Invoice.id == inv.id).paid_minor == 1000


def test_refund_of_a_checkout_that_does_not_exist_says_so(cli):
    before = ledger_state()
    code, out, err = cli("refund", "--checkout", "9999", "--reason", "x",
                         "--staff", "Front Desk")
    assert code == 2 and out == ""
    assert "There is no checkout 9999." in err
    assert "nothing left to refund" not in err
    assert ledger_state() == before


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (("reconcile", "--min-age", "inf"), "", "not a number of seconds"),
    (("reconcile", "--min-age", "1e400"), "", "not a number of seconds"),
    (("refund", "--invoice-payment", "9" * 30, "--reason", "x", "--staff", "Front Desk"), "",
     "is not a number such as 17"),
    (("pay", "--client", DANA, "--invoice", "INV-1001=10", "--card", "-"),
     "4242424242424242 12/34 ١٢٣\n", "The CVC is the 3 digits"),
    (("pay", "--client", DANA, "--invoice", "INV-1001=10", "--card", "-"),
     "4242424242424242 ١٢/٣٤ 123\n", "Type the expiry as MM/YY"),
])
def test_out_of_range_and_non_ascii_input_is_refused_in_words(cli, sandbox, capsys, args,
                                                             stdin, message):
    before = ledger_state()
    try:
        code, _, err = cli(*args, stdin=stdin)
    except SystemExit as stopped:  # argparse: usage and the reason on stderr
        code, err = stopped.code, capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


@pytest.mark.parametrize(("card", "field"), [
    (("4242424242424241", 12, 2034, "123"), "number"),
    (("4242424242424242", 9, 2026, "123"), "expiry"),  # the desk's today is 2026-10-20
    (("4242424242424242", 12, 2034, "١٢٣"), "cvc"),
    (("378282246310005", 12, 2034, "123"), "cvc"),
])
def test_the_desk_checks_a_typed_card_for_every_caller_before_reserving(desk, dana, sandbox,
                                                                       card, field):
    from billing.card_entry import CardEntryError
    from billing.values import CardChoice
    from gateway import KeyedCard
    from tests.billing.conftest import full_balances

    before = ledger_state()
    with pytest.raises(CardEntryError) as refused:
        desk.pay(dana, full_balances(["INV-1001"]),
                 CardChoice(kind="keyed", keyed=KeyedCard(*card)))
    assert refused.value.field == field
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0
