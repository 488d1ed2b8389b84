"""No routing or account number beyond the last four digits in the database, the outbox
or the logs, after a bank debit settles and one fails (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging

from billing.emails import parse_message
from billing.event_sync import read_events
from models import OutboundEmail, database
from tests.billing.bank_support import DELAY, FAILS, ROUTING, SUCCEEDS, pay_three


def _database_dump() -> str:
    out = []
    for table in database.get_tables():
        cursor = database.execute_sql(f'SELECT * FROM "{table}"')
        out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out)


def _outbox_text() -> str:
    parts = []
    for email in OutboundEmail.select():
        parts.append(email.message)
        for part in parse_message(email.message).walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
    return "\n".join(parts)


def test_only_the_last_four_digits_are_ever_kept(desk, dana, gateway, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    pay_three(desk, dana, sandbox, numbers=("INV-1001",))
    pay_three(desk, dana, sandbox, account=FAILS, numbers=("INV-1004",))
    sandbox.advance_clock(DELAY)
    read_events(gateway)

    dump, outbox = _database_dump(), _outbox_text()
    logs = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    # The SQL sent (with its parameters) and the Stripe SDK's requests were logged.
    assert {"peewee", "stripe"} <= {r.name for r in caplog.records}
    assert "6789" in dump and "1116" in dump  # the last four digits are kept
    assert "6789" in outbox and "1116" in outbox
    for number in (ROUTING, SUCCEEDS, FAILS):
        assert number not in dump
        assert number not in outbox
        assert number not in logs
    # Not even with the separators a person may type.
    for spaced in ("0001 2345 6789", "000-123-456-789"):
        assert spaced not in dump and spaced not in outbox
