"""`paydesk pay`'s card: typed in (standard input, a prompt with echo off, or a test card
as an argument), saved on file, or tapped on a reader."""

from __future__ import annotations

import datetime as dt
import sys
import threading

from billing.card_entry import keyed_card
from billing.errors import BillingError
from billing.values import CardChoice, Payer
from gateway import KeyedCard
from gateway.cards import payment_method_for_test_card
from tui.commands.common import NoTerminal, ask, ask_secret
from tui.commands.money_run import InputError

STDIN_CARD = "--card - (one line on standard input: NUMBER MM/YY CVC)"
CARD_ARGUMENT_REFUSED = (
    "A card number given as an argument is visible to every user of this computer (ps) and "
    f"kept in the shell's history, so it is refused. Pass the card with {STDIN_CARD}, or give "
    "--card alone at a terminal to be asked for it. Only Stripe's published test card "
    "numbers may be given as an argument, and only in test mode.")
CVC_ARGUMENT_REFUSED = (
    "A CVC given as an argument is visible to every user of this computer (ps) and kept in "
    f"the shell's history, so it is refused. Pass the card with {STDIN_CARD}, or leave out "
    "--cvc at a terminal to be asked for it. Only with Stripe's published test card numbers, "
    "in test mode, may --cvc be an argument.")


def _stdin_line() -> str:
    stream = sys.stdin
    if stream is None or stream.closed:
        return ""
    try:
        return stream.readline()
    except (OSError, ValueError, UnicodeDecodeError):
        return ""


def _asked(prompt: str, *, secret: bool, missing: str) -> str:
    try:
        return ask_secret(prompt) if secret else ask(prompt)
    except NoTerminal:
        raise InputError(missing) from None


def typed_card(args, settings) -> KeyedCard | None:
    """The card given with --card, checked in full (number, expiry, CVC) before anything is
    opened or reserved; None when the card is not typed in. InputError for anything else."""
    if args.card is None:
        if args.exp is not None or args.cvc is not None or args.postal_code is not None:
            raise InputError("--exp, --cvc and --postal-code go with --card.")
        return None
    test_mode = settings.stripe.test_mode
    if args.card == "-":
        if args.exp is not None or args.cvc is not None:
            raise InputError("With --card -, the expiry and CVC come on the same line of "
                             "standard input: NUMBER MM/YY CVC.")
        parts = _stdin_line().split()
        if len(parts) < 3:
            raise InputError(f"{STDIN_CARD}: standard input had "
                             f"{'no card' if not parts else 'too little'} (e.g. "
                             "4242424242424242 12/30 123).")
        number, expiry, cvc = "".join(parts[:-2]), parts[-2], parts[-1]
        del parts
    else:
        number = args.card
        if number and not (test_mode and payment_method_for_test_card(number)):
            raise InputError(CARD_ARGUMENT_REFUSED)
        if not number:
            number = _asked("Card number: ", secret=True, missing=(
                f"No card number, and no terminal to ask for it: pass the card with "
                f"{STDIN_CARD}."))
        expiry = args.exp
        if expiry is None:
            expiry = _asked("Expiry (MM/YY): ", secret=False, missing=(
                f"The card's expiry is missing: give --exp MM/YY, or pass the card with "
                f"{STDIN_CARD}."))
        cvc = args.cvc
        if cvc is not None and not (test_mode and payment_method_for_test_card(number)):
            raise InputError(CVC_ARGUMENT_REFUSED)
        if cvc is None:
            cvc = _asked("CVC: ", secret=True, missing=(
                f"The card's CVC is missing: pass the card with {STDIN_CARD}"
                + (", or give --cvc with a Stripe test card in test mode." if test_mode
                   else ".")))
    return keyed_card(number, expiry, cvc, args.postal_code,
                      today=dt.datetime.now(dt.UTC).date())


def _card(desk, args, payer: Payer, keyed: KeyedCard | None) -> CardChoice:
    keep = bool(getattr(args, "keep_card", False))
    if keep and payer.kind != "staff":
        raise InputError("--keep-card records that the payer agreed to keep the card on file: "
                         "give --staff NAME, the staff member who heard them agree.")
    if keyed is not None:
        return CardChoice(kind="keyed", keyed=keyed, keep=keep)
    if args.saved_card is not None:
        if keep:
            raise BillingError("--keep-card goes with a new card (--card or --reader); a "
                               "saved card is already on file.")
        # Only cards kept on file with the payer's consent are listed.
        cards = desk.saved_cards(payer)
        if not cards:
            raise BillingError("The client has no card on file. Pay with --card or --reader "
                               "(add --keep-card if the payer agrees to keep it on file).")
        chosen = [c for c in cards if not args.saved_card or c.payment_method_id == args.saved_card]
        if not chosen:
            raise BillingError(f"{args.saved_card} is not one of the client's cards on file.")
        return chosen[0]
    readers = desk.readers()
    reader = args.reader or (readers[0][0] if readers else "")
    if not reader:
        raise BillingError("No card reader is registered.")
    if desk.firm().test_mode:
        _tap_later(desk, reader, args.present)
    return CardChoice(kind="reader", reader_id=reader, keep=keep)


def _tap_later(desk, reader_id: str, number: str) -> None:
    """Test mode: tap the test card on the simulated reader once it is waiting."""
    def tap() -> None:
        for _ in range(40):
            threading.Event().wait(0.5)
            try:
                desk.present_test_card(reader_id, number)
                return
            except Exception:  # noqa: BLE001,S112 - the reader is not waiting yet
                continue
    threading.Thread(target=tap, daemon=True).start()
