"""What a Stripe call on one invoice payment came to."""

from __future__ import annotations

from dataclasses import dataclass

from gateway import errors as gw


@dataclass(frozen=True)
class Outcome:
    """What one Stripe call on one invoice payment came to."""

    payment_id: int
    status: str  # authorized, captured, cancelled, declined, failed, verifying
    payment_intent_id: str | None = None
    charge_id: str | None = None
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


def outcome_of_error(payment_id: int, exc: Exception, pi_id: str | None = None) -> Outcome:
    """A gateway error as an outcome: only a decline or a refusal is final; anything else
    (a timeout, a 5xx, an unexpected error) is unknown and left for verification."""
    if isinstance(exc, gw.CardDeclined):
        return Outcome(payment_id, "declined", exc.payment_intent_id or pi_id, code=exc.code,
                       decline_code=exc.decline_code, message=exc.message)
    if isinstance(exc, gw.ActionRequired):
        return Outcome(payment_id, "failed", exc.payment_intent_id or pi_id,
                       code="authentication_required", message=exc.message)
    if isinstance(exc, gw.InvalidRequest) and not isinstance(exc, gw.OutcomeUnknown):
        return Outcome(payment_id, "failed", pi_id, code=exc.code, message=exc.message)
    message = exc.message if isinstance(exc, gw.GatewayError) else "no answer"
    return Outcome(payment_id, "verifying", pi_id, message=message)
