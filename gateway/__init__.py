"""Stripe for Paydesk: the gateway over the official SDK, and the offline sandbox.

Imports nothing from models, billing or tui; speaks in plain values.
"""

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
