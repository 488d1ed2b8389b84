"""0008: what Stripe tells Paydesk after a checkout ends (events).

- stripe_event: every Stripe event Paydesk has applied, once: the Stripe event id is unique,
  and it is inserted in the transaction that applies the event's effects, so an event read
  both by the poller and by a webhook changes things once. `source` says which one got it
  first; `outcome` a word on what it did ("refund", "dispute", "ignored", ...).
- stripe_event_cursor: per Stripe account and mode, the last event read, so that reading
  events resumes where it stopped.
- stripe_event_failure: how many times applying an event failed, kept outside the rolled-back
  transaction, so that an event that keeps failing is set aside (outcome "failed") instead of
  stopping every event after it.
- dispute: a card dispute (chargeback or inquiry) on one invoice payment. `withdrawn_minor`
  is what it took off the invoice's paid amount (an inquiry takes nothing), so that a dispute
  won gives back exactly that; `reinstated_minor` what was given back (once).
- refund.origin: "paydesk" (made at a terminal) or "stripe" (made in the Stripe Dashboard and
  learnt from its event). A refund made in Stripe has no staff member: refund.staff_id may be
  empty. Rebuilding SQLite's refund table for that drops its triggers, so the whole-minor-
  units guard of 0002 is put back.
"""

from peewee import *

SOURCES = "('poll', 'webhook')"
ORIGINS = "('paydesk', 'stripe')"


def _refund_integer_guard(db):
    # As 0002 made them: SQLite keeps 1.5 in an INTEGER column unless refused.
    if isinstance(db, PostgresqlDatabase):
        return
    for op in ("INSERT", "UPDATE"):
        db.execute_sql(f"DROP TRIGGER IF EXISTS refund_integer_amounts_{op.lower()}")
        db.execute_sql(
            f'CREATE TRIGGER refund_integer_amounts_{op.lower()} BEFORE {op} ON "refund" '
            "WHEN typeof(NEW.amount_minor) != 'integer' "
            "BEGIN SELECT RAISE(ABORT, 'amounts must be whole minor units'); END"
        )


def up(migrator, db):
    class InvoicePayment(Model):
        class Meta:
            database = db
            table_name = 'invoice_payment'

    class StripeEvent(Model):
        stripe_event_id = CharField(unique=True, max_length=255)
        type = CharField(max_length=100)
        created = DateTimeField()
        livemode = BooleanField(default=False)
        applied_at = DateTimeField()
        source = CharField(max_length=10, constraints=[SQL(f"CHECK (source IN {SOURCES})")])
        outcome = CharField(max_length=40)
        class Meta:
            database = db
            table_name = 'stripe_event'

    class StripeEventCursor(Model):
        account = CharField(max_length=64)
        livemode = BooleanField()
        last_event_id = CharField(null=True, max_length=255)
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'stripe_event_cursor'
            indexes = ((('account', 'livemode'), True),)

    class Dispute(Model):
        invoice_payment = ForeignKeyField(InvoicePayment, on_delete='RESTRICT', index=True)
        stripe_dispute_id = CharField(unique=True, max_length=64)
        amount_minor = BigIntegerField(constraints=[SQL('CHECK (amount_minor > 0)')])
        withdrawn_minor = BigIntegerField(
            default=0, constraints=[SQL('CHECK (withdrawn_minor >= 0)'),
                                    SQL('CHECK (withdrawn_minor <= amount_minor)')])
        reinstated_minor = BigIntegerField(
            default=0, constraints=[SQL('CHECK (reinstated_minor >= 0)'),
                                    SQL('CHECK (reinstated_minor <= withdrawn_minor)')])
        status = CharField(max_length=30)
        reason = CharField(max_length=60)
        opened_at = DateTimeField()
        closed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'dispute'

    class StripeEventFailure(Model):
        stripe_event_id = CharField(unique=True, max_length=255)
        tries = IntegerField(default=0)
        error = CharField(max_length=200, default='')
        updated_at = DateTimeField()
        class Meta:
            database = db
            table_name = 'stripe_event_failure'

    db.create_tables([StripeEvent, StripeEventCursor, StripeEventFailure, Dispute])
    if not isinstance(db, PostgresqlDatabase):
        for op in ("INSERT", "UPDATE"):
            db.execute_sql(
                f'CREATE TRIGGER dispute_integer_amounts_{op.lower()} BEFORE {op} ON "dispute" '
                "WHEN typeof(NEW.amount_minor) != 'integer' "
                "OR typeof(NEW.withdrawn_minor) != 'integer' "
                "OR typeof(NEW.reinstated_minor) != 'integer' "
                "BEGIN SELECT RAISE(ABORT, 'amounts must be whole minor units'); END"
            )
    migrator.migrate(
        migrator.add_column('refund', 'origin', CharField(
            max_length=10, default='paydesk',
            constraints=[SQL(f"CHECK (origin IN {ORIGINS})")])),
        migrator.drop_not_null('refund', 'staff_id'),
    )
    _refund_integer_guard(db)


def down(migrator, db):
    made_in_stripe = db.execute_sql(
        "SELECT COUNT(*) FROM refund WHERE staff_id IS NULL").fetchone()[0]
    if made_in_stripe:
        raise RuntimeError(
            f"{made_in_stripe} refunds made in Stripe have no staff member; the schema before "
            "0008 cannot hold them")
    migrator.migrate(
        migrator.add_not_null('refund', 'staff_id'),
        migrator.drop_column('refund', 'origin'),
    )
    _refund_integer_guard(db)
    if not isinstance(db, PostgresqlDatabase):
        for op in ("insert", "update"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS dispute_integer_amounts_{op}")
    migrator.migrate(migrator.drop_table('dispute'))
    migrator.migrate(migrator.drop_table('stripe_event_failure'))
    migrator.migrate(migrator.drop_table('stripe_event_cursor'))
    migrator.migrate(migrator.drop_table('stripe_event'))
