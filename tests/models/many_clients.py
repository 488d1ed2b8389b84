"""A firm with many varied clients, cases and invoices, inserted in bulk, for the tests
of the lookups' indexes (the search, sign-in, reconciliation's scans)."""

from __future__ import annotations

import datetime as dt
import random

from models import database
from models.firm import Case, Client, Firm, PortalAccount
from models.invoices import Invoice

FIRST = ["Ana", "Émile", "Zoë", "Björn", "dana", "DANA", "Li", "O'Neil", "Ma", "Yusuf",
         "Ángel", "Chloé", "Jo", "Søren", "Mei", "Raj", "Eve", "Ola", "Ugo", "Xi"]
LAST = ["Whitfield", "Ørsted", "Nguyen", "Smith_Jones", "Müller", "Garcia", "100% Legal",
        "Ng", "Abbott", "ZZ Top", "Łukasz", "McDonald", "de la Cruz", "Kim", "O'Brien"]
DOMAINS = ["example.com", "MAIL.Example.org", "firm.co.uk", "x.io"]


def add_clients(count: int, *, seed: int = 7, invoices_each: int = 3) -> list[int]:
    """`count` clients of a new firm, each with a case or two and `invoices_each` invoices
    (numbers of varied shapes); returns the client ids."""
    rng = random.Random(seed)
    today = dt.date(2026, 1, 15)
    with database.atomic():
        firm = Firm.create(name=f"Firm {seed}", currency="USD",
                           statement_descriptor_prefix="FIRM")
        rows = []
        for i in range(count):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if rng.random() < 0.1:
                name = name.upper()
            email = f"{name.split()[0].lower()}.{i}@{rng.choice(DOMAINS)}"
            rows.append({"firm": firm.id, "name": name, "email": email})
        Client.insert_many(rows).execute()
        ids = [c.id for c in Client.select(Client.id).where(Client.firm == firm.id)
               .order_by(Client.id)]
        cases, case_of = [], {}
        for n, client_id in enumerate(ids):
            for k in range(1 + n % 2):
                number = f"{seed}-{rng.choice(['C', 'cs', 'MAT'])}-{n:05d}{'ab'[k]}"
                cases.append({"firm": firm.id, "client": client_id, "number": number,
                              "title": "Matter"})
        Case.insert_many(cases).execute()
        for case in Case.select(Case.id, Case.client).join(Client).where(Client.firm == firm.id):
            case_of.setdefault(case.client_id, case.id)
        invoices = []
        for n, client_id in enumerate(ids):
            for k in range(invoices_each):
                shape = rng.choice(["INV-{y}-{n:06d}", "inv{n}", "{y}/{n}-Ü", "B_{n:04d}%"])
                number = f"{seed}:{k}:" + shape.format(y=2020 + k, n=n)
                invoices.append({
                    "firm": firm.id, "case": case_of[client_id], "client": client_id,
                    "number": number, "issue_date": today, "due_date": today,
                    "status": "issued", "currency": "USD", "total_minor": 1000 + n,
                    "paid_minor": 0})
        for start in range(0, len(invoices), 500):
            Invoice.insert_many(invoices[start:start + 500]).execute()
        PortalAccount.insert_many(
            [{"client": c, "email": f"client{c}@{DOMAINS[c % 4]}",
              "password_hash": "unused"} for c in ids]).execute()
    return ids
