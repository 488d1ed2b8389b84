"""0003: cards on file need the payer's consent.

- card_consent: who agreed to keep the card of a checkout on file (the client, or a staff
  member who confirmed the payer said yes), when, how (kiosk, desk phone, reader) and at
  which terminal. Append-only: UPDATE and DELETE are refused by triggers, as for the audit
  log.
- card_removal: a kept card taken off file, with the idempotency key of the Stripe call
  stored before it is made.
- checkout.card_on_file: what became of the checkout's card once the payment ended: "kept"
  (the payment succeeded and the payer agreed) or "released" (taken off the customer).
  Empty while that is still to be done. A card payment that succeeded before consent was
  asked is marked "legacy": its card is left as Stripe has it (no consent is on record, so
  it is not listed as a saved card). The card of one that failed is released by the next
  reconciliation, as a failed card must not stay on file.
"""

from peewee import *

WAYS = "('kiosk', 'desk_phone', 'reader')"
GIVERS = "('client', 'staff')"


def up(migrator, db):
    class Firm(Model):
        class Meta:
            database = db
            table_name = 'firm'

    class Client(Model):
        class Meta:
            database = db
            table_name = 'client'

    class Staff(Model):
        class Meta:
            database = db
            table_name = 'staff'

    class Checkout(Model):
        class Meta:
            database = db
            table_name = 'checkout'

    class CardConsent(Model):
        at = DateTimeField(index=True)
        firm = ForeignKeyField(Firm, on_delete='RESTRICT')
        client = ForeignKeyField(Client, on_delete='RESTRICT')
        checkout = ForeignKeyField(Checkout, unique=True, on_delete='RESTRICT')
        given_by = CharField(max_length=10, constraints=[SQL(f"CHECK (given_by IN {GIVERS})")])
        staff = ForeignKeyField(Staff, null=True, on_delete='RESTRICT')
        way = CharField(max_length=12, constraints=[SQL(f"CHECK (way IN {WAYS})")])
        terminal = CharField(max_length=120)
        wording = CharField(max_length=200)
        class Meta:
            database = db
            table_name = 'card_consent'

    class CardRemoval(Model):
        requested_at = DateTimeField()
        client = ForeignKeyField(Client, on_delete='RESTRICT')
        payment_method_id = CharField(max_length=64)
        card_brand = CharField(null=True, max_length=20)
        card_last4 = CharField(null=True, max_length=4)
        removed_by = CharField(max_length=10,
                               constraints=[SQL(f"CHECK (removed_by IN {GIVERS})")])
        staff = ForeignKeyField(Staff, null=True, on_delete='RESTRICT')
        terminal = CharField(max_length=120)
        idempotency_key = CharField(unique=True, max_length=80)
        status = CharField(max_length=10, default='pending', constraints=[
            SQL("CHECK (status IN ('pending', 'removed', 'failed'))")])
        completed_at = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'card_removal'

    db.create_tables([CardConsent, CardRemoval])
    migrator.migrate(migrator.add_column('checkout', 'card_on_file',
                                         CharField(null=True, max_length=10)))
    db.execute_sql("UPDATE checkout SET card_on_file = 'legacy' WHERE status = 'succeeded' "
                   "AND method IN ('card_keyed', 'card_reader')")

    if not isinstance(db, PostgresqlDatabase):
        for op in ("UPDATE", "DELETE"):
            db.execute_sql(
                f"CREATE TRIGGER card_consent_no_{op.lower()} BEFORE {op} ON card_consent "
                "BEGIN SELECT RAISE(ABORT, 'card consents are append-only'); END"
            )
        return
    db.execute_sql(
        "CREATE OR REPLACE FUNCTION card_consent_append_only() RETURNS trigger AS $$ "
        "BEGIN RAISE EXCEPTION 'card consents are append-only'; END; $$ LANGUAGE plpgsql"
    )
    for op in ("UPDATE", "DELETE"):
        db.execute_sql(
            f"CREATE TRIGGER card_consent_no_{op.lower()} BEFORE {op} ON card_consent "
            "FOR EACH ROW EXECUTE FUNCTION card_consent_append_only()"
        )


def down(migrator, db):
    if not isinstance(db, PostgresqlDatabase):
        for op in ("update", "delete"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS card_consent_no_{op}")
    else:
        for op in ("update", "delete"):
            db.execute_sql(f"DROP TRIGGER IF EXISTS card_consent_no_{op} ON card_consent")
        db.execute_sql("DROP FUNCTION IF EXISTS card_consent_append_only()")
    migrator.migrate(migrator.drop_column('checkout', 'card_on_file'))
    db.execute_sql("DROP TABLE IF EXISTS card_removal")
    db.execute_sql("DROP TABLE IF EXISTS card_consent")
