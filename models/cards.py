"""Cards on file: the payer's consent to keep a card, and the removal of a kept card.

Neither holds a card number: a card is named by Stripe's PaymentMethod id, its brand and
its last four digits only.
"""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel
from models.firm import Client, Firm, Staff, utcnow
from models.payments import Checkout

# Who said yes: the client themselves, or a staff member who confirmed the payer agreed.
CONSENT_GIVERS = ("client", "staff")
# How: typed in by the client (kiosk or their own session), read out over the desk phone
# and typed in by staff, or presented on the card reader.
CONSENT_WAYS = ("kiosk", "desk_phone", "reader")
REMOVAL_STATUSES = ("pending", "removed", "failed")


def _one_of(column: str, values: tuple[str, ...]) -> pw.Check:
    return pw.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class AppendOnlyConsentError(RuntimeError):
    """A consent record is never changed or deleted."""


class CardConsent(BaseModel):
    """The payer agreed to keep the card of one checkout on file. Append-only: written with
    the checkout, before the card is sent to Stripe; the card is kept only if the payment
    succeeds (`Checkout.card_on_file` says what became of it)."""

    at = pw.DateTimeField(default=utcnow, index=True)
    firm = pw.ForeignKeyField(Firm, on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="card_consents", on_delete="RESTRICT")
    checkout = pw.ForeignKeyField(Checkout, unique=True, backref="card_consents",
                                  on_delete="RESTRICT")
    given_by = pw.CharField(max_length=10, constraints=[_one_of("given_by", CONSENT_GIVERS)])
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    way = pw.CharField(max_length=12, constraints=[_one_of("way", CONSENT_WAYS)])
    terminal = pw.CharField(max_length=120)
    # The words the payer or staff member agreed to, as shown on the screen.
    wording = pw.CharField(max_length=200)

    def save(self, *args, **kwargs):  # noqa: D102 - guard, see AppendOnlyConsentError
        if self.id is not None and not kwargs.get("force_insert"):
            raise AppendOnlyConsentError("card consents are append-only")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AppendOnlyConsentError("card consents are append-only")


class CardRemoval(BaseModel):
    """A kept card taken off file (Stripe detach), with its idempotency key stored before
    the call."""

    requested_at = pw.DateTimeField(default=utcnow)
    client = pw.ForeignKeyField(Client, backref="card_removals", on_delete="RESTRICT")
    payment_method_id = pw.CharField(max_length=64)
    card_brand = pw.CharField(max_length=20, null=True)
    card_last4 = pw.CharField(max_length=4, null=True)
    removed_by = pw.CharField(max_length=10, constraints=[_one_of("removed_by", CONSENT_GIVERS)])
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    terminal = pw.CharField(max_length=120)
    idempotency_key = pw.CharField(max_length=80, unique=True)
    status = pw.CharField(max_length=10, default="pending",
                          constraints=[_one_of("status", REMOVAL_STATUSES)])
    completed_at = pw.DateTimeField(null=True)
