"""The sandbox's clock, modelled on Stripe's test clocks: tests move it forward, never back.

`now()` is the real time plus an offset; `advance(seconds)` and `advance_to(frozen_time)`
grow the offset. Like a test clock's `frozen_time`, a new time must not be before the
current one, and one step may not reach more than two years ahead. The offset is kept in
the `--state` file, so a restarted sandbox keeps its time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

MAX_STEP = 2 * 365 * 24 * 3600  # Stripe: a test clock cannot move more than two years ahead


class ClockError(ValueError):
    """A refused clock move; the message says why (shown to the caller as is)."""


def whole_seconds(value: Any, name: str) -> int:
    """`value` as a whole number of seconds (an int, or a string of digits), else ClockError."""
    if isinstance(value, bool):
        raise ClockError(f"{name} must be a whole number of seconds, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    raise ClockError(f"{name} must be a whole number of seconds, got {value!r}.")


class Clock:
    """Thread-safe; `now()` never goes back, even when the machine's clock does."""

    def __init__(self, offset: int = 0, *, source: Callable[[], float] = time.time) -> None:
        self._lock = threading.Lock()
        self._source = source
        self._offset = whole_seconds(offset, "offset")
        self._last = 0

    @property
    def offset(self) -> int:
        """Seconds the clock runs ahead of real time."""
        with self._lock:
            return self._offset

    def now(self) -> int:
        """The sandbox's time, in Unix seconds."""
        with self._lock:
            return self._now()

    def _now(self) -> int:
        self._last = max(self._last, int(self._source()) + self._offset)
        return self._last

    def advance(self, seconds: Any) -> int:
        """Move forward by `seconds` (0 or more); the new time."""
        step = whole_seconds(seconds, "seconds")
        if step < 0:
            raise ClockError(f"The sandbox clock only moves forward: seconds must be 0 or more, "
                             f"got {step}.")
        with self._lock:
            return self._move(step)

    def advance_to(self, frozen_time: Any) -> int:
        """Move forward to the Unix time `frozen_time` (not before now); the new time."""
        target = whole_seconds(frozen_time, "frozen_time")
        with self._lock:
            current = self._now()
            if target < current:
                raise ClockError(f"The sandbox clock only moves forward: frozen_time {target} is "
                                 f"before its current time {current}.")
            return self._move(target - current)

    def _move(self, step: int) -> int:
        if step > MAX_STEP:
            raise ClockError(f"The sandbox clock moves at most two years ({MAX_STEP} seconds) "
                             f"at a time, got {step}.")
        self._offset += step
        return self._now()
