"""Stripe for Paydesk: the gateway over the official SDK, and the offline sandbox.

Imports nothing from models, billing or tui; speaks in plain values.

The public names below are loaded on first use: importing one part of the gateway (its
errors, say) does not load the rest, and above all not the Stripe SDK, which takes a fifth
of a second and is not needed before the first screen.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.cards import KeyedCard
    from gateway.client import STRIPE_API_VERSION, GatewayOptions, build_stripe_client
    from gateway.errors import (
        ActionRequired,
        CardDeclined,
        CardNumberInvalid,
        GatewayError,
        GatewayMisconfigured,
        InvalidRequest,
        KeyedEntryRefused,
        OutcomeUnknown,
        ReaderTimeout,
    )
    from gateway.logging_guard import guard_stripe_logging
    from gateway.stripe_gateway import StripeGateway
    from gateway.values import CardInfo, DeclineInfo, PaymentIntentInfo, RefundInfo

# Each public name and the module it comes from.
_EXPORTS = {
    "KeyedCard": "gateway.cards",
    "STRIPE_API_VERSION": "gateway.client",
    "GatewayOptions": "gateway.client",
    "build_stripe_client": "gateway.client",
    "ActionRequired": "gateway.errors",
    "CardDeclined": "gateway.errors",
    "CardNumberInvalid": "gateway.errors",
    "GatewayError": "gateway.errors",
    "GatewayMisconfigured": "gateway.errors",
    "InvalidRequest": "gateway.errors",
    "KeyedEntryRefused": "gateway.errors",
    "OutcomeUnknown": "gateway.errors",
    "ReaderTimeout": "gateway.errors",
    "guard_stripe_logging": "gateway.logging_guard",
    "StripeGateway": "gateway.stripe_gateway",
    "CardInfo": "gateway.values",
    "DeclineInfo": "gateway.values",
    "PaymentIntentInfo": "gateway.values",
    "RefundInfo": "gateway.values",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gateway' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "STRIPE_API_VERSION",
    "ActionRequired",
    "CardDeclined",
    "CardInfo",
    "CardNumberInvalid",
    "DeclineInfo",
    "GatewayError",
    "GatewayMisconfigured",
    "GatewayOptions",
    "InvalidRequest",
    "KeyedCard",
    "KeyedEntryRefused",
    "OutcomeUnknown",
    "PaymentIntentInfo",
    "ReaderTimeout",
    "RefundInfo",
    "StripeGateway",
    "build_stripe_client",
    "guard_stripe_logging",
]
