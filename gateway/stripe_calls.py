"""The plumbing every `StripeGateway` operation runs over: one injected `stripe.StripeClient`,
each SDK call made into plain data (a 429 retried, other errors translated), and the
idempotency key every POST carries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import stripe

from gateway.translate import translate


def _plain(obj: stripe.StripeObject) -> dict[str, Any]:
    return obj.to_dict()



class StripeCalls:
    """One Stripe client and how a gateway operation calls it."""

    def __init__(self, client: stripe.StripeClient, *, test_mode: bool,
                 raw_card_data_access: bool = False, rate_limit_retries: int = 2,
                 poll_interval: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self.test_mode = test_mode
        self.raw_card_data_access = raw_card_data_access
        self._rate_limit_retries = rate_limit_retries
        self._poll_interval = poll_interval
        self._sleep = sleep

    def _call(self, request: Callable[[], stripe.StripeObject]) -> dict[str, Any]:
        """Run one SDK call and return plain data. A 429 is retried with back-off (Stripe did
        not act on it, so the same key is safe); other errors become gateway errors.

        `request` makes the call itself, so the type checker sees its arguments:
        `self._call(lambda: self._v1.refunds.create(params=params, options=opts))`, with
        `params: RefundCreateParams = {...}` built beforehand."""
        attempt = 0
        while True:
            try:
                return _plain(request())
            except stripe.RateLimitError as exc:
                if attempt >= self._rate_limit_retries:
                    raise translate(exc) from exc
                attempt += 1
                delay = min(0.25 * 2 ** attempt, 4.0)
                self._sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter
            except stripe.StripeError as exc:
                raise translate(exc) from exc

    @staticmethod
    def _key(key: str, step: str | None = None) -> stripe.RequestOptions:
        if not key:
            raise ValueError("every call to Stripe needs the idempotency key stored for it")
        return {"idempotency_key": f"{key}:{step}" if step else key}

    @property
    def _v1(self) -> stripe.V1Services:
        return self._client.v1
