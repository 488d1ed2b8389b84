"""Bank debit authorizations (NACHA's record of what the payer agreed to) and the Stripe
mandates they became. Both are append-only: the database refuses UPDATE and DELETE
(migration 0010), and the models refuse them before the database is asked."""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel
from models.firm import Client, PortalAccount, Staff, utcnow
from models.payments import Checkout
from models.records import AppendOnlyError

# WEB: accepted online (kiosk, the client's own session); TEL: read aloud by staff on a call.
AUTHORIZATION_KINDS = ("WEB", "TEL")


class _AppendOnly(BaseModel):
    def save(self, *args, **kwargs):  # noqa: D102 - guard, see AppendOnlyError
        if self.id is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError(f"{self._meta.table_name} rows are append-only")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._meta.table_name} rows are append-only")


class BankAuthorization(_AppendOnly):
    """One debit authorization: who, how, when, where, and the exact text agreed to. The
    bank account appears only as its last four digits (its bank's name, known once Stripe
    has the account, is on the mandate)."""

    checkout = pw.ForeignKeyField(Checkout, unique=True, backref="bank_authorizations",
                                  on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="bank_authorizations", on_delete="RESTRICT")
    kind = pw.CharField(max_length=3, constraints=[
        pw.Check(f"kind IN ({', '.join(repr(k) for k in AUTHORIZATION_KINDS)})")])
    portal_account = pw.ForeignKeyField(PortalAccount, null=True, on_delete="RESTRICT")
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    accepted_at = pw.DateTimeField(default=utcnow)
    terminal = pw.CharField(max_length=120)
    ssh_peer = pw.CharField(max_length=120, null=True)
    # WEB: what Stripe's online acceptance carries (the terminal's or SSH peer's address).
    ip_address = pw.CharField(max_length=64, null=True)
    user_agent = pw.CharField(max_length=300, null=True)
    text = pw.TextField()
    text_sha256 = pw.CharField(max_length=64)
    # How the payer agreed, in words ("Confirmed on screen by ...", "Staff ... confirmed").
    confirmation = pw.TextField()
    last4 = pw.CharField(max_length=4)


class BankMandate(_AppendOnly):
    """Stripe's mandate for an authorization, written once Stripe has answered."""

    authorization = pw.ForeignKeyField(BankAuthorization, backref="mandates",
                                       on_delete="RESTRICT")
    stripe_mandate_id = pw.CharField(max_length=64, unique=True)
    bank_name = pw.CharField(max_length=100, default="")
    recorded_at = pw.DateTimeField(default=utcnow)


# waiting: the payer has yet to type the microdeposit's code; verified; failed (out of
# tries, or its debit refused); expired (Stripe gave up after 10 days: holds released).
VERIFICATION_STATUSES = ("waiting", "verified", "failed", "expired")
# What Stripe sent to the account: one deposit whose statement line carries a code (SM and
# four more), or two small deposits whose amounts the payer reads.
MICRODEPOSIT_TYPES = ("descriptor_code", "amounts")


class BankVerification(BaseModel):
    """A bank checkout waiting for its account's microdeposit (migration 0012): kept so
    that the payer can type the code on a later visit. Its waiting debit is
    `stripe_payment_intent_id`; the checkout's other debits wait on it. Never the code."""

    checkout = pw.ForeignKeyField(Checkout, unique=True, backref="bank_verifications",
                                  on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="bank_verifications", on_delete="RESTRICT")
    stripe_payment_intent_id = pw.CharField(max_length=64)
    microdeposit_type = pw.CharField(max_length=16, default="descriptor_code", constraints=[
        pw.Check("microdeposit_type IN "
                 f"({', '.join(repr(t) for t in MICRODEPOSIT_TYPES)})")])
    status = pw.CharField(max_length=10, default="waiting", constraints=[
        pw.Check(f"status IN ({', '.join(repr(s) for s in VERIFICATION_STATUSES)})")])
    attempts_left = pw.IntegerField(null=True)
    requested_at = pw.DateTimeField(default=utcnow)
    expires_at = pw.DateTimeField()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("client", "status"), False),)
