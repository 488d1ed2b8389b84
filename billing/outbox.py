"""Delivering the outbox: queued emails go out over SMTP, or become .eml files.

Each due email is first *claimed* in a short transaction (its next attempt is pushed a
lease ahead, compare-and-set), then sent with no database transaction open, then marked
sent or failed. Two processes delivering at once therefore never both send one email, and
a process that dies mid-send leaves the email queued for a later run once the lease ends.
A failed delivery keeps the email queued, counts the attempt, keeps the error and backs
off exponentially; an email is never deleted.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from billing.config import SmtpSettings
from billing.emails import STORE_POLICY, parse_message
from billing.errors import BillingError
from models import OutboundEmail, database, utcnow, write_transaction

__all__ = ["BASE_DELAY", "CLAIM_LEASE", "MAX_DELAY", "DeliveryReport", "backoff", "deliver_due"]

BASE_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(hours=1)
# Longer than the worst SMTP exchange (connect + TLS + login + DATA at SMTP_TIMEOUT each).
CLAIM_LEASE = dt.timedelta(minutes=10)
SMTP_TIMEOUT = 30.0
_MAX_ERROR = 500


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery run did: emails sent, attempts that failed, emails still queued
    (due later or not reached), and the failures' reasons."""

    sent: int
    failed: int
    still_queued: int
    errors: tuple[str, ...] = ()


def backoff(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed delivery: 30 s, 1 min, 2 min, ... at most 1 h."""
    exponent = max(0, attempts - 1)
    if exponent >= 20:  # 30 s * 2**20 is far beyond the cap; avoid huge numbers
        return MAX_DELAY
    return min(BASE_DELAY * (2**exponent), MAX_DELAY)


class _ConnectionLost(Exception):
    """The SMTP server cannot be reached or dropped us: stop this run, retry later."""


def _error_text(exc: BaseException, secrets: tuple[str | None, ...]) -> str:
    text = f"{type(exc).__name__}: {exc}"
    for secret in secrets:
        if secret:
            text = text.replace(secret, "(hidden)")
    return text[:_MAX_ERROR]


def _claim(email_id: int, now: dt.datetime) -> OutboundEmail | None:
    """The email, if this process won it: pushed a lease ahead so no other run takes it."""
    with write_transaction():
        won = (
            OutboundEmail.update(next_attempt_at=now + CLAIM_LEASE)
            .where(OutboundEmail.id == email_id, OutboundEmail.status == "queued",
                   OutboundEmail.next_attempt_at <= now)
            .execute()
        )
        if won != 1:
            return None
        return OutboundEmail.get_by_id(email_id)


def _mark_sent(email_id: int, now: dt.datetime) -> None:
    with write_transaction():
        OutboundEmail.update(
            status="sent", sent_at=now, attempts=OutboundEmail.attempts + 1, last_error=None,
        ).where(OutboundEmail.id == email_id).execute()


def _mark_failed(email: OutboundEmail, now: dt.datetime, error: str) -> None:
    attempts = email.attempts + 1
    with write_transaction():
        OutboundEmail.update(
            attempts=OutboundEmail.attempts + 1, last_error=error,
            next_attempt_at=now + backoff(attempts),
        ).where(OutboundEmail.id == email.id, OutboundEmail.status == "queued").execute()


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("@", "_at_"))[:80].strip("._") or "email"


def _write_eml(email: OutboundEmail, message_bytes: bytes, outbox_dir: str) -> Path:
    folder = Path(outbox_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{email.id:06d}-{_safe_name(email.recipient)}.eml"
    # Written aside and renamed, so a reader never sees half a message.
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(message_bytes)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return target


class _Smtp:
    """One SMTP session per run, opened at the first email."""

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None) -> None:
        self.settings = settings
        self.context = ssl_context
        self.client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = self.context or ssl.create_default_context()
        try:
            if s.port == 465:  # implicit TLS ("SMTPS")
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=SMTP_TIMEOUT, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=SMTP_TIMEOUT)
            try:
                client.ehlo()
                if s.starttls and s.port != 465:
                    client.starttls(context=context)
                    client.ehlo()
                if s.username:
                    client.login(s.username, s.password or "")
            except BaseException:
                client.close()
                raise
        except (OSError, smtplib.SMTPException) as exc:
            raise _ConnectionLost(_error_text(exc, (s.password,))) from exc
        return client

    def send(self, email: OutboundEmail, message) -> None:
        if self.client is None:
            self.client = self._connect()
        try:
            self.client.send_message(message, to_addrs=[email.recipient])
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.close()
            raise _ConnectionLost(_error_text(exc, (self.settings.password,))) from exc

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()


def deliver_due(
    smtp: SmtpSettings,
    outbox_dir: str,
    *,
    now: dt.datetime | None = None,
    limit: int = 100,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryReport:
    """Deliver the queued emails that are due at `now` (naive UTC; default: the clock).

    Over SMTP when `smtp.enabled` (STARTTLS when `smtp.starttls`, login when a user name
    is set; `ssl_context` overrides the system's trusted certificates), else as
    `<outbox_dir>/<id>-<recipient>.eml`. The From header is `smtp.sender`. At most `limit`
    emails per run. Must run outside a database transaction: sending happens between the
    claim and the mark, never with a lock held.
    """
    if database.in_transaction():
        raise BillingError("Emails are delivered after the payment is committed, not inside it")
    now = now or utcnow()
    due = [
        row.id for row in
        OutboundEmail.select(OutboundEmail.id)
        .where(OutboundEmail.status == "queued", OutboundEmail.next_attempt_at <= now)
        .order_by(OutboundEmail.next_attempt_at, OutboundEmail.id)
        .limit(limit)
    ]
    sent = failed = 0
    errors: list[str] = []
    session = _Smtp(smtp, ssl_context) if smtp.enabled else None
    try:
        for email_id in due:
            email = _claim(email_id, now)
            if email is None:
                continue  # another process took it, or it was sent meanwhile
            try:
                message = parse_message(email.message)
                if smtp.sender:
                    del message["From"]
                    message["From"] = smtp.sender
                if session is not None:
                    session.send(email, message)
                else:
                    _write_eml(email, message.as_bytes(policy=STORE_POLICY), outbox_dir)
            except _ConnectionLost as exc:
                _mark_failed(email, now, str(exc))
                failed += 1
                errors.append(f"email {email.id} to {email.recipient}: {exc}")
                break  # the server is away: the rest wait for the next run untouched
            except (OSError, smtplib.SMTPException, ValueError) as exc:
                error = _error_text(exc, (smtp.password,))
                _mark_failed(email, now, error)
                failed += 1
                errors.append(f"email {email.id} to {email.recipient}: {error}")
                continue
            _mark_sent(email.id, now)
            sent += 1
    finally:
        if session is not None:
            session.close()
    still_queued = OutboundEmail.select().where(OutboundEmail.status == "queued").count()
    return DeliveryReport(sent=sent, failed=failed, still_queued=still_queued,
                          errors=tuple(errors))
