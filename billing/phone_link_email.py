"""The link to a card page, emailed to the payer (the front desk's "email the link"): the
payer opens it on their own phone, checks what it pays, and saves their card there.

Queued through the outbox like every email; the link holds no secret (the page asks for
the card itself) and the email names no card.
"""

from __future__ import annotations

from billing import emails
from billing.errors import NotAllowed
from billing.short_links import short_url
from models.db import write_transaction
from models.firm import Firm
from models.money import Money, format_money
from models.phone_entries import PhoneEntry, PhoneEntryInvoice
from models.records import OutboundEmail


def queue_phone_link_email(entry_id: int, recipient: str, *, client_id: int,
                           local_expiry: str, link_base: str | None = None) -> OutboundEmail:
    """Queue the page's link to `recipient`, with each invoice and amount it pays and
    until when (`local_expiry`, in the firm's words): the firm's short link when it has a
    link server (`link_base`), the same link the screen shows. BillingError for a bad address;
    NotAllowed for a page that is not this client's or no longer open."""
    address = emails.check_address(recipient)
    entry = PhoneEntry.get_or_none(PhoneEntry.id == entry_id)
    if entry is None or entry.client_id != client_id:
        raise NotAllowed("There is no such card page.")
    if entry.status != "pending" or not entry.url:
        raise NotAllowed("The card page is no longer open: open a new one.")
    firm = Firm.get_by_id(entry.client.firm_id)
    link = (short_url(link_base, entry.short_code) if link_base and entry.short_code
            else entry.url)
    rows = list(PhoneEntryInvoice.select().where(PhoneEntryInvoice.entry == entry.id)
                .order_by(PhoneEntryInvoice.id))
    count = len(rows)
    lines = [f"  {r.invoice.number}: {format_money(Money(r.amount_minor, entry.currency), firm.locale)}"
             for r in rows]
    charged = (f"Your card will be charged in {count} transactions, one per invoice:"
               if count > 1 else "Your card will be charged once:")
    body = [f"Dear {entry.client.name},", "",
            f"To pay {firm.name}, open this page on your phone and enter your card there:",
            "", f"  {link}", "", charged, *lines, "",
            f"The page works until {local_expiry}. Nothing is charged until you save your "
            "card on it.", "", emails._signature(firm)]
    msg = emails._new_message(f"{firm.name}: enter your card to pay", address, None,
                              f"phone-link-{entry.id}", firm)
    msg.set_content("\n".join(body) + "\n", cte="quoted-printable")
    with write_transaction():
        return emails._store(msg)
