"""Fault switches: latency, 500s, dropped responses and a rate limit, repeatable by seed."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from dataclasses import dataclass


@dataclass
class Faults:
    """What goes wrong, and how often. Mutable at run time (`sandbox.faults.drop_rate = 0.5`)."""

    latency_ms: int = 0
    error_rate: float = 0.0  # a 500 before doing anything
    drop_rate: float = 0.0  # do the work, then close the connection without answering
    rate_limit: int | None = None  # requests per second; a 429 beyond
    seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be 0 or more, got {self.latency_ms}")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError(f"rate_limit must be 1 or more, got {self.rate_limit}")


class FaultInjector:
    """Draws the faults for each request from one seeded generator (thread-safe)."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self._lock = threading.Lock()
        self._seed = faults.seed
        self._rng = random.Random(faults.seed)  # noqa: S311 - fault injection, not security
        self._recent: deque[float] = deque()
        # What was injected so far (figures for tests and benchmarks).
        self.counts = {"rate_limited": 0, "server_error": 0, "dropped": 0}

    def _draw(self) -> float:
        with self._lock:
            if self.faults.seed != self._seed:  # reseeded at run time
                self._seed = self.faults.seed
                self._rng = random.Random(self._seed)  # noqa: S311
            return self._rng.random()

    def delay(self) -> None:
        if self.faults.latency_ms > 0:
            time.sleep(self.faults.latency_ms / 1000)

    def rate_limited(self) -> bool:
        limit = self.faults.rate_limit
        if limit is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= limit:
                self.counts["rate_limited"] += 1
                return True
            self._recent.append(now)
            return False

    def server_error(self) -> bool:
        rate = self.faults.error_rate
        return rate > 0 and self._draw() < rate and self._count("server_error")

    def drop(self) -> bool:
        rate = self.faults.drop_rate
        return rate > 0 and self._draw() < rate and self._count("dropped")

    def _count(self, name: str) -> bool:
        with self._lock:
            self.counts[name] += 1
        return True
