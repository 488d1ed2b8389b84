"""The big firm of bench/big_firm.py, written with bulk inserts: executemany on SQLite,
COPY on PostgreSQL. Ids are given, so no row is read back while writing."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterable, Iterator

import peewee as pw

from models.security import hash_payment_code

CLIENTS, INVOICES_EACH, CASES_EACH = 100_000, 10, 2
CHECKOUTS, OPEN_CHECKOUTS = 255_000, 300
REFUNDS, OPEN_REFUNDS = 20_000, 20
# Reconciliation's "untouched since"; stored times are naive UTC, as Paydesk stores them.
CUTOFF = dt.datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001
RARE_CLIENT, RARE_NAME = 77_777, "Petra Quillfeather"
FIRST = ("Ana Ben Carla Dana Emil Farah Gus Hana Ivan Jade Kofi Lena Marco Nia Omar Pia Quinn "
         "Rosa Sami Tara Uma Victor Wen Xavier Yara Zane Ada Bruno Chloe Diego Elif Femi Greta "
         "Hugo Ines Jonas Kira Luis Maya Nico Olga Pablo Rhea Soren Tomas Ursula Vera Will "
         "Yusuf Zoe").split()
LAST = ("Abbott Baker Chen Dubois Evans Fischer Garcia Haddad Ito Jensen Kowalski Larsen "
        "Moreau Novak Okafor Patel Quist Rossi Santos Tanaka Ueda Varga Whitfield Xu Young "
        "Zimmer Andersen Bianchi Costa Dalton Eriksen Ferreira Gomez Horvat Ibrahim Jovanovic "
        "Kim Lopez Muller Nguyen Olsen Petrov Ramos Schmidt Torres Usman Vogel Weber Yilmaz "
        "Zhang Adler Berg Carter Dunn Ellis Ford Grant Hayes Irwin Jones Keller Lambert Mason "
        "Nash Owens Price Reed Stone Turner Vance Walsh Yates").split()
DOMAINS = ("example.com", "mail.example.org", "law.example.net", "post.example")


def _text(value) -> str:
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def bulk(db: pw.Database, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
         chunk: int = 50_000) -> int:
    """Insert `rows` into `table`; returns how many."""
    count = 0
    batch: list[tuple] = []

    def flush() -> None:
        if not batch:
            return
        if isinstance(db, pw.PostgresqlDatabase):
            data = io.StringIO("".join("\t".join(_text(v) for v in row) + "\n" for row in batch))
            db.cursor().copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN', data)
        else:
            marks = ", ".join("?" for _ in columns)
            db.cursor().executemany(
                f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', batch)
        batch.clear()

    with db.atomic():
        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= chunk:
                flush()
        flush()
    return count


def _name(n: int) -> tuple[str, str]:
    rng = random.Random(n)
    if n == RARE_CLIENT:
        return RARE_NAME, "petra.quillfeather@example.com"
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return f"{first} {last}", f"{first.lower()}.{last.lower()}{n}@{rng.choice(DOMAINS)}"


def _at(days_ago: float) -> str:
    return str(CUTOFF - dt.timedelta(days=days_ago, hours=1)).split(".")[0]


def code_of(invoice_id: int) -> str:
    return f"PAY-{invoice_id:04d}-BIG-FIRM"


def _invoices(firm: int) -> Iterator[tuple]:
    day = dt.date(2025, 6, 1)
    for n in range(1, CLIENTS * INVOICES_EACH + 1):
        client = (n - 1) // INVOICES_EACH + 1
        case = (client - 1) * CASES_EACH + n % CASES_EACH + 1
        total = 10_000 + (n * 7919) % 490_000
        kind = n % 20
        status = "draft" if kind == 0 else "void" if kind == 1 else "issued"
        paid = total if kind in (2, 3) else (total // 3 if kind == 4 else 0)
        issued = day - dt.timedelta(days=n % 700)
        yield (n, firm, case, client, f"INV-{n:07d}", str(issued),
               str(issued + dt.timedelta(days=30)), status, "USD", total, paid)


def _checkouts(firm: int, staff: int) -> Iterator[tuple]:
    rng = random.Random(11)
    open_every = CHECKOUTS // OPEN_CHECKOUTS
    for n in range(1, CHECKOUTS + 1):
        if n % open_every == 0:
            status = rng.choice(("reserved", "authorizing", "capturing", "verifying"))
        else:
            status = "succeeded" if n % 25 else rng.choice(("failed", "cancelled"))
        method = "cash" if n % 9 == 0 and status == "succeeded" else "card_keyed"
        at = _at(rng.random() * 900)
        yield (n, firm, rng.randint(1, CLIENTS), "staff", staff, method, status, "USD",
               500 + n % 90_000, "bench", at, at)


def generate(db: pw.Database) -> dict[str, int]:
    """The whole firm; returns the rows written per table."""
    # The firm and its staff member as raw rows with the columns of 0006: the models may
    # have columns that later migrations add.
    firm, staff = 1, 1
    counts = {}
    counts["firm"] = bulk(db, "firm", (
        "id", "name", "currency", "locale", "online_payments_enabled",
        "multi_invoice_payments_enabled", "statement_descriptor_prefix", "time_zone",
        "address", "phone", "email"),
        [(firm, "Big Firm LLP", "USD", "en_US", True, True, "BIGFIRM", "UTC", "", "", "")])
    counts["staff"] = bulk(db, "staff", (
        "id", "firm_id", "name", "role", "pin_hash", "failed_attempts"),
        [(staff, firm, "Bench Admin", "admin", "unused", 0)])
    counts["client"] = bulk(db, "client", ("id", "firm_id", "name", "email"),
                            ((n, firm, *_name(n)) for n in range(1, CLIENTS + 1)))
    counts["case"] = bulk(db, "case", ("id", "firm_id", "client_id", "number", "title"), (
        ((c - 1) * CASES_EACH + k + 1, firm, c, f"{2016 + c % 10}-{c:06d}-{'AB'[k]}",
         "Matter") for c in range(1, CLIENTS + 1) for k in range(CASES_EACH)))
    counts["invoice"] = bulk(db, "invoice", (
        "id", "firm_id", "case_id", "client_id", "number", "issue_date", "due_date", "status",
        "currency", "total_minor", "paid_minor"), _invoices(firm))
    counts["invoice_share"] = bulk(db, "invoice_share", (
        "invoice_id", "channel", "shared_at", "recipient", "code_hash"), (
        (n, "text_link", _at(1), None, hash_payment_code(code_of(n))) if n % 10 == 5
        else (n, "email", _at(1), "client@example.com", None)
        for n in range(1, CLIENTS * INVOICES_EACH + 1)))
    counts["portal_account"] = bulk(db, "portal_account", (
        "client_id", "email", "password_hash"), (
        (n, _name(n)[1], "unused") for n in range(1, CLIENTS + 1) if n % 5 < 3))
    counts["checkout"] = bulk(db, "checkout", (
        "id", "firm_id", "client_id", "payer_kind", "staff_id", "method", "status", "currency",
        "total_minor", "terminal", "created_at", "updated_at"), _checkouts(firm, staff))
    counts["invoice_payment"] = bulk(db, "invoice_payment", (
        "id", "checkout_id", "invoice_id", "position", "amount_minor", "refunded_minor",
        "status"), ((n, n, n, 0, 500, 0, "captured") for n in range(1, REFUNDS + 1)))
    open_every = REFUNDS // OPEN_REFUNDS
    counts["refund"] = bulk(db, "refund", (
        "invoice_payment_id", "amount_minor", "reason", "staff_id", "status",
        "idempotency_key", "terminal", "created_at"), (
        (n, 100, "bench", staff, "pending" if n % open_every == 0 else "succeeded",
         f"bench-refund-{n}", "bench", _at(n % 500)) for n in range(1, REFUNDS + 1)))
    if isinstance(db, pw.PostgresqlDatabase):
        for table in ("firm", "staff", "client", "case", "invoice", "checkout",
                      "invoice_payment"):
            db.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                           f'(SELECT MAX(id) FROM "{table}"))')
    return counts


def sample(db: pw.Database) -> dict:
    """What the lookups are timed with: clients, payment codes, sign-in emails, search texts."""
    rng = random.Random(5)
    clients = [rng.randint(1, CLIENTS) for _ in range(50)]
    invoices = [rng.randint(0, CLIENTS * INVOICES_EACH // 10 - 1) * 10 + 5 for _ in range(50)]
    signing = [n for n in (rng.randint(1, CLIENTS) for _ in range(200)) if n % 5 < 3][:50]
    some = 43_210
    return {
        "clients": clients,
        "codes": [code_of(n) for n in invoices],
        "emails": [_name(n)[1] for n in signing],
        "rare_name": "quillfeather",
        "searches": [
            ("1 char, common: 'a'", "a"),
            ("1 char, rare: 'q' (none in the first clients)", "q"),
            ("1 char, rare: 'y' (few in the first clients)", "y"),
            ("1 char, no match: 'é'", "é"),
            ("2 chars, common: 'an'", "an"),
            ("2 chars, rare: 'yu' (2,000 clients)", "yu"),
            ("2 chars, rare: 'ov' (few in the first)", "ov"),
            ("2 chars, no match: 'qz'", "qz"),
            ("2 chars, wildcard: 'q_'", "q_"),
            ("3+ chars, common: 'son'", "son"),
            ("3+ chars, a last name: 'whitfield'", "whitfield"),
            ("3+ chars, one client: 'quillfeather'", "quillfeather"),
            ("3+ chars, email, no domain", _name(some)[1].split("@")[0]),
            ("3+ chars, invoice number", f"INV-{some * 10:07d}"),
            ("3+ chars, invoice number part", f"{some * 10 + 3:07d}"[2:]),
            ("3+ chars, case number part", f"{some:06d}-b"),
            ("3+ chars, no match: 'zzqxj'", "zzqxj"),
        ],
    }
