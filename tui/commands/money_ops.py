"""`paydesk invoices | pay | payments | refund | offline-payment | firm | reconcile`: the payment
engine without the screens, for scripts, support staff and automated checks.

Each handler builds Paydesk through `billing.services.build_services`, prints one line per
item (or JSON with `--json`) and returns the exit status: 0 when everything asked for
succeeded; 1 when a payment or refund did not go through (declined, failed); 2 for bad
input or a broken rule (nothing changed); 3 when an outcome is still being verified.
"""

from __future__ import annotations

import argparse
from typing import Any

from tui.commands.money_handlers import (
    firm_details,
    invoices,
    offline_payment,
    pay,
    payments,
    reconcile,
    refund,
)
from tui.commands.money_run import PIN_ENV


def register(sub: Any) -> None:
    p = sub.add_parser("invoices", help="a client's payable invoices")
    p.add_argument("--client", required=True, metavar="EMAIL")
    _common(p, staff=False)
    p.set_defaults(func=invoices)

    p = sub.add_parser("pay", help="pay invoices by card: one transaction per invoice")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--client", metavar="EMAIL", help="the client paying (or paid for)")
    who.add_argument("--code", metavar="CODE", help="a payment link's code (one invoice)")
    p.add_argument("--invoice", action="append", default=[], metavar="NUMBER[=AMOUNT]",
                   help="an invoice and the amount (default: its balance); repeat for more")
    p.add_argument("--amount", metavar="X", help="with --code: the amount (default: balance)")
    card = p.add_mutually_exclusive_group(required=True)
    card.add_argument("--card", nargs="?", const="", metavar="-",
                      help="a card typed in: `--card -` reads one line NUMBER MM/YY CVC from "
                           "standard input; `--card` alone asks for it at a terminal, echo "
                           "off. A number as the argument only for Stripe's test cards in "
                           "test mode (anything else shows in `ps` and shell history)")
    card.add_argument("--saved-card", nargs="?", const="", metavar="PM_ID",
                      help="a card the client keeps on file (default: the newest)")
    card.add_argument("--reader", nargs="?", const="", metavar="READER_ID",
                      help="the card reader (default: the first)")
    p.add_argument("--keep-card", action="store_true",
                   help="with --card or --reader: the payer agreed to keep this card on file "
                        "for future payments (kept only if the payment succeeds)")
    p.add_argument("--exp", metavar="MM/YY", help="the card's expiry (asked for when missing)")
    p.add_argument("--cvc", metavar="NNN",
                   help="the security code: an argument only with Stripe's test cards in test "
                        "mode; otherwise on standard input with --card -, or asked for")
    p.add_argument("--postal-code", metavar="CODE", help="the postal code of the card's address")
    p.add_argument("--present", metavar="NUMBER", default="4242424242424242",
                   help="test mode, with --reader: the test card tapped on the reader")
    _common(p, staff=False, optional_staff=True)
    p.set_defaults(func=pay)

    p = sub.add_parser("payments", help="invoice payments (staff)")
    p.add_argument("--client", metavar="EMAIL")
    p.add_argument("--checkout", type=record_id, metavar="ID")
    p.add_argument("--status", metavar="STATUS")
    p.add_argument("--limit", type=int, default=200)
    _common(p, staff=True)
    p.set_defaults(func=payments)

    p = sub.add_parser("refund", help="refund an invoice payment or a whole checkout (staff)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--invoice-payment", type=record_id, metavar="ID")
    what.add_argument("--checkout", type=record_id, metavar="ID")
    p.add_argument("--amount", metavar="X", help="default: all that is left")
    p.add_argument("--reason", required=True, metavar="TEXT")
    _common(p, staff=True)
    p.set_defaults(func=refund)

    p = sub.add_parser("offline-payment",
                       help="record a check, cash or bank transfer over invoices (staff)")
    p.add_argument("--client", required=True, metavar="EMAIL")
    p.add_argument("--invoice", action="append", required=True, metavar="NUMBER=AMOUNT")
    p.add_argument("--method", required=True, choices=("check", "cash", "bank_transfer"))
    p.add_argument("--reference", default="", metavar="TEXT")
    p.add_argument("--allow-duplicate-reference", action="store_true",
                   help="record it even though the same reference is already recorded on "
                        "one of these invoices (a second payment with the same reference)")
    _common(p, staff=True)
    p.set_defaults(func=offline_payment)

    p = sub.add_parser("firm", help="the firm's time zone and the contact details printed on "
                                    "receipts and in emails (set: admin)")
    p.add_argument("--time-zone", metavar="NAME", help="an IANA name, e.g. America/New_York")
    p.add_argument("--address", action="append", metavar="LINE",
                   help="one line of the address; repeat for each line")
    p.add_argument("--phone", metavar="NUMBER")
    p.add_argument("--email", metavar="ADDRESS", help="also the sender of the firm's emails")
    _common(p, staff=True)
    p.set_defaults(func=firm_details)

    p = sub.add_parser("reconcile", help="settle unfinished checkouts and refunds with Stripe")
    p.add_argument("--min-age", type=seconds, default=0.0, metavar="SECONDS",
                   help="only those untouched for this long (default: all)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=reconcile)


def record_id(text: str) -> int:
    """A checkout's or invoice payment's number, as the payments list shows it."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 0 < int(value) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number such as 17")
    return int(value)


def seconds(text: str) -> float:
    """A number of seconds from 0 to a year."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 366 * 86400:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to "
                                         "31622400 (a year)")
    return value


def _common(p: argparse.ArgumentParser, *, staff: bool, optional_staff: bool = False) -> None:
    p.add_argument("--json", action="store_true", help="print JSON")
    if staff or optional_staff:
        p.add_argument("--staff", required=staff, metavar="NAME",
                       help=f"staff name; the PIN comes from {PIN_ENV} or a prompt")
