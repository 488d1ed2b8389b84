"""0010: bank debits (ACH) over several invoices.

- checkout.payment_method_type, invoice_payment.payment_method_type: "card" (every payment
  before this) or "us_bank_account" (Stripe's name for an ACH debit).
- checkout.method may be "bank_debit"; checkout.status and invoice_payment.status may be
  "processing": a debit sent to the bank that settles days later. Its amount is held
  against the invoice (billing.reservations) but it is not paid; it becomes "captured"
  when Stripe says it settled, or "failed" with the bank's return reason.
- bank_authorization: the debit authorization as NACHA wants it kept: who (portal account
  or staff member), WEB or TEL, when, terminal and SSH peer, the exact text shown and its
  sha256, the checkout, and the last four digits of the account only (its bank's name is
  known once Stripe has the account: it is kept with the mandate).
- bank_mandate: Stripe's mandate id for an authorization, written once Stripe answers.
  Both tables are append-only: triggers refuse UPDATE and DELETE on both databases.
- firm.bank_debits_enabled: the firm's switch (on by default).
No routing or account number is stored anywhere.
"""

from peewee import *

KINDS = "('WEB', 'TEL')"
PM_TYPES = "('card', 'us_bank_account')"
APPEND_ONLY = ("bank_authorization", "bank_mandate")

# The CHECK lists widened here: (table, column, old list, new list).
OLD_METHODS = "('card_keyed', 'card_saved', 'card_reader', 'check', 'cash', 'bank_transfer')"
NEW_METHODS = ("('card_keyed', 'card_saved', 'card_reader', 'check', 'cash', "
               "'bank_transfer', 'bank_debit')")
OLD_CHECKOUT = ("('reserved', 'authorizing', 'capturing', 'cancelling', 'succeeded', "
                "'failed', 'cancelled', 'verifying')")
NEW_CHECKOUT = ("('reserved', 'authorizing', 'capturing', 'cancelling', 'succeeded', "
                "'failed', 'cancelled', 'verifying', 'processing')")
OLD_PAYMENT = ("('pending', 'authorizing', 'authorized', 'capturing', 'captured', "
               "'declined', 'cancelling', 'cancelled', 'failed', 'verifying', 'recorded')")
NEW_PAYMENT = ("('pending', 'authorizing', 'authorized', 'capturing', 'captured', "
               "'declined', 'cancelling', 'cancelled', 'failed', 'verifying', 'recorded', "
               "'processing')")
CHECKS = (
    ("checkout", "method", OLD_METHODS, NEW_METHODS),
    ("checkout", "status", OLD_CHECKOUT, NEW_CHECKOUT),
    ("invoice_payment", "status", OLD_PAYMENT, NEW_PAYMENT),
)


def _postgres(db):
    return isinstance(db, PostgresqlDatabase)


def _set_check(db, table, column, values):
    """Replace the CHECK on `column` by `column IN values`."""
    if _postgres(db):
        rows = db.execute_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'c' "
            "AND pg_get_constraintdef(oid) LIKE %s", (table, f"%({column})::text = ANY%"))
        for (name,) in rows.fetchall():
            db.execute_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        db.execute_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{column}_check" '
                       f"CHECK ({column} IN {values})")


def _sqlite_checks(db, pairs):
    """SQLite cannot alter a CHECK; rebuilding invoice_payment would fight the foreign keys
    that point at it. Widening (or, going down, narrowing back) an IN list changes nothing
    stored, so the table's definition is edited in place, as SQLite documents for CHECK
    changes (lang_altertable.html, "other kinds of table schema changes")."""
    version = db.execute_sql("PRAGMA schema_version").fetchone()[0]
    db.execute_sql("PRAGMA writable_schema = ON")
    try:
        for table, old, new in pairs:
            db.execute_sql("UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
                           "WHERE type = 'table' AND name = ? AND instr(sql, ?) > 0",
                           (old, new, table, old))
            # A definition written otherwise than expected would leave the old CHECK in
            # place, and the new statuses refused at the first bank debit: stop here.
            if db.execute_sql("SELECT changes()").fetchone()[0] != 1:
                raise RuntimeError(f"{table}: its CHECK constraint is not the expected "
                                   f"one ({old}); the migration cannot widen it")
        db.execute_sql(f"PRAGMA schema_version = {version + 1}")
    finally:
        db.execute_sql("PRAGMA writable_schema = OFF")


