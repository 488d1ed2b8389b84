"""Hashes for secrets Paydesk keeps: staff PINs, portal passwords, payment codes."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Interactive sign-in at a terminal: argon2id with a moderate cost keeps a check near
# 20-50 ms on a small machine.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

# Payment codes are read out or texted, so they avoid look-alike characters.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def hash_secret(secret: str) -> str:
    """An argon2id hash of a PIN or password."""
    return _HASHER.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def normalize_code(code: str) -> str:
    return "".join(code.split()).upper()


def hash_payment_code(code: str) -> str:
    """The stored form of a payment code: the code itself is never kept."""
    return hashlib.sha256(("paydesk-code:" + normalize_code(code)).encode()).hexdigest()


def new_payment_code() -> str:
    """A fresh code such as `PAY-7KQ4-M2XH-9RTC` (60 bits of randomness)."""
    groups = ["".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(3)]
    return "PAY-" + "-".join(groups)
