"""Paying with a card the reader cannot keep: one tap on the reader per invoice payment."""

from __future__ import annotations

from billing import ledger
from billing.crash_points import crash_point
from billing.outcomes import Outcome, outcome_of_error
from billing.stripe_requests import authorize_request
from gateway import errors as gw
from models.payments import Checkout


def taps_needed(count: int) -> str:
    """What the payer is told when the card on the reader cannot be kept for the payment."""
    if count == 1:
        return "This card or phone pays one invoice per tap: tap it once more to pay."
    return (f"This card or phone pays one invoice per tap: tap it once for each invoice, "
            f"{count} taps.")


class ReaderTaps:
    """The reader-tap path of a checkout run (`billing.checkout.CheckoutRun`), used when
    `tap_reader` is set."""

    def _authorize_by_taps(self, checkout: Checkout) -> list[Outcome]:
        """One tap on the reader per payment, one after another. At the first that is not
        authorized the taps stop: the payments not yet tapped stay pending (never sent),
        and the caller cancels the rest, so nothing is charged unless all are."""
        payments = [p for p in ledger.open_payments(checkout.id) if p.status == "pending"]
        outcomes: list[Outcome] = []
        for index, p in enumerate(payments, start=1):
            request = authorize_request(checkout, p)
            if not ledger.update_payment(p.id, status="authorizing"):
                break
            self._progress(p, "tap", f"Tap the card on the reader for {p.invoice.number} "
                                     f"({index} of {len(payments)})")
            outcome = self._authorize_by_tap(p.id, request)
            crash_point("authorize-returned")
            self._store(outcome)
            outcomes.append(outcome)
            self._progress(p, outcome.status, outcome.message or "")
            if outcome.status != "authorized":
                break
        crash_point("authorized")
        return outcomes

    def _authorize_by_tap(self, payment_id: int, request: dict) -> Outcome:
        request = {k: v for k, v in request.items() if k != "payment_method_id"}
        try:
            pi = self.gateway.authorize_on_reader(self.tap_reader, **request,
                                                  timeout_seconds=self.reader_timeout)
        except (gw.ReaderTimeout, gw.InvalidRequest) as exc:
            # No tap in time, or refused before any tap: the reader's intent is cancelled.
            return Outcome(payment_id, "failed", code=getattr(exc, "code", None),
                           message=exc.message)
        except Exception as exc:  # noqa: BLE001 - every error becomes an outcome
            if type(exc) is gw.GatewayError:  # cancelled on the reader; nothing charged
                return Outcome(payment_id, "failed", message=exc.message)
            return outcome_of_error(payment_id, exc)
        if pi.status == "requires_capture":
            return Outcome(payment_id, "authorized", pi.id)
        if pi.status == "succeeded":
            return Outcome(payment_id, "captured", pi.id, charge_id=pi.latest_charge)
        return Outcome(payment_id, "failed", pi.id, message="The card was not authorized.")
