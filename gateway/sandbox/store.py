"""The sandbox's state: every object by id, behind one lock, optionally kept in a JSON file.

The file never holds a client secret: each is derived from its object's id and a random
salt (kept in the file), so it is left out when saving and derived again when loading.

Time is the sandbox's clock (`State.clock`, kept in the file): every `created` and
`canceled_at` comes from it, idempotency keys expire by it, and `sweep()` lets card holds
lapse by it.

Every change a handler makes is announced with one call, `emit(type, obj, previous)`, which
records an Event (events.py) with a snapshot of `obj` and the request that caused it
(`request`, set by the server around each API request; automatic changes have none).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import random
import secrets
import string
import threading
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gateway.sandbox import holds, settlement
from gateway.sandbox.clock import Clock
from gateway.sandbox.errors import missing
from gateway.sandbox.events import AUTOMATIC, EventLog, RequestContext, changed, public_snapshot
from gateway.sandbox.hold_refunds import LAPSED, refund_released_hold
from gateway.sandbox.idempotency import IdempotencyKeys
from gateway.sandbox.testcards import Decline, TestCard

_ALPHABET = string.ascii_letters + string.digits
FRONT_DESK_READER_LABEL = "Front desk reader"


class State:
    """Objects keyed by id, in creation order. Callers hold `lock` around each request."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.lock = threading.RLock()
        self.objects: dict[str, dict[str, Any]] = {}
        self.clock = Clock()
        self.idempotency = IdempotencyKeys(self.now)
        self.holds = holds.Holds()
        self.events = EventLog()
        self.request: RequestContext = AUTOMATIC  # what causes the changes made now
        self.path = Path(path) if path is not None else None
        self.base_url = ""  # the server's own address: hosted pages' `url` start with it
        self._rng = random.Random()  # noqa: S311 - ids, not secrets
        self._salt = secrets.token_hex(16)
        if self.path is not None and self.path.exists():
            self._load()

    # ids and time
    def new_id(self, prefix: str, length: int = 24) -> str:
        return prefix + "".join(self._rng.choice(_ALPHABET) for _ in range(length))

    def secret(self, owner_id: str) -> str:
        """The client secret of a PaymentIntent or SetupIntent (the same for the same id)."""
        digest = hmac.new(self._salt.encode(), owner_id.encode(), hashlib.sha256).hexdigest()
        return f"{owner_id}_secret_{digest[:25]}"

    def now(self) -> int:
        """The sandbox clock's time (Unix seconds)."""
        return self.clock.now()

    def sweep(self) -> int:
        """Let every card hold due by now lapse (call with `lock` held); how many lapsed.
        A lapse is automatic: its events carry no request."""
        lapsed = 0
        caused_by, self.request = self.request, AUTOMATIC
        try:
            for at, pi_id, charge_id in self.holds.due(self.now()):
                pi, charge = self.objects.get(pi_id), self.objects.get(charge_id)
                if pi is None or charge is None:
                    continue
                before = self.snapshot(charge)
                if holds.lapse(pi, charge, at):
                    lapsed += 1
                    self.emit("charge.expired", charge, changed(before, self.snapshot(charge)))
                    refund_released_hold(self, charge, LAPSED)
                    self.emit("payment_intent.canceled", pi)
            from gateway.sandbox.resources.checkout_sessions import expire_due

            expire_due(self)  # Checkout Sessions past their expires_at expire too
            lapsed += settlement.settle_due(self)  # ACH debits and bank refunds due by now
        finally:
            self.request = caused_by
        return lapsed

    # events
    @staticmethod
    def snapshot(obj: dict[str, Any]) -> dict[str, Any]:
        """`obj` as an event shows it (take one before a change for `previous_attributes`)."""
        return public_snapshot(obj)

    def emit(self, kind: str, obj: dict[str, Any],
             previous: dict[str, Any] | None = None) -> dict[str, Any]:
        """Record the event `kind` about `obj` as it is now (call with `lock` held);
        `previous` is its `previous_attributes`, e.g. `changed(before, snapshot(obj))`."""
        return self.events.record(self.new_id("evt_"), kind, self.snapshot(obj), previous,
                                  self.now(), self.request)

    # objects
    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        if obj.get("object") == "charge" and holds.is_hold(
                obj, self.objects.get(obj.get("payment_intent") or "")):
            self.holds.track(obj)  # an authorization: it lapses unless captured or canceled
        return obj

    def get(self, ident: Any, object_name: str, *, label: str | None = None,
            param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(ident) if isinstance(ident, str) else None
        if obj is None or obj.get("object") != object_name:
            raise missing(label or object_name.split(".")[-1].replace("_", " "), str(ident), param)
        return obj

    def of_type(self, object_name: str) -> list[dict[str, Any]]:
        """Objects of one kind, newest first (as Stripe lists them)."""
        return [o for o in reversed(self.objects.values()) if o.get("object") == object_name]

    def count(self, object_name: str) -> int:
        return sum(1 for o in self.objects.values() if o.get("object") == object_name)

    # responses
    def render(self, obj: dict[str, Any], expand: Iterable[str] = ()) -> dict[str, Any]:
        """A copy without private keys, with `expand[]` paths replaced by their objects."""
        out = _public(obj)
        for path in expand:
            self._expand(out, str(path).split("."))
        return out

    def _expand(self, node: Any, parts: list[str]) -> None:
        """Expand one path. The paths were checked against the SDK's types before the
        endpoint ran (Schema.prepare); a path through a null value, or through a field this
        sandbox does not keep, expands nothing, as Stripe answers null there."""
        if not parts or not isinstance(node, dict) or parts[0] not in node:
            return
        head, rest = parts[0], parts[1:]
        value = node[head]
        if isinstance(value, str) and value in self.objects:
            value = node[head] = _public(self.objects[value])
        if isinstance(value, list):
            for item in value:
                self._expand(item, rest)
        else:
            self._expand(value, rest)

    # test cards kept on PaymentMethods
    @staticmethod
    def attach_card(pm: dict[str, Any], card: TestCard) -> None:
        pm["_card"] = asdict(card)

    @staticmethod
    def card_of(pm: dict[str, Any]) -> TestCard:
        data = dict(pm["_card"])
        if data.get("decline"):
            data["decline"] = Decline(**data["decline"])
        return TestCard(**data)

    # persistence
    def save(self) -> None:
        """Write the state (owner-only file); client secrets are left out."""
        if self.path is None:
            return
        data = {"salt": self._salt, "clock": {"offset": self.clock.offset},
                "objects": self.objects, "idempotency": self.idempotency.dump()}
        text = json.dumps(_without_secrets(data))
        text = text[:-1] + ', "events": ' + self.events.dump_json(self.now()) + "}"
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, self.path)

    def _load(self) -> None:
        assert self.path is not None
        data = json.loads(self.path.read_text(encoding="utf-8"))
        self._salt = str(data.get("salt") or self._salt)
        self.clock = Clock(int((data.get("clock") or {}).get("offset") or 0))
        events = data.pop("events", [])  # kept apart: their snapshots hold no secrets
        data = self._with_secrets(data)
        self.objects = dict(data.get("objects", {}))
        self.idempotency.load(data.get("idempotency", {}))
        self.events.load(events)
        self.holds.clear()
        for obj in self.objects.values():  # the holds still open, lapsed at the next sweep
            pi = self.objects.get(obj.get("payment_intent") or "")
            if (obj.get("object") == "charge" and holds.is_hold(obj, pi) and pi is not None
                    and pi["status"] == "requires_capture" and pi["latest_charge"] == obj["id"]):
                self.holds.track(obj)

    def _with_secrets(self, node: Any) -> Any:
        """`node` with every left-out client secret derived again from its object's id."""
        if isinstance(node, list):
            return [self._with_secrets(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {k: self._with_secrets(v) for k, v in node.items()}
        if "client_secret" in out and isinstance(out.get("id"), str):
            out["client_secret"] = self.secret(out["id"])
        return out

    def ensure_reader(self) -> dict[str, Any]:
        """The simulated reader (created once; kept across restarts with `--state`)."""
        for obj in self.of_type("terminal.reader"):
            if obj["label"] == FRONT_DESK_READER_LABEL:
                return obj
        from gateway.sandbox.objects import reader

        serial = "WSC" + "".join(self._rng.choice(string.digits) for _ in range(12))
        return self.add(reader(self.new_id("tmr_"), FRONT_DESK_READER_LABEL, serial, self.now()))


def _without_secrets(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_secrets(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {k: None if k == "client_secret" else _without_secrets(v) for k, v in node.items()}


def _public(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy({k: v for k, v in obj.items() if not k.startswith("_")})
