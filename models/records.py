"""The audit trail (append-only) and the outbox of emails still to deliver."""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel
from models.firm import utcnow
from models.payments import Checkout

EMAIL_STATUSES = ("queued", "sent")


class AppendOnlyError(RuntimeError):
    """Audit entries are never updated or deleted."""


class AuditEntry(BaseModel):
    at = pw.DateTimeField(default=utcnow, index=True)
    # "staff:Front Desk", "client:dana.whitfield@example.com", "code", "system"
    actor = pw.CharField(max_length=200)
    action = pw.CharField(max_length=60, index=True)
    # What it was done to: "invoice:INV-1001", "checkout:12", "firm:1", ...
    subject = pw.CharField(max_length=120)
    result = pw.CharField(max_length=40)
    terminal = pw.CharField(max_length=120)
    details = pw.TextField(default="")

    def save(self, *args, **kwargs):  # noqa: D102 - guard, see AppendOnlyError
        if self.id is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("audit entries are append-only")
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        raise AppendOnlyError("audit entries are append-only")


class OutboundEmail(BaseModel):
    created_at = pw.DateTimeField(default=utcnow)
    checkout = pw.ForeignKeyField(Checkout, null=True, backref="emails", on_delete="RESTRICT")
    recipient = pw.CharField(max_length=254)
    subject = pw.CharField(max_length=300)
    # The whole RFC 5322 message, attachments included, built when it is queued.
    message = pw.TextField()
    status = pw.CharField(
        max_length=10, default="queued", constraints=[pw.Check("status IN ('queued', 'sent')")]
    )
    attempts = pw.IntegerField(default=0)
    last_error = pw.TextField(null=True)
    next_attempt_at = pw.DateTimeField(default=utcnow, index=True)
    sent_at = pw.DateTimeField(null=True)
