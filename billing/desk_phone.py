"""The card entered on the payer's own phone (billing.phone_entry), seen from the desk."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from billing.desk_base import DeskBase
from billing.lazy_import import LazyModule
from billing.values import CheckoutResult, Payer, ProgressEvent
from models.money import Money

# Loaded when first used: the first screen is drawn before any of them is needed.
staff = LazyModule("billing.staff")
phone_entry = LazyModule("billing.phone_entry")
phone_link_email = LazyModule("billing.phone_link_email")


class DeskPhoneEntry(DeskBase):
    """A card page for the payer's phone: started, watched, canceled, paid, emailed."""

    def start_phone_entry(self, payer: Payer, amounts: Mapping[int, Money]):
        """A card page for the payer's phone, paying exactly `amounts` (a PhoneLink)."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        return phone_entry.start(self.gateway, payer, amounts, terminal=self.terminal,
                                 minutes=self.settings.kiosk.phone_link_minutes,
                                 clock=self.clock, locale=self._firm().locale,
                                 link_base=self.settings.kiosk.phone_link_base)

    def phone_entry_status(self, payer: Payer, entry_id: int):
        """How the page is doing (a PhoneStatus): pending, saved, expired, canceled, used."""
        return phone_entry.poll(self.gateway, entry_id, clock=self.clock, payer=payer)

    def cancel_phone_entry(self, payer: Payer, entry_id: int) -> None:
        phone_entry.cancel(self.gateway, entry_id, payer=payer)

    def pay_phone_entry(self, payer: Payer, entry_id: int, amounts: Mapping[int, Money],
                        on_progress: Callable[[ProgressEvent], None] | None = None,
                        keep: bool = False) -> CheckoutResult:
        """Pay with the card saved on the page, once (see billing.phone_entry.charge);
        `keep`: the payer agreed on the terminal to keep the card on file."""
        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        result = phone_entry.charge(self.gateway, payer, entry_id, amounts,
                                    terminal=self.terminal, today=self._today(),
                                    clock=self.clock, on_progress=on_progress, keep=keep)
        if result.succeeded:
            self._deliver_email()
        return result

    def email_phone_link(self, payer: Payer, entry_id: int, to: str,
                         local_expiry: str) -> str:
        """Queue the page's link to the payer's address; the address it goes to."""
        queued = phone_link_email.queue_phone_link_email(
            entry_id, to, client_id=payer.client_id, local_expiry=local_expiry,
            link_base=self.settings.kiosk.phone_link_base)
        self._deliver_email()
        return queued.recipient