def _append_only(db):
    for table in APPEND_ONLY:
        if _postgres(db):
            db.execute_sql(
                f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
                f"BEGIN RAISE EXCEPTION '{table} rows are append-only'; END; $$ "
                "LANGUAGE plpgsql")
        for op in ("UPDATE", "DELETE"):
            body = (f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()" if _postgres(db)
                    else f"BEGIN SELECT RAISE(ABORT, '{table} rows are append-only'); END")
            db.execute_sql(f'CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON "{table}" '
                           + body)


def up(migrator, db):
    class Checkout(Model):
        class Meta:
            database = db
            table_name = 'checkout'

    class Staff(Model):
        class Meta:
            database = db
            table_name = 'staff'

    class PortalAccount(Model):
        class Meta:
            database = db
            table_name = 'portal_account'

    class Client(Model):
        class Meta:
            database = db
            table_name = 'client'

    class BankAuthorization(Model):
        checkout = ForeignKeyField(Checkout, unique=True, on_delete='RESTRICT')
        client = ForeignKeyField(Client, on_delete='RESTRICT', index=True)
        kind = CharField(max_length=3, constraints=[SQL(f"CHECK (kind IN {KINDS})")])
        portal_account = ForeignKeyField(PortalAccount, null=True, on_delete='RESTRICT')
        staff = ForeignKeyField(Staff, null=True, on_delete='RESTRICT')
        accepted_at = DateTimeField()
        terminal = CharField(max_length=120)
        ssh_peer = CharField(max_length=120, null=True)
        ip_address = CharField(max_length=64, null=True)
        user_agent = CharField(max_length=300, null=True)
        text = TextField()
        text_sha256 = CharField(max_length=64)
        confirmation = TextField()
        last4 = CharField(max_length=4)

        class Meta:
            database = db
            table_name = 'bank_authorization'

    class BankMandate(Model):
        authorization = ForeignKeyField(BankAuthorization, on_delete='RESTRICT', index=True)
        stripe_mandate_id = CharField(max_length=64, unique=True)
        bank_name = CharField(max_length=100, default='')
        recorded_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'bank_mandate'

    db.create_tables([BankAuthorization, BankMandate])
    _append_only(db)
    # Plain ALTER TABLE ... ADD COLUMN with its default: playhouse would add the column, then
    # rebuild the table on SQLite to make it NOT NULL, which fails on the foreign keys that
    # point at a table holding rows and drops the table's triggers (0002's guards).
    for table in ("checkout", "invoice_payment"):
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN payment_method_type VARCHAR(20) '
                       f"NOT NULL DEFAULT 'card' CHECK (payment_method_type IN {PM_TYPES})")
    true = "true" if _postgres(db) else "1"
    db.execute_sql(f'ALTER TABLE "firm" ADD COLUMN bank_debits_enabled BOOLEAN NOT NULL '
                   f"DEFAULT {true}")
    if _postgres(db):
        for table, column, _old, new in CHECKS:
            _set_check(db, table, column, new)
    else:
        _sqlite_checks(db, [(table, old, new) for table, _column, old, new in CHECKS])


def down(migrator, db):
    kept = db.execute_sql(
        "SELECT COUNT(*) FROM checkout WHERE method = 'bank_debit' OR status = 'processing' "
        "OR payment_method_type != 'card'").fetchone()[0]
    if kept:
        raise RuntimeError(f"{kept} bank debit checkouts exist; the schema before 0010 cannot "
                           "hold them")
    if _postgres(db):
        for table, column, old, _new in CHECKS:
            _set_check(db, table, column, old)
    else:
        _sqlite_checks(db, [(table, new, old) for table, _column, old, new in CHECKS])
    # Natively (SQLite 3.35+), for the reason given in up().
    for table, column in (("firm", "bank_debits_enabled"),
                          ("invoice_payment", "payment_method_type"),
                          ("checkout", "payment_method_type")):
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN {column}')
    for table in APPEND_ONLY:
        for op in ("update", "delete"):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {table}_no_{op}'
                           + (f' ON "{table}"' if _postgres(db) else ""))
        if _postgres(db):
            db.execute_sql(f"DROP FUNCTION IF EXISTS {table}_append_only()")
    migrator.migrate(migrator.drop_table('bank_mandate'))
    migrator.migrate(migrator.drop_table('bank_authorization'))
