"""Whether a demo database can be used as it is, read with the standard library's sqlite3:
`paydesk demo` on a database it prepared before draws its first screen without loading
peewee and the models (tui.commands.apps). Anything else (a new, old or unseeded file, or
one that cannot be read) is upgraded and seeded as ever."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from models.demo_sign_ins import FIRM_NAME

# As models.schema finds them (models.schema loads peewee).
MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# What billing's Desk.firm() reads of the first firm; the booleans come back as 0 or 1.
FIRM_COLUMNS = ("name", "currency", "locale", "online_payments_enabled",
                "multi_invoice_payments_enabled", "statement_descriptor_prefix", "time_zone",
                "bank_debits_enabled")
_BOOLEANS = ("online_payments_enabled", "multi_invoice_payments_enabled", "bank_debits_enabled")


def ready_demo_firm(path: str) -> dict[str, object] | None:
    """The first firm's columns (FIRM_COLUMNS, as Desk.firm reads them) when the SQLite file
    at `path` needs nothing that preparing the demo database does: every migration recorded
    as applied (models.schema.upgrade has nothing to run) and the demo firm there with its
    contact details (models.demo.seed_demo has nothing to add). Otherwise None."""
    file = Path(path)
    if not file.is_file():
        return None
    scripts = {script.stem for script in MIGRATIONS_DIR.glob("[0-9]*.py")}
    try:
        connection = sqlite3.connect(str(file), timeout=15)
        try:
            applied = {row[0] for row in connection.execute("SELECT name FROM schema_migration")}
            if not scripts <= applied:
                return None
            firms, undetailed = connection.execute(
                "SELECT COUNT(*), COUNT(CASE WHEN address = '' AND email = '' THEN 1 END) "
                "FROM firm WHERE name = ?", (FIRM_NAME,)).fetchone()
            if not firms or undetailed:
                return None
            row = connection.execute(
                f"SELECT {', '.join(FIRM_COLUMNS)} FROM firm ORDER BY id LIMIT 1").fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    firm = dict(zip(FIRM_COLUMNS, row, strict=True))
    for column in _BOOLEANS:
        firm[column] = bool(firm[column])
    return firm
