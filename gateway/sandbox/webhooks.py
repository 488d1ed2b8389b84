"""Webhook delivery: each event POSTed to one endpoint, signed as Stripe signs it.

The `Stripe-Signature` header is `t=<timestamp>,v1=<hex>`, the hex being the HMAC-SHA256,
keyed with the endpoint's `whsec_` secret, of `"<timestamp>.<raw body>"`
(docs.stripe.com/webhooks#verify-manually), so `stripe.Webhook.construct_event` verifies it.
The timestamp is the machine's real time, not the sandbox clock: a receiver checks it
against its own clock (the SDK's tolerance is 300 s), and Stripe's test clocks do not move
it either.

One thread delivers the events in order. A delivery that fails (no answer, or a status
other than 2xx) is tried again up to `retries` times, waiting `backoff` seconds, doubled
each time; Stripe retries for up to three days, which a test cannot wait for. Once an event
is delivered its `pending_webhooks` becomes 0. Delivery is off until an endpoint is set;
the secret is kept in memory only (never in the state file or a log).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("gateway.sandbox")
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


class WebhookError(ValueError):
    """A refused endpoint setting; the message says why."""


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header of `payload` signed with `secret` at `timestamp`."""
    signed = f"{timestamp}.{payload}".encode()
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def check_endpoint(url: str, secret: str) -> None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise WebhookError("The webhook url must be an http:// or https:// address.")
    if not secret.startswith("whsec_") or len(secret) <= len("whsec_"):
        raise WebhookError("The webhook secret must be a signing secret starting whsec_.")


@dataclass
class Delivery:
    """One attempt: which event, to where, and how it went (never the secret)."""

    event_id: str
    event_type: str
    status: int | None  # the HTTP status; None when no answer came
    attempt: int


class WebhookSender:
    """Delivers events to the endpoint set with `configure`, in order, on its own thread.
    `delivered(event_id)` is called (off the state lock) after a 2xx answer."""

    def __init__(self, delivered: Callable[[str], None], *, retries: int = 3,
                 backoff: float = 0.2, timeout: float = 5.0) -> None:
        self._delivered = delivered
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self._lock = threading.Lock()
        self._url: str | None = None
        self._secret: str | None = None
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str | None:
        with self._lock:
            return self._url

    def configure(self, url: str | None, secret: str | None) -> None:
        """Deliver to `url`, signing with `secret`; a None or empty url turns delivery off."""
        if not url:
            with self._lock:
                self._url = self._secret = None
            return
        check_endpoint(url, secret or "")
        with self._lock:
            self._url, self._secret = url, secret
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="stripe-sandbox-webhooks",
                                                daemon=True)
                self._thread.start()

    def enqueue(self, event: dict[str, Any]) -> None:
        """Called for each event recorded while an endpoint is set (under the state lock:
        it only queues)."""
        if self.url is not None:
            self._queue.put(copy.deepcopy(event))

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Block until at least `count` attempts were made (for tests); the attempts."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self.deliveries)

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            self._deliver(event)

    def _deliver(self, event: dict[str, Any]) -> None:
        payload = json.dumps(event, indent=2)
        wait = self.backoff
        for attempt in range(1, self.retries + 2):
            with self._lock:
                url, secret = self._url, self._secret
            if url is None or secret is None:
                return  # turned off meanwhile
            status = self._post(url, secret, payload)
            with self._changed:
                self.deliveries.append(Delivery(event["id"], event["type"], status, attempt))
                self._changed.notify_all()
            if status is not None and 200 <= status < 300:
                self._delivered(event["id"])
                return
            if attempt <= self.retries:
                time.sleep(wait)  # the retry schedule, not a test waiting
                wait *= 2
        log.warning("sandbox: webhook %s for %s not delivered", event["type"], event["id"])

    def _post(self, url: str, secret: str, payload: str) -> int | None:
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": USER_AGENT,
                   "Stripe-Signature": signature_header(payload, secret, int(time.time()))}
        request = urllib.request.Request(url, data=payload.encode("utf-8"),  # noqa: S310
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (OSError, ValueError):
            return None
