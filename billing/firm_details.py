"""The firm's time zone and contact details (printed on receipts and in emails): checked
whole before anything is written, then stored with an audit entry."""

from __future__ import annotations

from billing.audit import audit
from billing.emails import check_address
from billing.errors import BillingError
from billing.localtime import check_time_zone
from models import Firm, write_transaction

__all__ = ["set_firm_details"]

_MAX_ADDRESS_LINES = 4


def _checked(time_zone: str | None, address: str | None, phone: str | None,
             email: str | None) -> dict[str, str]:
    changes: dict[str, str] = {}
    if time_zone is not None:
        changes["time_zone"] = check_time_zone(time_zone)
    if address is not None:
        lines = [line.strip() for line in address.replace("\r", "").split("\n")]
        lines = [line for line in lines if line]
        if len(lines) > _MAX_ADDRESS_LINES or any(len(line) > 60 for line in lines):
            raise BillingError(f"firm.address: at most {_MAX_ADDRESS_LINES} lines of at most "
                               "60 characters each (they are printed on every receipt).")
        changes["address"] = "\n".join(lines)
    if phone is not None:
        text = phone.strip()
        if len(text) > 40 or any(not (c.isdigit() or c in " +-().") for c in text):
            raise BillingError("firm.phone: digits, spaces and + - ( ) . only, at most 40.")
        changes["phone"] = text
    if email is not None:
        text = email.strip()
        if text:
            try:
                text = check_address(text)
            except BillingError as exc:
                raise BillingError(f"firm.email: {exc}") from exc
        changes["email"] = text
    return changes


def set_firm_details(firm_id: int, *, actor: str, terminal: str,
                     time_zone: str | None = None, address: str | None = None,
                     phone: str | None = None, email: str | None = None) -> None:
    """Store the given details (None: leave as is). Every value is checked first: one
    bad value is refused with a message naming its setting, and nothing changes."""
    changes = _checked(time_zone, address, phone, email)
    if not changes:
        return
    with write_transaction():
        Firm.update(**changes).where(Firm.id == firm_id).execute()
        audit(actor=actor, action="firm.details", subject=f"firm:{firm_id}", result="changed",
              terminal=terminal, details=" ".join(f"{k}={v!r}" for k, v in changes.items()))
