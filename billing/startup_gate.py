"""What a terminal's Stripe work waits for while Paydesk is still starting.

The app draws its first screen before it connects to Stripe (loading the SDK, starting the
in-process sandbox) and before it settles what earlier runs left unfinished. Until both are
done the gate is shut: the desk's gateway is handed out only once it opens, so no payment or
refund is sent before start-up reconciliation has run. Start-up always opens the gate, with
the reason when Stripe could not be set up.
"""

from __future__ import annotations

import threading

from billing.errors import StripeUnavailable

# How long a payment waits for start-up (connecting to Stripe, reconciling) before it gives
# up with a sentence; start-up's own Stripe requests time out well before this.
STARTUP_WAIT_SECONDS = 300.0


def stripe_unreachable(reason: str) -> str:
    """What Paydesk says when start-up could not set up Stripe: `reason` is the sentence
    `billing.services.stripe_setup_failure` wrote (the one `paydesk kiosk` stops with)."""
    return f"Paydesk cannot reach Stripe: {reason}"


class StartupGate:
    """Shut until start-up has finished (gateway built, reconciliation run)."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self._error: str | None = None

    @property
    def is_open(self) -> bool:
        return self._done.is_set()

    @property
    def error(self) -> str | None:
        """Why Stripe could not be set up, in words (None while shut, or when it was)."""
        return self._error

    def open(self, error: str | None = None) -> None:
        """Start-up is over; `error` says in words why Stripe cannot be reached (None: it
        can)."""
        self._error = error
        self._done.set()

    def wait(self, timeout: float = STARTUP_WAIT_SECONDS) -> None:
        """Return once start-up has finished; StripeUnavailable when it could not set up
        Stripe, or did not finish within `timeout` seconds. Nothing was charged either way."""
        if not self._done.wait(timeout):
            raise StripeUnavailable("Paydesk is still connecting to Stripe. Nothing was "
                                    "charged; try again in a moment.")
        if self._error is not None:
            raise StripeUnavailable(f"{stripe_unreachable(self._error)} Nothing was charged.")
