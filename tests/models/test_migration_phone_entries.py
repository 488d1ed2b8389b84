"""Migration 0009 (cards entered on the payer's phone): up, down and up again on SQLite and
PostgreSQL, and the guards the database keeps on the entries."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from models import Client, Invoice, PhoneEntry, PhoneEntryInvoice, bind, open_database
from models.schema import _runner, upgrade

NAME = "0009_phone_entries"
TABLES = {"phone_entry", "phone_entry_invoice"}


def test_up_down_up(database_url):
    db = bind(open_database(database_url))
    assert NAME in upgrade(db)
    with db.connection_context():
        assert TABLES <= set(db.get_tables())
        runner = _runner(db)
        while NAME in {m.name for m in runner.status() if m.applied}:
            runner.down()
        assert not TABLES & set(db.get_tables())
    assert NAME in upgrade(db)
    with db.connection_context():
        assert TABLES <= set(db.get_tables())


def _entry(key: str = "k1") -> PhoneEntry:
    return PhoneEntry.create(client=Client.select().first(), payer_kind="client",
                             currency="USD", setup_key=f"setup-{key}",
                             expire_key=f"expire-{key}",
                             expires_at=dt.datetime(2026, 10, 20, 12, 30),
                             stripe_expires_at=1_800_000_000, terminal="t")


def test_one_idempotency_key_per_page(demo_db):
    _entry()
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        _entry()


@pytest.mark.parametrize("amount", [0, -5])
def test_an_amount_is_more_than_zero(demo_db, amount):
    entry = _entry()
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        PhoneEntryInvoice.create(entry=entry, invoice=Invoice.select().first(),
                                 amount_minor=amount)


def test_an_invoice_is_listed_once_per_page(demo_db):
    entry, invoice = _entry(), Invoice.select().first()
    PhoneEntryInvoice.create(entry=entry, invoice=invoice, amount_minor=100)
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        PhoneEntryInvoice.create(entry=entry, invoice=invoice, amount_minor=200)


def test_a_status_outside_the_list_is_refused(demo_db):
    entry = _entry()
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        PhoneEntry.update(status="paid").where(PhoneEntry.id == entry.id).execute()
