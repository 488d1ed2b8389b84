"""0009: cards entered on the payer's own phone.

- phone_entry: one hosted card page opened for one checkout selection: its Stripe Checkout
  Session, the idempotency keys stored before the page is asked for (and before it is
  closed), when Paydesk stops taking its card, and the checkout its card started (once:
  `checkout_id` is unique and `used_at` is set in the transaction that starts it).
- phone_entry_invoice: exactly the invoices and amounts the review listed, which the page
  may pay and nothing else.
No card data: the saved card is read from Stripe when the payment starts.
"""

from peewee import *

STATUSES = "('pending', 'used', 'expired', 'canceled')"
PAYER_KINDS = "('client', 'staff')"


def up(migrator, db):
    class Client(Model):
        class Meta:
            database = db
            table_name = 'client'

    class Staff(Model):
        class Meta:
            database = db
            table_name = 'staff'

    class Invoice(Model):
        class Meta:
            database = db
            table_name = 'invoice'

    class Checkout(Model):
        class Meta:
            database = db
            table_name = 'checkout'

    class PhoneEntry(Model):
        client = ForeignKeyField(Client, on_delete='RESTRICT', index=True)
        payer_kind = CharField(max_length=10,
                               constraints=[SQL(f"CHECK (payer_kind IN {PAYER_KINDS})")])
        staff = ForeignKeyField(Staff, null=True, on_delete='RESTRICT', index=True)
        currency = CharField(max_length=3)
        setup_key = CharField(max_length=80, unique=True)
        expire_key = CharField(max_length=80, unique=True)
        expires_at = DateTimeField()
        stripe_expires_at = BigIntegerField()
        session_id = CharField(max_length=255, null=True, unique=True)
        url = CharField(max_length=2000, null=True)
        status = CharField(max_length=10, default='pending',
                           constraints=[SQL(f"CHECK (status IN {STATUSES})")])
        created_at = DateTimeField()
        used_at = DateTimeField(null=True)
        checkout = ForeignKeyField(Checkout, null=True, unique=True, on_delete='RESTRICT')
        terminal = CharField(max_length=120)

        class Meta:
            database = db
            table_name = 'phone_entry'

    class PhoneEntryInvoice(Model):
        entry = ForeignKeyField(PhoneEntry, on_delete='CASCADE', index=True)
        invoice = ForeignKeyField(Invoice, on_delete='RESTRICT', index=True)
        amount_minor = BigIntegerField(constraints=[SQL('CHECK (amount_minor > 0)')])

        class Meta:
            database = db
            table_name = 'phone_entry_invoice'
            indexes = ((('entry', 'invoice'), True),)

    db.create_tables([PhoneEntry, PhoneEntryInvoice])
    if not isinstance(db, PostgresqlDatabase):
        # As 0002 does for every amount: SQLite keeps 1.5 in an INTEGER column unless refused.
        for op in ("INSERT", "UPDATE"):
            db.execute_sql(
                f'CREATE TRIGGER phone_entry_integer_amounts_{op.lower()} BEFORE {op} '
                'ON "phone_entry_invoice" '
                "WHEN typeof(NEW.amount_minor) != 'integer' "
                "BEGIN SELECT RAISE(ABORT, 'amounts must be whole minor units'); END"
            )


def down(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        for op in ("insert", "update"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS phone_entry_integer_amounts_{op}")
    migrator.migrate(migrator.drop_table('phone_entry_invoice'))
    migrator.migrate(migrator.drop_table('phone_entry'))
