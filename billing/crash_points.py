"""Where the payment engine may be stopped on purpose: the crash-point tests name a step,
and the process dies right after it, as if the power were cut."""

from __future__ import annotations

import os

# Test hook for the crash-point tests: when PAYDESK_CRASH_AT names a step, the process
# exits (no clean-up, like a power cut) right after that step. Read once, at import.
CRASH_AT = os.environ.get("PAYDESK_CRASH_AT", "")
STEPS = ("reserved", "customer", "card", "authorizing", "authorize-returned", "authorized",
         "capturing", "capture-returned", "recorded", "cancelling", "cancel-returned")


def crash_point(step: str) -> None:
    if CRASH_AT == step:
        os._exit(70)
