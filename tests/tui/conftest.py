"""Fixtures for the walk-throughs of the kiosk and the front desk: the real Desk over the demo firm in a
SQLite file of the test's own, with the in-process Stripe sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from billing.config import Settings

WALK_NOW = dt.datetime(2026, 10, 20, 12, 0, 0)


@contextmanager
def _real_services(sqlite_url: str, tmp_path, terminal: str) -> Iterator:
    from billing.services import build_services

    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal=terminal)
    services = build_services(settings, clock=lambda: WALK_NOW, reconcile_at_start=False)
    try:
        yield services
    finally:
        services.close()


@pytest.fixture
def kiosk_services(demo_sqlite, sqlite_url, tmp_path) -> Iterator:
    with _real_services(sqlite_url, tmp_path, "kiosk-test") as services:
        yield services


@pytest.fixture
def desk_services(demo_sqlite, sqlite_url, tmp_path) -> Iterator:
    with _real_services(sqlite_url, tmp_path, "desk-test") as services:
        yield services
