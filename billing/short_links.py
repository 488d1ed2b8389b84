"""Short links to the card page on the payer's phone.

Stripe's hosted card page has an address of several hundred characters: as a QR code it
needs a version 10 or larger symbol, some 60 modules a side, which does not fit at 80x24,
and nobody can type it from the screen. A firm that can publish one web address sets
`kiosk.phone_link_base` ("https://pay.example-firm.com") and runs `paydesk serve-links`
there. Each card page then gets a short link, base + "/p/" + a 10-character code, which
that server turns into Stripe's address only while Paydesk still takes the page's card:
the entry is pending and within its time. A used, cancelled or expired link answers that
it is closed, and never reaches Stripe's page again.

The code is random (about 49 bits) and lives at most as long as its card page.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from models.phone_entries import PhoneEntry

# Letters and digits that are not mistaken for one another when read off a screen.
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
CODE_LENGTH = 10
PATH_PREFIX = "/p/"


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def short_url(base: str, code: str) -> str:
    """The short link of `code` under the firm's link address `base`."""
    return f"{base.rstrip('/')}{PATH_PREFIX}{code}"


def code_from_path(path: str) -> str | None:
    """The code of a request path ("/p/<code>", any case, a trailing slash or query
    ignored), or None when the path is not a short link's."""
    path = path.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    if not path.lower().startswith(PATH_PREFIX):
        return None
    code = path[len(PATH_PREFIX):].lower()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


@dataclass(frozen=True)
class LinkAnswer:
    """Where a short link leads now: "open" with Stripe's address, "closed" (used,
    cancelled or expired), or "unknown" (no such link)."""

    state: str
    location: str | None = None


def follow(code: str | None, now: dt.datetime) -> LinkAnswer:
    """Where the short link with `code` leads at `now` (naive UTC)."""
    if code is None:
        return LinkAnswer("unknown")
    entry = PhoneEntry.get_or_none(PhoneEntry.short_code == code)
    if entry is None:
        return LinkAnswer("unknown")
    if entry.status != "pending" or now >= entry.expires_at or not entry.url:
        return LinkAnswer("closed")
    return LinkAnswer("open", entry.url)
