"""/v1/events: list (newest first, the last 30 days) and retrieve. See events.py."""

from __future__ import annotations

from typing import Any

from gateway.sandbox.events import list_events, retrieve_event
from gateway.sandbox.store import State


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return list_events(state.events, params, state.now())


def retrieve(state: State, params: dict[str, Any], event: str) -> dict[str, Any]:
    return retrieve_event(state.events, event, state.now())


ROUTES = [
    ("GET", r"/v1/events", list_),
    ("GET", r"/v1/events/(?P<event>evt_\w+)", retrieve),
]
