"""Who may connect: the password check and the per-peer count of failed tries."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

# Compared against when the user name is unknown, so that an unknown name takes as long
# to refuse as a wrong password (no user-name probing by timing).
_NO_SUCH_USER = "\0" * 32


def password_matches(passwords: Mapping[str, str], username: str, password: str) -> bool:
    """True when `password` is the configured password of `username`, in constant time."""
    expected = passwords.get(username)
    # Digests have one length, so not even the password's length shows in the timing.
    given = hashlib.sha256(password.encode("utf-8")).digest()
    wanted = hashlib.sha256((_NO_SUCH_USER if expected is None else expected).encode("utf-8")).digest()
    return hmac.compare_digest(given, wanted) and expected is not None


@dataclass
class AuthFailures:
    """Failed tries per peer address, forgotten `lockout_seconds` after the last one.

    A peer that reaches `max_tries` is disconnected and refused until the window has
    passed, so reconnecting does not buy more guesses. A success clears the count.
    """

    max_tries: int = 3
    lockout_seconds: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _current(self, peer: str) -> int:
        count, last = self._failures.get(peer, (0, 0.0))
        if count and self.clock() - last >= self.lockout_seconds:
            del self._failures[peer]
            return 0
        return count

    def record_failure(self, peer: str) -> int:
        """Count one failed try; returns the peer's count so far."""
        count = self._current(peer) + 1
        self._failures[peer] = (count, self.clock())
        return count

    def record_success(self, peer: str) -> None:
        self._failures.pop(peer, None)

    def locked_out(self, peer: str) -> bool:
        return self._current(peer) >= self.max_tries
