"""0005: who may drive a checkout, and one Stripe customer per client.

- checkout.lease_owner / checkout.lease_until: the process running a checkout's payment
  (host, boot, pid and start time) and the time its claim lasts until; the running engine
  renews it. Reconciliation takes over only a checkout whose owner is gone: the lease has
  ended, or the owner was a process on this machine that is no longer running.
- client.stripe_customer_key: the idempotency key of the client's Stripe customer creation,
  claimed once per client, so that payments made at the same moment send one and the same
  request and exactly one customer exists.
"""

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('checkout', 'lease_owner', CharField(null=True, max_length=200)),
        migrator.add_column('checkout', 'lease_until', DateTimeField(null=True)),
        migrator.add_column('client', 'stripe_customer_key',
                            CharField(null=True, max_length=80)),
    )
    db.execute_sql('CREATE UNIQUE INDEX client_stripe_customer_key '
                   'ON client (stripe_customer_key)')


def down(migrator, db):
    db.execute_sql('DROP INDEX IF EXISTS client_stripe_customer_key')
    migrator.migrate(
        migrator.drop_column('client', 'stripe_customer_key'),
        migrator.drop_column('checkout', 'lease_until'),
        migrator.drop_column('checkout', 'lease_owner'),
    )
