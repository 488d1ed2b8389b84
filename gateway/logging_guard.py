"""Keep card data and secrets out of logs, whatever the root log level.

stripe-python logs each request's encoded body ("Post details") and each response body at
DEBUG on the "stripe" logger; a body can hold a card number (live raw-card entry) or a
PaymentIntent's `client_secret`. The guard drops those records on the logger itself (so no
handler, root or otherwise, ever sees them) and masks any key or secret left in the rest.
"""

from __future__ import annotations

import logging
import re

import stripe

# sk_/rk_ keys (also as Stripe masks them in errors: sk_live_****abcd), webhook secrets,
# and client secrets of PaymentIntents and SetupIntents.
_SECRET = re.compile(
    r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9*]+"
    r"|\bwhsec_[A-Za-z0-9]+"
    r"|\b(?:pi|seti)_[A-Za-z0-9]+_secret_[A-Za-z0-9]+"
    r"|client_secret[\"'=: ]+[^\s,&\"'}]+"
)
# 13-19 digit runs (optionally spaced or dashed) look like card numbers.
_CARD_NUMBER = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_BODY_MESSAGES = ("Post details", "API response body", "Request body", "post_data", "body=")

# The SDK logs on "stripe"; urllib3 logs each request line (never a body) at DEBUG.
_STRIPE_LOGGERS = ("stripe", "urllib3.connectionpool")


def redact(text: str) -> str:
    """The text with secrets and card-number-like digit runs masked."""
    text = _SECRET.sub("[redacted]", text)
    return _CARD_NUMBER.sub("[redacted-number]", text)


class StripeBodyFilter(logging.Filter):
    """Drops request/response body records and masks secrets in every other record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: drop it rather than risk leaking its args
            return False
        if any(marker in message for marker in _BODY_MESSAGES):
            return False
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


_FILTER = StripeBodyFilter()


def guard_stripe_logging() -> None:
    """Install the filter on the stripe and HTTP loggers (idempotent), and silence
    stripe-python's own console printing (`stripe.log` / STRIPE_LOG) of bodies."""
    for name in _STRIPE_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    # STRIPE_LOG=debug makes the SDK print bodies straight to stderr, around logging.
    stripe.log = None
    util = getattr(stripe, "_util", None)
    if util is not None and getattr(util, "STRIPE_LOG", None) is not None:
        util.STRIPE_LOG = None
