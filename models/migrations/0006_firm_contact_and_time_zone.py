"""0006: the firm's time zone and contact details.

- firm.time_zone: the IANA name of the firm's time zone ("America/New_York"); every
  timestamp is stored in UTC and shown in this zone on receipts, emails and screens.
- firm.address, firm.phone, firm.email: printed on receipts and in emails; the email
  address is also the sender of the firm's emails.
"""

from peewee import *


def up(migrator, db):
    migrator.migrate(
        migrator.add_column('firm', 'time_zone',
                            CharField(max_length=64, default='UTC')),
        migrator.add_column('firm', 'address', TextField(default='')),
        migrator.add_column('firm', 'phone', CharField(max_length=40, default='')),
        migrator.add_column('firm', 'email', CharField(max_length=254, default='')),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('firm', 'email'),
        migrator.drop_column('firm', 'phone'),
        migrator.drop_column('firm', 'address'),
        migrator.drop_column('firm', 'time_zone'),
    )
