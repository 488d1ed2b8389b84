"""The audit trail: one helper that appends an entry inside the caller's transaction.

Every money operation calls `audit()` in the same transaction as the change it records,
so an entry exists exactly when the change does (DESIGN.md section 5, promise 4).
"""

from __future__ import annotations

from billing.values import Payer, StaffSession
from models.records import AuditEntry


def actor_of_staff(staff: StaffSession | None) -> str:
    return f"staff:{staff.name}" if staff is not None else "system"


def actor_of_payer(payer: Payer) -> str:
    """Who acted, as the audit trail names them (never a card detail)."""
    if payer.kind == "staff" and payer.staff is not None:
        return f"staff:{payer.staff.name} for client:{payer.client_id}"
    if payer.kind == "client":
        return f"client:{payer.email}"
    return f"code:client:{payer.client_id}"


def audit(
    *, actor: str, action: str, subject: str, result: str, terminal: str, details: str = ""
) -> AuditEntry:
    """Append one audit entry (who, what, when, result, terminal) in the open transaction."""
    return AuditEntry.create(
        actor=actor[:200], action=action[:60], subject=subject[:120], result=result[:40],
        terminal=terminal[:120], details=details,
    )
