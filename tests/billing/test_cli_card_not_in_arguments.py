"""Card numbers and CVCs are not command-line arguments (they show in `ps` and in shell
history): `--card -` reads one line `NUMBER MM/YY CVC` from standard input; `--card` alone
at a terminal asks for them with echo off; a number as the argument is refused (exit 2,
saying how to pass it) except Stripe's published test numbers in test mode."""

from __future__ import annotations

import getpass
import json

import pytest

from models import Invoice
from tests.billing.cli_support import DANA, EXP_CVC, cli, ledger_state

__all__ = ["cli"]
# Luhn-valid, a real brand, and not one of Stripe's published test numbers.
REAL_LOOKING = "4111111111111111"


def test_card_dash_reads_number_expiry_and_cvc_from_standard_input(cli, sandbox):
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card", "-",
                         "--json", stdin="5555 5555 5555 4444 12/34 321\n")
    assert code == 0, err
    [paid] = json.loads(out)["transactions"]
    assert paid["status"] == "captured" and paid["amount_minor"] == 10000
    assert "5555555555554444" not in out + err and "5555 5555" not in out + err
    assert Invoice.get(Invoice.number == "INV-1012").paid_minor == 10000


@pytest.mark.parametrize("line", ["", "4242424242424242\n", "4242424242424242 12/34\n"])
def test_card_dash_with_too_little_on_standard_input_is_refused(cli, sandbox, line):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card", "-",
                         stdin=line)
    assert code == 2 and out == ""
    assert "NUMBER MM/YY CVC" in err
    assert ledger_state() == before


def test_card_dash_takes_no_cvc_argument(cli):
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card", "-",
                       "--cvc", "123", stdin="4242424242424242 12/34 123\n")
    assert code == 2 and "same line of standard input" in err


def test_a_card_number_as_an_argument_is_refused_and_says_how_to_pass_it(cli, sandbox):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100",
                         "--card", REAL_LOOKING, "--exp", "12/34", "--cvc", "123")
    assert code == 2 and out == ""
    assert "--card -" in err and "NUMBER MM/YY CVC" in err and "(ps)" in err
    assert REAL_LOOKING not in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


def test_a_test_card_argument_is_refused_with_a_live_key(cli, sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_notThisFirmsKey")
    before = ledger_state()
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100",
                       "--card", "4242424242424242", *EXP_CVC)
    assert code == 2 and "--card -" in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


def test_at_a_terminal_the_card_and_cvc_are_asked_for_with_echo_off(cli, sandbox,
                                                                    monkeypatch):
    asked: list[tuple[str, str]] = []

    def secret(prompt: str = "") -> str:
        asked.append(("echo off", prompt))
        return {"Card number: ": "4242 4242 4242 4242", "CVC: ": "123"}[prompt]

    from tui.commands import common

    monkeypatch.setattr(common, "has_terminal", lambda: True)
    monkeypatch.setattr(getpass, "getpass", secret)
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card",
                         "--json", stdin="12/34\n")  # the expiry is typed, visibly
    assert code == 0, err
    assert asked == [("echo off", "Card number: "), ("echo off", "CVC: ")]
    assert err.startswith("Expiry (MM/YY): ")  # prompts never mix with the output
    [paid] = json.loads(out)["transactions"]
    assert (paid["invoice"], paid["amount_minor"], paid["status"]) == ("INV-1012", 10000,
                                                                       "captured")


def test_a_cvc_argument_is_refused_with_a_card_that_is_not_a_test_card(cli, sandbox,
                                                                      monkeypatch):
    from tui.commands import common

    monkeypatch.setattr(common, "has_terminal", lambda: True)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": REAL_LOOKING)
    before = ledger_state()
    code, _, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card",
                       "--exp", "12/34", "--cvc", "123")
    assert code == 2
    assert "A CVC given as an argument" in err and "--card -" in err
    assert ledger_state() == before


def test_card_alone_without_a_terminal_says_how_to_pass_it(cli, sandbox):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012=100", "--card")
    assert code == 2 and out == ""
    assert "no terminal to ask for it" in err and "--card -" in err
    assert "Traceback" not in err
    assert ledger_state() == before
