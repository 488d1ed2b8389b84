"""The command line run in-process (tui.cli.main) against the sandbox, for the CLI tests."""

from __future__ import annotations

import io
import sys

import pytest

from models import Checkout, Invoice, InvoicePayment, Refund
from tui.cli import main

DANA = "dana.whitfield@example.com"
# A Stripe test card in test mode: its expiry and CVC may be arguments.
EXP_CVC = ("--exp", "12/34", "--cvc", "123")


@pytest.fixture
def cli(demo_sqlite, sqlite_url, sandbox, tmp_path, monkeypatch, capsys):
    """run(*args, stdin=None) -> (exit status, stdout, stderr). Standard input is not a
    terminal (a StringIO), as in a script."""
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_cli")
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    monkeypatch.setenv("HOME", str(tmp_path))

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--db", sqlite_url, "--stripe-api-base", sandbox.url, *args])
        out, err = capsys.readouterr()
        return code, out, err
    return run


def ledger_state() -> tuple:
    """Everything a payment, refund or recording would change."""
    return (Checkout.select().count(), InvoicePayment.select().count(),
            Refund.select().count(),
            tuple(Invoice.select(Invoice.number, Invoice.paid_minor).order_by(Invoice.id)
                  .tuples()))
