"""The command line shows no more than the screens: a payment-code payer's output has
nothing of the client (no email, no name), and a receipt, which names the client and whose
numbers follow one another, is read only after a staff sign-in."""

from __future__ import annotations

import json

import pytest

from tests.billing.cli_support import DANA, EXP_CVC, cli

__all__ = ["cli"]


def test_a_code_payer_sees_nothing_of_the_client(cli):
    for extra in (("--json",), ()):
        code, out, err = cli("pay", "--code", "LINK-1013", "--amount", "10",
                             "--card", "4242424242424242", *EXP_CVC, *extra)
        assert code == 0, err
        assert DANA not in out + err and "Whitfield" not in out + err
    code, out, _ = cli("pay", "--code", "LINK-1013", "--amount", "10",
                       "--card", "4242424242424242", *EXP_CVC, "--json")
    assert json.loads(out)["email_to"] is None


def test_a_client_payer_still_sees_where_the_confirmation_goes(cli):
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1021",
                         "--card", "4242424242424242", *EXP_CVC, "--json")
    assert code == 0, err
    assert json.loads(out)["email_to"] == DANA


@pytest.fixture
def receipt(cli) -> str:
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1021",
                         "--card", "4242424242424242", *EXP_CVC)
    assert code == 0, err
    return out.split()[-1]


def test_a_receipt_needs_a_staff_sign_in(cli, receipt, monkeypatch):
    assert receipt.startswith("R-")
    with pytest.raises(SystemExit) as stopped:  # --staff is required
        cli("receipt", receipt)
    assert stopped.value.code == 2

    monkeypatch.setenv("PAYDESK_STAFF_PIN", "0000")
    code, out, err = cli("receipt", receipt, "--staff", "Front Desk")
    assert code == 2 and out == ""
    assert "Wrong name or PIN" in err and "Whitfield" not in err

    monkeypatch.delenv("PAYDESK_STAFF_PIN")
    code, out, err = cli("receipt", receipt, "--staff", "Front Desk")
    assert code == 2 and out == "" and "PAYDESK_STAFF_PIN" in err

    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    code, out, err = cli("receipt", receipt, "--staff", "Front Desk")
    assert code == 0, err
    assert receipt in out and "Dana Whitfield" in out
