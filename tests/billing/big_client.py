"""A client of the demo firm with thousands of invoices across hundreds of cases, every
one shared by email and one in ten on a payment plan, inserted in bulk through the models:
for the payment page's query count and its benchmark (bench/payment_page.py)."""

from __future__ import annotations

import datetime as dt

from models import database
from models.firm import Case, Client, Firm
from models.invoices import Invoice, InvoiceShare, PaymentPlan, PlanInstalment

START = dt.date(2026, 1, 5)
EMAIL = "big.client@example.com"


def add_big_client(invoices: int = 2000, cases: int = 200) -> Client:
    """A new client of the firm in the bound database (seed it first) with `invoices`
    issued invoices, round-robin across `cases` cases, none paid in full."""
    firm = Firm.get()
    with database.atomic():
        client = Client.create(firm=firm, name="Big Client Holdings", email=EMAIL)
        Case.insert_many([
            {"firm": firm.id, "client": client.id, "number": f"BIG-{c:04d}",
             "title": f"Matter number {c}"}
            for c in range(cases)
        ]).execute()
        case_ids = [c.id for c in Case.select(Case.id).where(Case.client == client)
                    .order_by(Case.number)]
        rows = []
        for n in range(invoices):
            total = 5000 + (n * 7919) % 500000
            rows.append({
                "firm": firm.id, "case": case_ids[n % cases], "client": client.id,
                "number": f"INV-{20000 + n}", "issue_date": START + dt.timedelta(days=n % 300),
                "due_date": START + dt.timedelta(days=30 + n % 300), "status": "issued",
                "currency": firm.currency, "total_minor": total,
                "paid_minor": (total // 3) if n % 7 == 0 else 0,
            })
        for start in range(0, len(rows), 500):
            Invoice.insert_many(rows[start:start + 500]).execute()
        ids = [i.id for i in Invoice.select(Invoice.id).where(Invoice.client == client)
               .order_by(Invoice.id)]
        shares = [{"invoice": i, "channel": "email", "recipient": EMAIL} for i in ids]
        for start in range(0, len(shares), 500):
            InvoiceShare.insert_many(shares[start:start + 500]).execute()
        for n in range(0, len(ids), 10):  # ids are in the order the rows were inserted
            plan = PaymentPlan.create(invoice=ids[n])
            PlanInstalment.insert_many([
                {"plan": plan.id, "sequence": s, "amount_minor": rows[n]["total_minor"] // 4,
                 "due_date": START + dt.timedelta(days=30 * s)}
                for s in (1, 2, 3, 4)
            ]).execute()
    return client
