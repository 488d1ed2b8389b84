"""0012: a bank account's microdeposit verification, kept until the payer comes back.

An account typed in is verified by a small deposit that reaches it 1-2 business days later;
its first debit waits (Stripe: `requires_action`), and the debits of the same checkout wait
on it. The payer types the code on a later visit, so the wait is a row of its own:

- bank_verification: one per bank checkout that waited (`checkout_id` unique): the client
  (found on sign-in and when the front desk opens the client), the waiting PaymentIntent,
  which deposit Stripe sent (a descriptor code or two amounts: the screen asks for that),
  when Stripe asked and when it gives up (10 days on), the tries Stripe says are left (null
  until a wrong code), and where it stands: waiting, verified, failed (out of tries or the
  debit refused) or expired (Stripe gave up: the holds are released).
No row is made here for a bank checkout already under way: the database cannot tell a debit
waiting for its microdeposits from one sent whose answer was not yet applied. Reconciliation
reads each such debit back from Stripe (billing.bank_checkout._drive) and records the wait
only for a PaymentIntent in requires_action with microdeposits to verify, with its type and
Stripe's own time. No code or amount the payer types is stored.
"""

from peewee import *

STATUSES = "('waiting', 'verified', 'failed', 'expired')"
TYPES = "('descriptor_code', 'amounts')"


def up(migrator, db):
    class Client(Model):
        class Meta:
            database = db
            table_name = 'client'

    class Checkout(Model):
        class Meta:
            database = db
            table_name = 'checkout'

    class BankVerification(Model):
        checkout = ForeignKeyField(Checkout, unique=True, on_delete='RESTRICT')
        client = ForeignKeyField(Client, on_delete='RESTRICT')
        stripe_payment_intent_id = CharField(max_length=64)
        microdeposit_type = CharField(
            max_length=16, default='descriptor_code',
            constraints=[SQL(f"CHECK (microdeposit_type IN {TYPES})")])
        status = CharField(max_length=10, default='waiting',
                           constraints=[SQL(f"CHECK (status IN {STATUSES})")])
        attempts_left = IntegerField(null=True,
                                     constraints=[SQL('CHECK (attempts_left >= 0)')])
        requested_at = DateTimeField()
        expires_at = DateTimeField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = 'bank_verification'
            # The payment page asks for a client's open verifications at every sign-in.
            indexes = ((('client', 'status'), False),)

    db.create_tables([BankVerification])


def down(migrator, db):
    migrator.migrate(migrator.drop_table('bank_verification'))
