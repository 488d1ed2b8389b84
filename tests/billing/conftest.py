"""Billing fixtures: the real gateway over an in-process sandbox, and a Desk on the demo
firm (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing.config import Settings, StripeSettings
from billing.desk import Desk
from billing.values import CardChoice, Payer
from gateway import GatewayOptions, KeyedCard, StripeGateway
from gateway.sandbox import start_sandbox
from models import Client, Invoice
from models.demo import DANA_EMAIL
from models.money import Money

DANA_PAYABLE = ("INV-1001", "INV-1004", "INV-1009", "INV-1012", "INV-1021")
VISA = "4242424242424242"
DECLINED = "4000000000000002"
TODAY = dt.datetime(2026, 10, 20, 12, 0, 0)


def keyed(number: str = VISA) -> CardChoice:
    return CardChoice(kind="keyed", keyed=KeyedCard(number, 12, 2034, "123"),
                      label=f"card ending {number[-4:]}")


@pytest.fixture
def sandbox() -> Iterator:
    sb = start_sandbox(port=0)
    try:
        yield sb
    finally:
        sb.stop()


def make_gateway(url: str, retries: int = 2) -> StripeGateway:
    return StripeGateway.from_options(GatewayOptions(
        api_key="sk_test_paydesk_tests", api_base=url, max_network_retries=retries,
        timeout_seconds=10))


@pytest.fixture
def gateway(sandbox) -> StripeGateway:
    return make_gateway(sandbox.url)


def settings_for(url: str, tmp_path: Path, api_base: str | None = None) -> Settings:
    return Settings(database_url=url, outbox_dir=str(tmp_path / "outbox"),
                    terminal="test-terminal",
                    stripe=StripeSettings(api_key="sk_test_paydesk_tests", api_base=api_base))


@pytest.fixture
def desk(demo_db, gateway, sandbox, tmp_path) -> Desk:
    return Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)


@pytest.fixture
def dana(desk) -> Payer:
    return desk.sign_in_client(DANA_EMAIL, "demo-dana")


def invoice(number: str) -> Invoice:
    return Invoice.get(Invoice.number == number)


def full_balances(numbers=DANA_PAYABLE) -> dict[int, Money]:
    out = {}
    for number in numbers:
        inv = invoice(number)
        out[inv.id] = Money(inv.total_minor - inv.paid_minor, inv.currency)
    return out


def balances(numbers=DANA_PAYABLE) -> dict[str, int]:
    return {n: invoice(n).balance_minor for n in numbers}


def dana_client() -> Client:
    return Client.get(Client.email == DANA_EMAIL)
