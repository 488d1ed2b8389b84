"""0013: short links to the card page opened on the payer's phone.

- phone_entry.short_code: the code of the entry's short link (`kiosk.phone_link_base` +
  "/p/" + code), which Paydesk's link server (`paydesk serve-links`) redirects to Stripe's
  card page only while the entry is pending and within its time. Unique; null when the
  firm has no link server (the QR code then holds Stripe's own address).
"""

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('phone_entry', 'short_code', CharField(max_length=16, null=True)),
        migrator.add_index('phone_entry', ('short_code',), True),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('phone_entry', 'phone_entry_short_code'),
        migrator.drop_column('phone_entry', 'short_code'),
    )
