"""The firm's local time: timestamps are stored in UTC (naive) and shown in the firm's
time zone, formatted for its locale with Babel."""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time

from billing.errors import BillingError

__all__ = ["TIME_ZONE_SETTING", "check_time_zone", "firm_date", "firm_datetime", "firm_zone"]

log = logging.getLogger(__name__)

# The name of the setting, as messages about it name it.
TIME_ZONE_SETTING = "firm.time_zone"


def check_time_zone(name: str) -> str:
    """`name` (trimmed) when it is an IANA time zone name; BillingError naming the
    setting otherwise."""
    text = (name or "").strip()
    shown = text[:64] or "(empty)"
    message = (f"{TIME_ZONE_SETTING}: {shown!r} is not a time zone name; use an IANA name "
               "such as America/New_York, Europe/London or UTC.")
    if not text or text.startswith(("/", ".")) or ".." in text:
        raise BillingError(message)
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise BillingError(message) from exc
    return text


def firm_zone(name: str | None) -> ZoneInfo:
    """The firm's time zone (UTC when none is set). A stored name that is not one (the
    database edited by hand: `paydesk firm` refuses it) is logged, naming the setting,
    and UTC is shown: a receipt or an email is never lost over how its time is shown."""
    try:
        return ZoneInfo(check_time_zone(name or "UTC"))
    except BillingError as exc:
        log.warning("%s Showing times in UTC.", exc)
        return ZoneInfo("UTC")


def _local(at: dt.datetime, time_zone: str | None) -> dt.datetime:
    aware = at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)
    return aware.astimezone(firm_zone(time_zone))


def firm_datetime(at: dt.datetime, time_zone: str | None, locale: str) -> str:
    """`at` (naive UTC) as the firm's local date and time: "Nov 25, 2026, 6:30 PM EST"."""
    local = _local(at, time_zone)
    date_text = format_date(local, "medium", locale=locale)
    time_text = format_time(local, "short", locale=locale)
    joined = Locale.parse(locale).datetime_formats["medium"].format(time_text, date_text)
    joined = joined.replace("'", "")  # the pattern's literal quotes, if any
    # CLDR puts a narrow no-break space before AM/PM: plain spaces print everywhere (a
    # receipt printer, a plain-text email, the PDF's core font).
    return f"{joined} {local.tzname()}".replace("\u202f", " ").replace("\u00a0", " ")


def firm_date(at: dt.datetime, time_zone: str | None, locale: str) -> str:
    """`at` (naive UTC) as the firm's local date: "Nov 25, 2026"."""
    return format_date(_local(at, time_zone), "medium", locale=locale)
