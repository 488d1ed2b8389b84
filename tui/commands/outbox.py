"""`paydesk receipt REFERENCE [--pdf FILE]` and `paydesk outbox send`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from billing.errors import BillingError
from billing.outbox import deliver_due
from billing.receipts import receipt_pdf, receipt_text
from models import bind, open_database
from models.db import DatabaseUrlError
from models.schema import upgrade


def register(sub: argparse._SubParsersAction) -> None:
    receipt = sub.add_parser(
        "receipt", help="print a receipt (R-000123 for a payment, RF-000007 for a refund)"
    )
    receipt.add_argument("reference", metavar="REFERENCE", help="the receipt number")
    receipt.add_argument("--pdf", metavar="FILE", help="write the receipt as PDF to FILE")
    receipt.set_defaults(func=_receipt)

    outbox = sub.add_parser("outbox", help="the confirmation emails waiting to be delivered")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION")
    outbox_sub.required = True
    send = outbox_sub.add_parser(
        "send", help="deliver the emails that are due (SMTP when configured, else .eml files)"
    )
    send.set_defaults(func=_send)

    # `--db` is also accepted after the command, as in `paydesk receipt R-000001 --db URL`.
    for parser in (receipt, send):
        parser.add_argument("--db", dest="db_after", metavar="URL", help=argparse.SUPPRESS)
        parser.set_defaults(
            setting_overrides=lambda a: {"database.url": getattr(a, "db_after", None)}
        )


def _fail(message: str, status: int = 1) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _open(settings):
    try:
        db = bind(open_database(settings.database_url))
    except DatabaseUrlError as exc:
        print(f"paydesk: database.url: {exc}", file=sys.stderr)
        return None
    upgrade(db)
    return db


def _receipt(args, settings) -> int:
    db = _open(settings)
    if db is None:
        return 2
    try:
        with db.connection_context():
            if args.pdf:
                data = receipt_pdf(args.reference)
            else:
                text = receipt_text(args.reference)
    except BillingError as exc:
        return _fail(exc.message)
    if not args.pdf:
        sys.stdout.write(text)
        return 0
    target = Path(args.pdf)
    try:
        target.write_bytes(data)
    except OSError as exc:
        return _fail(f"cannot write {target}: {exc.strerror or exc}")
    print(f"wrote receipt {args.reference.strip().upper()} to {target}")
    return 0


def _send(args, settings) -> int:
    db = _open(settings)
    if db is None:
        return 2
    try:
        with db.connection_context():
            report = deliver_due(settings.smtp, settings.outbox_dir)
    except BillingError as exc:
        return _fail(exc.message)
    smtp = settings.smtp
    where = f"SMTP {smtp.host}:{smtp.port}" if smtp.enabled else f".eml files in {settings.outbox_dir}"
    print(f"sent {report.sent}, failed {report.failed}, still queued {report.still_queued} ({where})")
    for error in report.errors:
        print(f"paydesk: {error}", file=sys.stderr)
    if report.failed:
        return _fail("some emails could not be delivered; they stay queued and will be retried")
    return 0
