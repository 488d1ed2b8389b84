"""The payment page's invoices are read with a fixed number of queries: a client with
2,000 invoices across 200 cases costs no more than one with 5 (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from playhouse.test_utils import count_queries

from billing.clients import payable_for
from billing.values import Payer
from models.demo import DANA_EMAIL
from models.firm import Client
from tests.billing.big_client import add_big_client

TODAY = dt.date(2026, 11, 24)


def _payer(client: Client) -> Payer:
    return Payer(kind="client", client_id=client.id, client_name=client.name,
                 email=client.email)


def test_2000_invoices_take_no_more_queries_than_5(demo_db):
    dana = Client.get(Client.email == DANA_EMAIL)
    big = add_big_client(invoices=2000, cases=200)
    with count_queries() as five:
        few = payable_for(_payer(dana), today=TODAY)
    with count_queries() as thousands:
        many = payable_for(_payer(big), today=TODAY)
    assert len(few) == 5
    assert len(many) == 2000
    assert len({i.case_number for i in many}) == 200
    # Plans are read with the invoices, not one query per invoice.
    assert sum(1 for i in many if i.instalment_due is not None) == 200
    assert thousands.count == five.count
    # Invoices, their plans, what open checkouts hold.
    assert five.count == 3
