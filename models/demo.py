"""The demo firm, Harbor & Vale LLP: the same data every time it is seeded.

Dana Whitfield's invoices are exactly those the demo walk-through and the tests rely on;
the other clients are generated from a fixed seed.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from models.db import database
from models.demo_bank import seed_bank_debits
from models.demo_sign_ins import DANA_EMAIL, DANA_PASSWORD, DEMO_STAFF, FIRM_NAME
from models.firm import Case, Client, Firm, PortalAccount, Staff
from models.invoices import Invoice, InvoiceLine, InvoiceShare, PaymentPlan, PlanInstalment
from models.payments import Checkout, InvoicePayment
from models.records import AuditEntry
from models.security import hash_payment_code

FIRM_TIME_ZONE = "America/New_York"
FIRM_ADDRESS = "200 Harbor Street, Suite 410\nPortland, ME 04101"
FIRM_PHONE = "(207) 555-0142"
FIRM_EMAIL = "billing@harborvale.example"
# The demo's PINs and passwords, hashed once with models.security's parameters: seeding hashes
# nothing, so a first `paydesk demo` is not held up by a dozen argon2 hashes. (tests/models
# checks that each still verifies its secret with today's parameters.)
DEMO_HASHES = {  # noqa: S105 - hashes of the published demo sign-ins
    "2468": "$argon2id$v=19$m=19456,t=2,p=1$Gx7hhhqiY6PWHe76ecFdYg$HK5nBZ3QNfpWhaFpy75nLBrg7H3Tnl8V1llFnxulJs0",
    "1357": "$argon2id$v=19$m=19456,t=2,p=1$jqOEYllOsvlQk3y8PM11Aw$XiP01bxGmAOCIbDJdd4ggV0rL/BRFYAvfch9J+M5/pA",
    "demo-dana": "$argon2id$v=19$m=19456,t=2,p=1$ZbCiNWx0eRUELjX3xOKE4A$MQXmkuvd3An/KaC2nIKZIUhpelExhKN7llChGZgHDxI",
    "demo-marcus": "$argon2id$v=19$m=19456,t=2,p=1$MxzJeA1NuxZVUloClE52RQ$R+Y+LxoF3Q+WF2dEnmYHxX2W0Hkv4kl6OZb5SdTav5c",
    "demo-tobias": "$argon2id$v=19$m=19456,t=2,p=1$ok74ga0RpJZo2lQmDZM/FQ$eCSx6jCtzcjmaI81gmTpHB4QQRGTElh/pXVZDrsj1iE",
    "demo-lena": "$argon2id$v=19$m=19456,t=2,p=1$wOC6vwNgnVc4M2MD1Tpe4A$gnpr+EzICLIQ8hMULiwutJmlpLRP5vqM9lV6REMQ9PQ",
    "demo-samuel": "$argon2id$v=19$m=19456,t=2,p=1$/RAWKW8ZrQ26HH5udlx44Q$hktgmK5G9+TppT/ovnESFiiOSblDsPrtcGnrdvPwDrQ",
    "demo-rosa": "$argon2id$v=19$m=19456,t=2,p=1$5g2MPY9qocbeD9Re4yVMQw$FHJYYBnwHcpygRaCcQI3tgLbU7uOD92gN9SWfHyCRMg",
    "demo-noah": "$argon2id$v=19$m=19456,t=2,p=1$Lc+4TXF77SBOVvVvBX+E3A$HbdsUGmG7J+aHE50eDVdUfHnzcls7MfOESsmds+D2NU",
    "demo-maya": "$argon2id$v=19$m=19456,t=2,p=1$iYxldBpY6mkJIot6Nw7/3Q$U1vTj18euAksTdZM8jGFfR5VVhi7NX+bZf0koBIuhXA",
    "demo-ibrahim": "$argon2id$v=19$m=19456,t=2,p=1$kLcbqy0tPilO98CAIbYWsw$cUP9ahUqqanDFOWqxT+jFHyD9ow5VYzPd9fqpZ+W7h0",
}
# Seeded timestamps are fixed so that every seed gives the same rows.
SEEDED_AT = dt.datetime(2026, 10, 1, 9, 0, 0)  # noqa: DTZ001 - stored as naive UTC
BASE_DATE = dt.date(2026, 9, 1)


@dataclass(frozen=True)
class _DemoInvoice:
    number: str
    case: str
    total: int
    paid: int
    shares: tuple[tuple[str, str | None], ...]  # (channel, payment code for links)
    status: str = "issued"
    plan: int = 0  # number of monthly instalments


DANA_CASES = (
    ("WHI-2024-017", "Whitfield v. Marlow Construction"),
    ("WHI-2025-003", "Estate of Harold Whitfield"),
    ("WHI-2025-021", "Whitfield Trust Amendment"),
)
DANA_INVOICES = (
    _DemoInvoice("INV-1001", "WHI-2024-017", 125000, 0, (("email", None),)),
    _DemoInvoice("INV-1004", "WHI-2024-017", 83050, 30000, (("portal", None),)),
    _DemoInvoice("INV-1009", "WHI-2024-017", 240000, 0, (("email", None),), plan=4),
    _DemoInvoice("INV-1012", "WHI-2025-003", 47500, 0, (("portal", None),)),
    _DemoInvoice("INV-1013", "WHI-2025-003", 19000, 0, (("text_link", "LINK-1013"),)),
    _DemoInvoice("INV-1015", "WHI-2025-003", 64000, 0, (), status="draft"),
    _DemoInvoice("INV-1020", "WHI-2025-021", 30000, 30000, (("email", None),)),
    _DemoInvoice(
        "INV-1021", "WHI-2025-021", 9525, 0, (("email", None), ("copied_link", "LINK-1021"))
    ),
)

_FIRST = ("Marcus", "Priya", "Elena", "Tobias", "Grace", "Omar", "Lena", "Victor", "Hana",
          "Samuel", "Ines", "Felix", "Rosa", "Kenji", "Adaeze", "Noah", "Sofia", "Liam",
          "Maya", "Daniel", "Clara", "Ibrahim")
_LAST = ("Okafor", "Lindqvist", "Moreau", "Patel", "Castillo", "Nakamura", "Brennan",
         "Haddad", "Kowalski", "Ferreira", "Osei", "Duarte", "Whitaker", "Yamada", "Novak",
         "Achebe", "Larsen", "Quinn", "Romero", "Stein", "Varga", "Zhou")
_MATTERS = ("Lease Dispute", "Estate Planning", "Contract Review", "Employment Claim",
            "Property Purchase", "Custody Agreement", "Business Formation", "Trademark Filing")
_SERVICES = ("Consultation", "Drafting and review", "Court filing fees", "Correspondence",
             "Research memorandum", "Hearing attendance", "Document production", "Mediation")


def _lines(rng: random.Random, total: int) -> list[int]:
    """Split `total` into 1-4 positive line amounts."""
    count = rng.randint(1, 4) if total >= 400 else 1
    cuts = sorted(rng.sample(range(1, total // 100), count - 1)) if count > 1 else []
    points = [0, *(c * 100 for c in cuts), total]
    return [b - a for a, b in zip(points, points[1:], strict=False)]


def _add_invoice(firm, client, case, spec: _DemoInvoice, issue: dt.date, rng, staff) -> Invoice:
    invoice = Invoice.create(
        firm=firm, case=case, client=client, number=spec.number, issue_date=issue,
        due_date=issue + dt.timedelta(days=30), status=spec.status, currency=firm.currency,
        total_minor=spec.total, paid_minor=spec.paid,
    )
    for position, amount in enumerate(_lines(rng, spec.total), start=1):
        InvoiceLine.create(
            invoice=invoice, position=position, service_date=issue - dt.timedelta(days=position),
            description=rng.choice(_SERVICES), amount_minor=amount,
        )
    for channel, code in spec.shares:
        InvoiceShare.create(
            invoice=invoice, channel=channel, shared_at=SEEDED_AT,
            recipient=client.email if channel in ("email", "portal") else client.phone,
            code_hash=hash_payment_code(code) if code else None,
        )
    if spec.plan:
        plan = PaymentPlan.create(invoice=invoice, created_at=SEEDED_AT)
        for sequence in range(1, spec.plan + 1):
            PlanInstalment.create(
                plan=plan, sequence=sequence, amount_minor=spec.total // spec.plan,
                due_date=(issue.replace(day=1) + dt.timedelta(days=31 * sequence)).replace(day=1),
            )
    if spec.paid:
        _record_earlier_payment(firm, client, invoice, spec.paid, staff)
    return invoice


def _record_earlier_payment(firm, client, invoice, amount: int, staff) -> None:
    """A check received before the demo starts, so paid amounts have their history."""
    checkout = Checkout.create(
        firm=firm, client=client, payer_kind="staff", staff=staff, payer_email=client.email,
        method="check", status="succeeded", currency=invoice.currency, total_minor=amount,
        reference=f"CHK-{invoice.number[-4:]}", terminal="demo-seed",
        created_at=SEEDED_AT, updated_at=SEEDED_AT,
    )
    payment = InvoicePayment.create(
        checkout=checkout, invoice=invoice, amount_minor=amount, status="recorded",
        completed_at=SEEDED_AT,
    )
    payment.receipt_number = f"R-{payment.id:06d}"
    payment.save()
    AuditEntry.create(
        at=SEEDED_AT, actor=f"staff:{staff.name}", action="offline_payment.record",
        subject=f"invoice:{invoice.number}", result="recorded", terminal="demo-seed",
        details=f"check {checkout.reference} amount_minor={amount}",
    )


def seed_demo(*, bank_debits: bool = False) -> bool:
    """Create the demo firm in the bound database; with `bank_debits`, also the two clients
    whose bank debits are pending and failed (the demo app and `paydesk db seed` ask for
    them; the tests' demo firm leaves them out unless a test adds them with
    `add_demo_bank_debits`). Returns False when the demo firm is already there (a demo database made before the firm had a time zone and contact
    details gets the demo's, and nothing else changes)."""
    with database.atomic():
        if Firm.select().where(Firm.name == FIRM_NAME).exists():
            Firm.update(time_zone=FIRM_TIME_ZONE, address=FIRM_ADDRESS, phone=FIRM_PHONE,
                        email=FIRM_EMAIL).where(
                (Firm.name == FIRM_NAME) & (Firm.address == "") & (Firm.email == "")
            ).execute()
            return False
        rng = random.Random(20241017)  # noqa: S311 - demo data, not secrets
        firm = Firm.create(
            name=FIRM_NAME, currency="USD", locale="en_US", online_payments_enabled=True,
            multi_invoice_payments_enabled=True, statement_descriptor_prefix="HARBORVALE",
            time_zone=FIRM_TIME_ZONE, address=FIRM_ADDRESS, phone=FIRM_PHONE, email=FIRM_EMAIL,
        )
        staff = [
            Staff.create(firm=firm, name=name, role=role, pin_hash=DEMO_HASHES[pin])
            for name, role, pin in DEMO_STAFF
        ]
        dana = Client.create(firm=firm, name="Dana Whitfield", email=DANA_EMAIL,
                             phone="+1 555 0100")
        PortalAccount.create(client=dana, email=DANA_EMAIL,
                             password_hash=DEMO_HASHES[DANA_PASSWORD])
        cases = {
            number: Case.create(firm=firm, client=dana, number=number, title=title)
            for number, title in DANA_CASES
        }
        for i, spec in enumerate(DANA_INVOICES):
            _add_invoice(firm, dana, cases[spec.case], spec,
                         BASE_DATE + dt.timedelta(days=3 * i), rng, staff[0])
        _seed_other_clients(firm, rng, staff[0])
        if bank_debits:
            add_demo_bank_debits()
    return True


def add_demo_bank_debits() -> None:
    """The demo's pending and failed bank debits (models.demo_bank), added after every
    other row so that the generated clients stay as they were."""
    with database.atomic():
        seed_bank_debits(Firm.get(Firm.name == FIRM_NAME), BASE_DATE + dt.timedelta(days=49))


def _seed_other_clients(firm, rng: random.Random, staff) -> None:
    taken = {spec.number for spec in DANA_INVOICES}
    numbers = (f"INV-{n}" for n in range(1001, 2000) if f"INV-{n}" not in taken)
    for index in range(22):
        first, last = _FIRST[index], _LAST[index]
        client = Client.create(
            firm=firm, name=f"{first} {last}", email=f"{first}.{last}@example.com".lower(),
            phone=f"+1 555 01{index + 10:02d}",
        )
        if index % 3 == 0:
            PortalAccount.create(client=client, email=client.email,
                                 password_hash=DEMO_HASHES[f"demo-{first.lower()}"])
        for c in range(1 + index % 2):
            case = Case.create(
                firm=firm, client=client, number=f"{last[:3].upper()}-2025-{index * 2 + c + 30:03d}",
                title=f"{last} {rng.choice(_MATTERS)}",
            )
            for _ in range(rng.randint(1, 3)):
                total = rng.randint(8, 400) * 2500
                paid = rng.choice((0, 0, 0, total // 2))
                channel = rng.choice(("email", "portal", "email", "text_link"))
                code = f"LINK-{rng.randint(100000, 999999)}" if channel == "text_link" else None
                spec = _DemoInvoice(next(numbers), case.number, total, paid, ((channel, code),),
                                    status=rng.choice(("issued", "issued", "issued", "draft")))
                _add_invoice(firm, client, case, spec,
                             BASE_DATE + dt.timedelta(days=rng.randint(0, 60)), rng, staff)
