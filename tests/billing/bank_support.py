"""Helpers of the bank debit tests: Stripe's test bank numbers, the authorization as the
screens would build it, and paying through the microdeposit step."""

from __future__ import annotations

from billing.bank_values import TEL, WEB, AuthorizationContext, BankAccountEntry
from models import Firm, OutboundEmail
from tests.billing.conftest import full_balances

ROUTING = "110000000"
SUCCEEDS = "000123456789"
FAILS = "000111111116"  # returned by the bank: no_account (R03)
THREE = ("INV-1001", "INV-1004", "INV-1009")
DELAY = 3600  # the sandbox's settlement delay in these tests (Stripe: 4 business days)
PEER = "203.0.113.9"


def web(desk, payer, amounts, account: str = SUCCEEDS):
    entry = BankAccountEntry(ROUTING, account, payer.client_name)
    text = desk.bank_authorization_text(payer, amounts, WEB, last4=entry.last4)
    return entry, AuthorizationContext(
        kind=WEB, text=text, terminal="kiosk-1", confirmation="Confirmed on screen by the client",
        ssh_peer=PEER, ip_address=PEER, user_agent="Paydesk kiosk over SSH")


def tel(desk, payer, amounts, account: str = SUCCEEDS):
    entry = BankAccountEntry(ROUTING, account, payer.client_name)
    text = desk.bank_authorization_text(payer, amounts, TEL, last4=entry.last4)
    return entry, AuthorizationContext(
        kind=TEL, text=text, terminal="desk-1",
        confirmation=f"{payer.staff.name} confirmed that the client said yes on the call")


def pay_three(desk, payer, sandbox, account: str = SUCCEEDS, numbers=THREE, way=web):
    """Pay `numbers` by bank debit, verifying the account with Stripe's test code."""
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(numbers)
    entry, context = way(desk, payer, amounts, account)
    waiting = desk.pay_by_bank(payer, amounts, entry, context)
    result = desk.verify_bank_account(payer, waiting.checkout_id, descriptor_code="SM11AA")
    return amounts, waiting, result


def emails_to(address: str) -> list[OutboundEmail]:
    return list(OutboundEmail.select().where(OutboundEmail.recipient == address)
                .order_by(OutboundEmail.id))


def firm_email() -> str:
    return Firm.get().email
