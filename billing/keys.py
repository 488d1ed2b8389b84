"""Idempotency keys for Stripe requests."""

from __future__ import annotations

import uuid


def new_key(purpose: str) -> str:
    """A fresh idempotency key; stored before the call it keys."""
    return f"paydesk-{purpose}-{uuid.uuid4().hex}"
