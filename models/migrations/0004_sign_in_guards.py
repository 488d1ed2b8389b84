"""0004: sign-in guards, one row per thing sign-in is limited by.

- sign_in_guard: the wrong-secret count of a staff name, of a client's email (whether or not
  it has a portal account) or of a terminal (an SSH session's terminal names its peer
  address), with the attempts being checked at this moment (`in_flight`) and the time it is
  locked until. Keys are hashes of what they limit.
- A staff member locked by the staff row's own count stays locked: that lock and count are
  carried over to the staff name's guard. The staff row's `failed_attempts` and
  `locked_until` are no longer written.
"""

import datetime
import hashlib

from peewee import *


def _key(scope, value):
    return hashlib.sha256(f"paydesk-guard:{scope}:{value}".encode()).hexdigest()


def up(migrator, db):
    class SignInGuard(Model):
        scope = CharField(max_length=20, constraints=[
            SQL("CHECK (scope IN ('staff', 'client', 'terminal'))")])
        key = CharField(max_length=64)
        failures = IntegerField(default=0, constraints=[SQL('CHECK (failures >= 0)')])
        in_flight = IntegerField(default=0, constraints=[SQL('CHECK (in_flight >= 0)')])
        window_started = DateTimeField(null=True)
        claimed_at = DateTimeField(null=True)
        locked_until = DateTimeField(null=True)
        class Meta:
            database = db
            table_name = 'sign_in_guard'
            indexes = ((('scope', 'key'), True),)
    db.create_tables([SignInGuard])

    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    cursor = db.execute_sql(
        'SELECT name, failed_attempts, locked_until FROM staff '
        'WHERE failed_attempts > 0 OR locked_until IS NOT NULL')
    for name, failures, locked_until in cursor.fetchall():
        if isinstance(locked_until, str):
            locked_until = datetime.datetime.fromisoformat(locked_until)
        SignInGuard.create(scope='staff', key=_key('staff', name), failures=failures or 0,
                           window_started=now if failures else None,
                           locked_until=locked_until)


def down(migrator, db):
    db.execute_sql('DROP TABLE IF EXISTS sign_in_guard')
