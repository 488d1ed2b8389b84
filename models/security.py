"""Hashes for secrets Paydesk keeps (staff PINs, portal passwords, payment codes), and the
guards that limit how many wrong ones sign-in will check."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache
from typing import TYPE_CHECKING

import peewee as pw

from models.db import BaseModel

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# Interactive sign-in at a terminal: argon2id with a moderate cost keeps a check near
# 20-50 ms on a small machine. Hashes stored as constants (the demo's sign-ins, the dummy
# hashes checked for unknown names) were made with exactly these parameters.
HASH_PARAMETERS = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}

# Payment codes are read out or texted, so they avoid look-alike characters.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@cache
def _hasher() -> PasswordHasher:
    # argon2 is loaded when a secret is first hashed or checked (at sign-in), not before
    # the first screen.
    from argon2 import PasswordHasher

    return PasswordHasher(**HASH_PARAMETERS)


def hash_secret(secret: str) -> str:
    """An argon2id hash of a PIN or password."""
    return _hasher().hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether `stored_hash` was made with other parameters than HASH_PARAMETERS."""
    return _hasher().check_needs_rehash(stored_hash)


def normalize_code(code: str) -> str:
    return "".join(code.split()).upper()


def hash_payment_code(code: str) -> str:
    """The stored form of a payment code: the code itself is never kept."""
    return hashlib.sha256(("paydesk-code:" + normalize_code(code)).encode()).hexdigest()


def new_payment_code() -> str:
    """A fresh code such as `PAY-7KQ4-M2XH-9RTC` (60 bits of randomness)."""
    groups = ["".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "PAY-" + "-".join(groups)


# --- sign-in guards ------------------------------------------------------------------------
GUARD_SCOPES = ("staff", "client", "terminal")


def guard_key(scope: str, value: str) -> str:
    """The stored key of what a guard limits (a staff name, a client's email, a
    terminal): a hash, so a mistyped password in the email field is never kept."""
    return hashlib.sha256(f"paydesk-guard:{scope}:{value}".encode()).hexdigest()


class SignInGuard(BaseModel):
    """The wrong-secret count of one thing sign-in is limited by: a staff name, a
    client's email (whether or not it has an account) or a terminal.

    `in_flight` counts attempts that claimed a slot and are being checked; a slot is
    claimed only while `failures + in_flight` is below the limit, so no more wrong
    secrets are ever checked than the limit allows, however many arrive at once.
    """

    scope = pw.CharField(
        max_length=20, constraints=[pw.Check("scope IN ('staff', 'client', 'terminal')")]
    )
    key = pw.CharField(max_length=64)
    failures = pw.IntegerField(default=0, constraints=[pw.Check("failures >= 0")])
    in_flight = pw.IntegerField(default=0, constraints=[pw.Check("in_flight >= 0")])
    # When the first of the counted failures happened; they are forgotten a window later.
    window_started = pw.DateTimeField(null=True)
    # The latest claim: slots claimed long before are taken back (their process died).
    claimed_at = pw.DateTimeField(null=True)
    locked_until = pw.DateTimeField(null=True)

    class Meta:
        table_name = "sign_in_guard"
        indexes = ((("scope", "key"), True),)

    def is_locked(self, now: dt.datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now
