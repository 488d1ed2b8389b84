"""Idempotency keys as Stripe keeps them.

The first request with a key runs; its result is saved (once the endpoint started
executing) and replayed for the same key with the same method, path and parameters.
The same key with other parameters is an `idempotency_error` (400); a second request
while the first is still running gets a 409, which the SDK retries.

Parameters are compared by a SHA-256 digest, never kept: a request's body may hold a card
number and CVC (raw card entry), and the records are written to the `--state` file.

Like Stripe's, keys do not last forever: each record keeps the time (sandbox clock) its key
was first used, and once it is more than 24 hours old it is pruned (on use and on save), so
the same key then runs as a new request.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.sandbox.errors import ApiError

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
KEY_LIFETIME = 24 * 3600  # Stripe: keys may be removed once they are at least 24 hours old


def fingerprint(params: dict[str, Any]) -> str:
    """A digest that tells two requests' parameters apart without keeping them."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Saved:
    endpoint: str
    params: str
    status: int | None = None
    body: dict[str, Any] | None = None
    created: int = 0  # when the key was first used (sandbox clock)

    @property
    def done(self) -> bool:
        return self.status is not None


class IdempotencyKeys:
    """The records by key, oldest first; `now` is the sandbox's clock."""

    def __init__(self, now: Callable[[], int]) -> None:
        self._lock = threading.Lock()
        self._now = now
        self._records: dict[str, Saved] = {}

    def begin(self, key: str, endpoint: str, params: dict[str, Any]) -> Saved | None:
        """None when this request should run; the saved result when it should be replayed."""
        digest = fingerprint(params)
        with self._lock:
            now = self._now()
            self._prune(now)
            record = self._records.get(key)
            if record is None:
                self._records[key] = Saved(endpoint, digest, created=now)
                return None
        if record.endpoint != endpoint:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{record.endpoint}' vs '{endpoint}'). Try using a key other "
                f"than '{key}' if you meant to execute a different request.",
                type="idempotency_error",
            )
        if record.params != digest:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                type="idempotency_error",
            )
        if not record.done:
            raise ApiError(
                409,
                "There is currently another in-progress request using this idempotent key "
                "(that probably means you submitted twice, and the other request is still going "
                f"through): {key}. Please try again later.",
                type="idempotency_error",
                code="idempotency_key_in_use",
            )
        return record

    def finish(self, key: str, status: int, body: dict[str, Any]) -> None:
        with self._lock:
            record = self._records[key]
            record.status, record.body = status, body

    def forget(self, key: str) -> None:
        """The request did not start executing (validation failed): nothing is kept."""
        with self._lock:
            record = self._records.get(key)
            if record is not None and not record.done:
                del self._records[key]

    def _prune(self, now: int) -> None:
        """Drop finished records more than KEY_LIFETIME old. Records are kept oldest first,
        so this stops at the first young one: a request costs nothing when none is due."""
        expired = []
        for key, record in self._records.items():
            if now - record.created <= KEY_LIFETIME:
                break
            if record.done:  # one still running is kept until it finishes
                expired.append(key)
        for key in expired:
            del self._records[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def dump(self) -> dict[str, Any]:
        with self._lock:
            self._prune(self._now())
            return {k: dict(vars(r)) for k, r in self._records.items() if r.done}

    def load(self, data: dict[str, Any]) -> None:
        """Records from a state file. One written before keys had a time counts as first used
        now, so it is kept a full 24 hours more."""
        now = self._now()
        records = {k: Saved(**{"created": now, **v}) for k, v in data.items()}
        for record in records.values():
            if not _DIGEST.match(record.params):  # a state file from before the digests
                record.params = fingerprint(json.loads(record.params))
        ordered = dict(sorted(records.items(), key=lambda item: item[1].created))
        with self._lock:
            self._records = ordered
            self._prune(now)
