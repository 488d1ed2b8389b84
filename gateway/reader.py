"""The card reader (server-driven Stripe Terminal): a card or a payment taken by a tap.

Which payment methods the reader's intents accept is explained in `gateway.payments`."""

from __future__ import annotations

import time
import uuid
from typing import Any

import stripe
from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams
from stripe.params.terminal import (
    ReaderListParams,
    ReaderProcessPaymentIntentParams,
    ReaderProcessSetupIntentParams,
)
from stripe.params.test_helpers.terminal import ReaderPresentPaymentMethodParams

from gateway.errors import CardDeclined, GatewayError, InvalidRequest, OutcomeUnknown, ReaderTimeout
from gateway.payments import Payments, descriptor_suffix
from gateway.translate import decline_message
from gateway.values import CardInfo, NoReusableCard, PaymentIntentInfo


class ReaderOperations(Payments):
    """The account's Terminal readers: a reusable card, or a hold placed, by a tap."""

    def list_readers(self) -> list[tuple[str, str]]:
        """(id, label) of the account's Terminal readers."""
        readers: ReaderListParams = {"limit": 100}
        listed = self._call(lambda: self._v1.terminal.readers.list(params=readers))
        return [(r["id"], r.get("label") or r["id"]) for r in listed["data"]]

    def card_from_reader(self, reader_id: str, *, customer_id: str, idempotency_key: str,
                         timeout_seconds: float = 60, allow_redisplay: str = "limited",
                         ) -> CardInfo | NoReusableCard:
        """Ask the reader for a card (a SetupIntent processed on it) and wait until it is
        presented. Returns the reusable card it yielded (Stripe's `generated_card`, attached
        to the customer; charges on it are card-not-present), or `NoReusableCard` when the
        card cannot be kept (a wallet tap such as Apple Pay or Google Pay, some debit
        networks): then each payment must be tapped (`authorize_on_reader`). The tapped
        `card_present` PaymentMethod is never handed out: it cannot be charged as a card.
        The generated card gets `allow_redisplay` ("limited" by default: usable for this
        payment, not listed among the saved cards until `keep_card`)."""
        setup: SetupIntentCreateParams = {
            "customer": customer_id, "usage": "off_session",
            # Tapped or inserted only: see "Which payment methods an intent accepts" in
            # gateway.payments.
            "allowed_payment_method_types": ["card_present"]}
        seti_opts = self._key(idempotency_key, "seti")
        seti = self._call(lambda: self._v1.setup_intents.create(params=setup, options=seti_opts))
        seti_id: str = seti["id"]
        process: ReaderProcessSetupIntentParams = {
            "setup_intent": seti_id, "allow_redisplay": allow_redisplay}
        process_opts = self._key(idempotency_key, "process")
        self._call(lambda: self._v1.terminal.readers.process_setup_intent(
            reader_id, params=process, options=process_opts))
        action = self._wait_for_action(reader_id, "process_setup_intent", "setup_intent",
                                       seti_id, timeout_seconds)
        if action is None:
            self._cancel_reader_action(reader_id, idempotency_key, "process_setup_intent",
                                       "setup_intent", seti_id)
            raise ReaderTimeout("No card was presented to the reader in time.")
        if action["status"] != "succeeded":
            code = action.get("failure_code")
            if code == "canceled":
                raise GatewayError("The card reader request was canceled.")
            decline_code = self._setup_decline_code(seti_id)
            raise CardDeclined(decline_message(code, decline_code), code=code,
                               decline_code=decline_code)
        generated = (action.get("process_setup_intent") or {}).get("generated_card")
        if generated:
            generated_id: str = generated
            return CardInfo.from_stripe(self._call(
                lambda: self._v1.payment_methods.retrieve(generated_id)))
        seti = self._call(lambda: self._v1.setup_intents.retrieve(seti_id))
        tapped = seti.get("payment_method")
        present: dict[str, Any] = {}
        if tapped:
            tapped_id: str = tapped
            pm = self._call(lambda: self._v1.payment_methods.retrieve(tapped_id))
            present = pm.get("card_present") or pm.get("card") or {}
        return NoReusableCard(present.get("brand") or "unknown", present.get("last4") or "",
                              (present.get("wallet") or {}).get("type"))

    def authorize_on_reader(self, reader_id: str, *, amount: int, currency: str,
                            customer_id: str, metadata: dict[str, str],
                            statement_descriptor_suffix: str, description: str,
                            idempotency_key: str, timeout_seconds: float = 60,
                            ) -> PaymentIntentInfo:
        """Place a hold by a tap on the reader: a PaymentIntent (manual capture, card_present
        only, not confirmed) processed on the reader, which authorizes it when the card or
        phone is tapped. Returns the authorized intent (requires_capture). Raises
        CardDeclined (with the intent, which is left for the caller to cancel),
        ReaderTimeout (no tap in time: the intent is cancelled), InvalidRequest, GatewayError
        (the tap was cancelled on the reader: the intent is cancelled) or OutcomeUnknown."""
        params: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency.lower(), "customer": customer_id,
            "capture_method": "manual",
            # Tapped on the reader only: an in-person, card-present payment.
            "allowed_payment_method_types": ["card_present"],
            "metadata": dict(metadata), "description": description,
        }
        suffix = descriptor_suffix(statement_descriptor_suffix)
        if suffix:
            params["statement_descriptor_suffix"] = suffix
        pi_opts = self._key(idempotency_key, "pi")
        pi_id: str = self._call(lambda: self._v1.payment_intents.create(
            params=params, options=pi_opts))["id"]
        # A law firm's invoice takes no tip, whatever the reader's configuration says.
        process: ReaderProcessPaymentIntentParams = {
            "payment_intent": pi_id, "process_config": {"skip_tipping": True}}
        process_opts = self._key(idempotency_key, "process")
        try:
            self._call(lambda: self._v1.terminal.readers.process_payment_intent(
                reader_id, params=process, options=process_opts))
        except GatewayError as exc:
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, exc)
        try:
            action = self._wait_for_action(reader_id, "process_payment_intent",
                                           "payment_intent", pi_id, timeout_seconds)
        except GatewayError as exc:  # the reader could not be read: stop it, release the hold
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, exc)
        if action is None:
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, ReaderTimeout(
                "No card was tapped on the reader in time. Nothing was charged."))
        if action["status"] == "succeeded":
            info = self.payment_intent(pi_id)
            if info.status in ("requires_capture", "succeeded"):
                return info
            raise OutcomeUnknown("The reader finished, but the payment is not authorized yet.")
        if action.get("failure_code") == "canceled":
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, GatewayError(
                "The payment was canceled on the card reader. Nothing was charged."))
        code = action.get("failure_code")
        decline = None
        try:
            decline = self.payment_intent(pi_id).decline
        except GatewayError:
            pass  # the decline stands; only its reason is unknown
        decline_code = decline.decline_code if decline else None
        raise CardDeclined(decline_message(decline.code if decline else code, decline_code),
                           code=decline.code if decline else code, decline_code=decline_code,
                           payment_intent_id=pi_id)

    def _settle_on_reader(self, reader_id: str, pi_id: str, key: str,
                          failure: GatewayError) -> PaymentIntentInfo:
        """The reader did not report an authorization: stop the reader, and return the
        intent if a tap authorized it after all; otherwise cancel it and raise `failure`
        (OutcomeUnknown when Stripe cannot say which)."""
        self._cancel_reader_action(reader_id, key, "process_payment_intent", "payment_intent",
                                   pi_id)
        try:
            info = self.payment_intent(pi_id)
            if info.status in ("requires_capture", "succeeded"):
                return info
            cancelled = self.cancel(pi_id, idempotency_key=f"{key}:cancel")
        except OutcomeUnknown as exc:
            raise OutcomeUnknown(failure.message) from exc
        except GatewayError:
            info = self.payment_intent(pi_id)  # cancel refused: the intent says what holds
            if info.status in ("requires_capture", "succeeded"):
                return info
            raise failure from None
        if cancelled.status != "canceled":
            raise OutcomeUnknown(failure.message)
        raise failure

    def cancel_reader_action(self, reader_id: str) -> bool:
        """Stop the reader waiting for a card (the payer cancelled on the screen). The call
        waiting on it (`card_from_reader`, `authorize_on_reader`) then ends as cancelled on
        the reader, and nothing is charged. False when the reader was not waiting."""
        reader = self._call(lambda: self._v1.terminal.readers.retrieve(reader_id))
        if (reader.get("action") or {}).get("status") != "in_progress":
            return False
        opts: stripe.RequestOptions = {"idempotency_key": f"cancel-action:{uuid.uuid4()}"}
        self._call(lambda: self._v1.terminal.readers.cancel_action(reader_id, options=opts))
        return True

    def _cancel_reader_action(self, reader_id: str, key: str, action_type: str, field: str,
                              object_id: str) -> None:
        """Stop the reader waiting for a card for `object_id`; another payment's action on
        the same reader is left alone."""
        opts = self._key(key, "cancel-action")
        try:
            reader = self._call(lambda: self._v1.terminal.readers.retrieve(reader_id))
            action = reader.get("action") or {}
            if (action.get(action_type) or {}).get(field) != object_id \
                    or action.get("status") != "in_progress":
                return
            self._call(lambda: self._v1.terminal.readers.cancel_action(reader_id, options=opts))
        except GatewayError:
            pass  # the reader finished or is gone: what it did is read from the intent

    def _setup_decline_code(self, seti_id: str) -> str | None:
        """The issuer's reason a card on the reader was refused (on the SetupIntent)."""
        try:
            seti = self._call(lambda: self._v1.setup_intents.retrieve(seti_id))
        except GatewayError:
            return None  # the decline stands; only its reason is unknown
        return (seti.get("last_setup_error") or {}).get("decline_code")

    def _wait_for_action(self, reader_id: str, action_type: str, field: str, object_id: str,
                         timeout: float) -> dict[str, Any] | None:
        """The reader's finished action on `object_id` (succeeded or failed), or None when
        the deadline passes first. Reads that fail are retried until the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader = self._call(lambda: self._v1.terminal.readers.retrieve(reader_id))
                action = reader.get("action") or {}
                mine = (action.get(action_type) or {}).get(field) == object_id
                if mine and action.get("status") in ("succeeded", "failed"):
                    return action
            except OutcomeUnknown:
                pass  # a read: keep polling until the deadline
            if time.monotonic() >= deadline:
                return None
            self._sleep(self._poll_interval)

    def present_test_card_on_reader(self, reader_id: str,
                                    card_number: str = "4242424242424242") -> None:
        """Test mode only: tap a Stripe test card on a simulated reader."""
        if not self.test_mode:
            raise InvalidRequest("A test card can only be presented in test mode.")
        tap: ReaderPresentPaymentMethodParams = {
            "type": "card_present", "card_present": {"number": card_number}}
        opts: stripe.RequestOptions = {"idempotency_key": f"present:{uuid.uuid4()}"}
        self._call(lambda: self._v1.test_helpers.terminal.readers.present_payment_method(
            reader_id, params=tap, options=opts))
