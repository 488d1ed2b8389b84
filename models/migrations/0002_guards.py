"""0002: guards the database keeps itself, whoever writes to it.

- Audit entries are append-only: UPDATE and DELETE are refused by triggers.
- SQLite stores whatever it is given in an INTEGER column (1.5 stays 1.5), so triggers
  refuse any amount in minor units that is not an integer. PostgreSQL's bigint already
  guarantees that.
"""

from peewee import PostgresqlDatabase

MONEY_COLUMNS = {
    "invoice": ("total_minor", "paid_minor"),
    "invoice_line": ("amount_minor",),
    "plan_instalment": ("amount_minor",),
    "checkout": ("total_minor",),
    "invoice_payment": ("amount_minor", "refunded_minor"),
    "refund": ("amount_minor",),
}


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'audit entries are append-only'; END; $$ LANGUAGE plpgsql"
        )
        for op in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER audit_entry_no_{op.lower()} BEFORE {op} ON audit_entry "
                "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
            )
        return
    for op in ("UPDATE", "DELETE"):
        db.execute_sql(
            f"CREATE TRIGGER audit_entry_no_{op.lower()} BEFORE {op} ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
        )
    for table, columns in MONEY_COLUMNS.items():
        condition = " OR ".join(f"typeof(NEW.{c}) != 'integer'" for c in columns)
        for op in ("INSERT", "UPDATE"):
            db.execute_sql(
                f'CREATE TRIGGER {table}_integer_amounts_{op.lower()} BEFORE {op} ON "{table}" '
                f"WHEN {condition} "
                "BEGIN SELECT RAISE(ABORT, 'amounts must be whole minor units'); END"
            )


def down(migrator, db):
    names = ["audit_entry_no_update", "audit_entry_no_delete"]
    if isinstance(db, PostgresqlDatabase):
        for name in names:
            db.execute_sql(f"DROP TRIGGER IF EXISTS {name} ON audit_entry")
        db.execute_sql("DROP FUNCTION IF EXISTS audit_entry_append_only()")
        return
    names += [
        f"{table}_integer_amounts_{op}" for table in MONEY_COLUMNS for op in ("insert", "update")
    ]
    for name in names:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
