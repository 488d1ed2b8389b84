"""`paydesk invoices | pay | payments | refund | offline-payment | reconcile`, run through the
real entry point against the sandbox: output, JSON fields and exit statuses."""

from __future__ import annotations

import json

import pytest

from models import Invoice
from tui.cli import main

DANA = "dana.whitfield@example.com"
# A Stripe test card in test mode: its expiry and CVC may be arguments.
EXP_CVC = ("--exp", "12/34", "--cvc", "123")


@pytest.fixture
def cli(demo_sqlite, sqlite_url, sandbox, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    monkeypatch.setenv("HOME", str(tmp_path))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", sqlite_url, "--stripe-api-base", sandbox.url, *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def test_invoices_json_lists_the_payable_invoices_with_their_fields(cli):
    code, out, _ = cli("invoices", "--client", DANA, "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["number"] for r in rows] == ["INV-1001", "INV-1004", "INV-1009", "INV-1012",
                                           "INV-1021"]
    first = rows[0]
    assert {"number", "case", "due_date", "total", "balance", "balance_minor", "currency",
            "instalment_due"} <= set(first)
    assert (first["case"], first["balance"], first["balance_minor"], first["currency"]) == (
        "WHI-2024-017", "1250.00", 125000, "USD")
    plan = next(r for r in rows if r["number"] == "INV-1009")
    assert plan["instalment_due"]["amount_minor"] == 60000


def test_pay_prints_one_line_per_invoice_and_exits_0(cli, sandbox):
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=1250.00",
                         "--invoice", "INV-1004=100", "--card", "4242 4242 4242 4242", *EXP_CVC)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("INV-1001  $1,250.00  captured  pi_")
    assert lines[1].split()[:3] == ["INV-1004", "$100.00", "captured"]
    assert lines[1].split()[-1].startswith("R-")
    assert Invoice.get(Invoice.number == "INV-1004").paid_minor == 30000 + 10000
    assert "4242424242424242" not in out + err


def test_pay_with_a_declining_card_exits_1_with_the_reason(cli, sandbox):
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1001",
                       "--card", "4000000000000002", *EXP_CVC, "--json")
    assert code == 1
    assert "declined" in err.lower()
    assert Invoice.get(Invoice.number == "INV-1001").paid_minor == 0


@pytest.mark.parametrize(("args", "message"), [
    (("--invoice", "INV-1015"), "INV-1015 is not payable"),
    (("--invoice", "INV-1001=0"), "more than zero"),
    (("--invoice", "INV-1001=9999"), "more than the balance"),
    (("--invoice", "INV-1001=abc"), "Enter an amount"),
])
def test_pay_with_bad_input_exits_2_and_changes_nothing(cli, sandbox, args, message):
    code, out, err = cli("pay", "--client", DANA, *args, "--card", "4242424242424242", *EXP_CVC)
    assert code == 2
    assert message in err and out == ""
    assert sandbox.count("payment_intent") == 0


def test_pay_by_code_pays_that_invoice(cli):
    code, out, err = cli("pay", "--code", "LINK-1013", "--amount", "90.00",
                         "--card", "5555555555554444", *EXP_CVC)
    assert code == 0, err
    assert out.split()[:3] == ["INV-1013", "$90.00", "captured"]


def test_staff_list_payments_refund_and_record_a_check(cli):
    assert cli("pay", "--client", DANA, "--invoice", "INV-1012",
               "--card", "4242424242424242", *EXP_CVC)[0] == 0
    code, out, _ = cli("payments", "--client", DANA, "--staff", "Front Desk", "--json")
    assert code == 0
    card_rows = [r for r in json.loads(out) if r["method"] == "card_keyed"]
    assert len(card_rows) == 1 and card_rows[0]["amount_minor"] == 47500
    payment_id = card_rows[0]["invoice_payment"]
    code, out, err = cli("refund", "--invoice-payment", str(payment_id), "--amount", "75.00",
                         "--reason", "discount", "--staff", "Front Desk")
    assert code == 0, err
    assert out.split()[:3] == ["INV-1012", "$75.00", "succeeded"]
    code, out, err = cli("refund", "--invoice-payment", str(payment_id), "--amount", "9999",
                         "--reason", "too much", "--staff", "Front Desk")
    assert code == 2 and "more than what is left to refund" in err
    code, out, err = cli("offline-payment", "--client", DANA, "--invoice", "INV-1001=200",
                         "--invoice", "INV-1021=95.25", "--method", "check",
                         "--reference", "CHK-77", "--staff", "Front Desk")
    assert code == 0, err
    assert [line.split()[2] for line in out.strip().splitlines()] == ["recorded", "recorded"]


def test_a_wrong_staff_pin_exits_2(cli, monkeypatch):
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "0000")
    code, out, err = cli("payments", "--staff", "Front Desk")
    assert code == 2 and "Wrong name or PIN" in err and out == ""


def test_reconcile_reports_and_exits_0(cli):
    code, out, _ = cli("reconcile", "--json")
    assert code == 0
    assert json.loads(out) == {"checkouts_settled": 0, "refunds_settled": 0,
                               "still_unknown": 0, "notes": []}


def test_pay_on_the_card_reader_then_saved_card_then_refund_the_whole_checkout(cli, sandbox):
    # The reader: the simulated reader is tapped with a test card once it is waiting.
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=475",
                         "--invoice", "INV-1021", "--reader", "--keep-card",
                         "--staff", "Front Desk", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert [t["status"] for t in result["transactions"]] == ["captured", "captured"]
    # The card the reader yielded is now one of the client's saved cards (the payer agreed).
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1001=100",
                         "--saved-card")
    assert code == 0, err
    assert out.split()[:3] == ["INV-1001", "$100.00", "captured"]

    checkout = result["checkout"]
    code, out, _ = cli("payments", "--checkout", str(checkout), "--staff", "Front Desk",
                       "--json")
    assert code == 0
    assert sorted(r["invoice"] for r in json.loads(out)) == ["INV-1012", "INV-1021"]
    code, out, err = cli("refund", "--checkout", str(checkout), "--reason", "cancelled matter",
                         "--staff", "Front Desk")
    assert code == 0, err
    assert sorted(line.split()[0] for line in out.strip().splitlines()) == ["INV-1012",
                                                                            "INV-1021"]
    assert all(line.split()[2] == "succeeded" for line in out.strip().splitlines())
    assert Invoice.get(Invoice.number == "INV-1012").paid_minor == 0
    assert Invoice.get(Invoice.number == "INV-1021").paid_minor == 0
    assert sandbox.count("refund") == 2
