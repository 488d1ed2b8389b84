"""Every gateway failure reaches the command line as one sentence on stderr and a non-zero
exit status, never a traceback: Stripe unreachable (a closed port) for each command that
calls Stripe, and an authorization whose answer is lost."""

from __future__ import annotations

import json
import socket

import pytest

from billing.desk import Desk
from gateway import GatewayMisconfigured, OutcomeUnknown, ReaderTimeout, StripeGateway
from models import Client, Invoice
from models.payments import InvoicePayment
from tui.cli import main

DANA = "dana.whitfield@example.com"
# A Stripe test card in test mode: its expiry and CVC may be arguments.
EXP_CVC = ("--exp", "12/34", "--cvc", "123")


def closed_port_url() -> str:
    """An address where nothing listens: the port was bound, then released."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def down() -> str:
    return closed_port_url()


@pytest.fixture
def cli(demo_sqlite, sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    monkeypatch.setenv("PAYDESK_STRIPE_MAX_NETWORK_RETRIES", "0")
    monkeypatch.setenv("HOME", str(tmp_path))

    def run(api_base: str, *args: str) -> tuple[int, str, str]:
        code = main(["--db", sqlite_url, "--stripe-api-base", api_base, *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def one_sentence(err: str) -> str:
    assert "Traceback" not in err and "Error:" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("paydesk: "), err
    return lines[0]


def no_payment_made() -> None:
    assert Invoice.get(Invoice.number == "INV-1001").paid_minor == 0
    assert InvoicePayment.select().where(InvoicePayment.status == "captured").count() == 0


def test_pay_with_the_saved_card_when_stripe_is_unreachable(cli, down):
    # Dana has a Stripe customer, so her saved cards must be read from Stripe.
    Client.update(stripe_customer_id="cus_dana").where(Client.email == DANA).execute()
    code, out, err = cli(down, "pay", "--client", DANA, "--invoice", "INV-1001", "--saved-card")
    assert code == 1 and out == ""
    line = one_sentence(err)
    assert "saved cards could not be read: Stripe did not answer" in line
    assert "Nothing was charged" in line
    no_payment_made()


@pytest.mark.parametrize("reader", [(), ("tmr_front_desk",)], ids=["first", "named"])
def test_pay_on_the_reader_when_stripe_is_unreachable(cli, down, reader):
    code, out, err = cli(down, "pay", "--client", DANA, "--invoice", "INV-1001", "--reader",
                         *reader)
    assert code == 1 and out == ""
    line = one_sentence(err)
    assert "card readers could not be listed: Stripe did not answer" in line
    assert "Nothing was charged" in line
    no_payment_made()


def test_pay_with_a_typed_card_when_stripe_is_unreachable(cli, down):
    code, out, err = cli(down, "pay", "--client", DANA, "--invoice", "INV-1001",
                         "--card", "4242424242424242", *EXP_CVC)
    assert code == 1
    assert one_sentence(err) == ("paydesk: Nothing was charged. We could not reach the card "
                                 "processor; please try again.")
    assert "4242424242424242" not in out + err
    no_payment_made()


def test_a_bad_api_key_is_a_sentence_too(cli, sandbox, monkeypatch):
    # The sandbox refuses live keys, as Stripe refuses a key it does not know.
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_notThisFirmsKey")
    Client.update(stripe_customer_id="cus_dana").where(Client.email == DANA).execute()
    code, _, err = cli(sandbox.url, "pay", "--client", DANA, "--invoice", "INV-1001",
                       "--saved-card")
    assert code == 1
    line = one_sentence(err)
    assert "Stripe refused Paydesk's API key" in line and "Nothing was charged" in line
    assert "sk_live_notThisFirmsKey" not in err


def test_refund_and_reconcile_when_stripe_is_unreachable_then_settled_once(cli, sandbox, down):
    code, _, err = cli(sandbox.url, "pay", "--client", DANA, "--invoice", "INV-1012",
                       "--card", "4242424242424242", *EXP_CVC)
    assert code == 0, err
    payment = InvoicePayment.get(InvoicePayment.status == "captured")

    code, out, err = cli(down, "refund", "--invoice-payment", str(payment.id),
                         "--reason", "duplicate", "--staff", "Front Desk")
    assert code == 3
    line = one_sentence(err)
    assert "the outcome of the refund is not known yet" in line
    assert "nothing will be refunded twice" in line
    assert out.split()[:3] == ["INV-1012", "$475.00", "verifying"]

    code, out, err = cli(down, "reconcile")
    assert code == 3
    assert "1 still unknown" in out
    line = one_sentence(err)
    assert "not settled yet" in line and "nothing will be charged or refunded twice" in line

    # Stripe answers again: reconciliation settles the refund, and it was made once.
    code, out, err = cli(sandbox.url, "reconcile", "--json")
    assert code == 0, err
    assert json.loads(out)["refunds_settled"] == 1
    assert sandbox.count("refund") == 1
    assert Invoice.get(Invoice.number == "INV-1012").paid_minor == 0


def test_a_lost_authorization_answer_says_the_outcome_is_not_known(cli, sandbox,
                                                                   monkeypatch):
    # Stripe does the authorization, then the answer is lost (the connection drops).
    authorize = StripeGateway.authorize

    def answer_lost(self, **request):
        sandbox.faults.drop_rate = 1.0
        return authorize(self, **request)
    monkeypatch.setattr(StripeGateway, "authorize", answer_lost)
    code, _, err = cli(sandbox.url, "pay", "--client", DANA, "--invoice", "INV-1001",
                       "--card", "4242424242424242", *EXP_CVC)
    assert code == 3
    line = one_sentence(err)
    assert "the outcome is not known yet" in line and "nothing will be charged twice" in line
    assert "Do not pay these invoices again" in line
    [held] = sandbox.objects("payment_intent")
    assert held["status"] == "requires_capture"

    # What the sentence promises: reconciliation finds the hold and releases it, once.
    sandbox.faults.drop_rate = 0.0
    monkeypatch.setattr(StripeGateway, "authorize", authorize)
    code, out, err = cli(sandbox.url, "reconcile", "--json")
    assert code == 0, err
    assert json.loads(out)["checkouts_settled"] == 1
    [released] = sandbox.objects("payment_intent")
    assert released["status"] == "canceled"
    no_payment_made()


@pytest.mark.parametrize(("error", "words"), [
    (OutcomeUnknown("no answer"), "Stripe did not answer"),
    (GatewayMisconfigured("Stripe refused Paydesk's API key."), "`paydesk doctor` checks"),
    (ReaderTimeout("No card was presented to the reader in time."), "Nothing was charged."),
])
def test_any_gateway_error_that_escapes_a_command_is_one_sentence(cli, sandbox, monkeypatch,
                                                                  error, words):
    def stripe_fails(self, payer):
        raise error
    monkeypatch.setattr(Desk, "payable_invoices", stripe_fails)
    code, out, err = cli(sandbox.url, "invoices", "--client", DANA)
    assert code == 1 and out == ""
    assert words in one_sentence(err)

    # Outside the payment commands too: the entry point itself turns it into a sentence.
    import tui.commands.money_ops as money_ops

    def handler(args, settings):
        raise error
    monkeypatch.setattr(money_ops, "invoices", handler)
    code, out, err = cli(sandbox.url, "invoices", "--client", DANA)
    assert code == 1 and out == ""
    assert words in one_sentence(err)
