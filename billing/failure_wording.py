"""Why a checkout failed, in words a client understands."""

from __future__ import annotations

from billing.outcomes import Outcome
from billing.plurals import plural


def failure_message(outcomes: list[Outcome], numbers: dict[int, str], *,
                    locale: str = "en_US") -> str:
    """Which invoice failed and why, in words a client understands: each reason once, as a
    sentence of its own, and what else can be done for as many invoices as are left."""
    failed = [o for o in outcomes if o.status in ("declined", "failed")]
    if failed:
        parts = [f"{numbers[o.payment_id]}: {_sentence(o.message or 'The card was declined')}"
                 for o in failed]
        others = len({numbers[p] for p in numbers} - {numbers[o.payment_id] for o in failed})
        text = "Nothing was charged. " + " ".join(parts)
        if others:
            text += " " + plural(
                others, locale,
                one="You can try another card, or pay the other invoice on its own.",
                other="You can try another card, or pay the other {n} invoices on their own.")
        return text
    return ("Nothing was charged: we could not confirm every authorization with the card "
            "processor. Any authorization is being released.")


def _sentence(text: str) -> str:
    """`text` as one sentence: a capital first letter and exactly one full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
