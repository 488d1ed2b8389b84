"""The firm and a signed-in staff member, as billing hands them to the screens: the values
the first screen needs, loaded without the database layer (billing.values names them too).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FirmInfo", "StaffSession"]


@dataclass(frozen=True)
class FirmInfo:
    name: str
    currency: str
    locale: str
    online_payments_enabled: bool
    multi_invoice_payments_enabled: bool
    statement_descriptor_prefix: str
    test_mode: bool
    # The IANA name of the firm's time zone: times are stored in UTC and shown in it.
    time_zone: str = "UTC"
    # Bank debits (ACH) offered to the firm's clients (USD only).
    bank_debits_enabled: bool = False


@dataclass(frozen=True)
class StaffSession:
    staff_id: int
    name: str
    role: str  # "front_desk" or "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
