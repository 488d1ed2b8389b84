"""The sandbox's hosted card page: what Stripe Checkout shows at a setup-mode session's `url`.

Plain HTML with one form and no JavaScript, so it works in any phone browser. GET shows
the form (card number, expiry, CVC, ZIP, the session's custom text; no "keep this card
on file" box: Stripe's setup-mode page has none); POST sets the card up (resources/checkout_sessions.py). A decline
shows Stripe's message and leaves the session open; a complete or expired session's page
says so and accepts nothing. The card number goes nowhere but here: it is never echoed
back into the page, logged, or kept (the PaymentMethod keeps the last four digits).
Changes made from the page are the payer's, not an API request's: their events carry no
request id.
"""

from __future__ import annotations

import datetime
import html
import re
import urllib.parse
from typing import Any

from gateway.sandbox.errors import ApiError
from gateway.sandbox.resources import checkout_sessions, payment_methods
from gateway.sandbox.store import State

PAGE_PATH = re.compile(r"^/pay/(?P<session>cs_test_\w+)/?$")
HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    # No script, no frame, no third party: the card form posts to this page only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:28rem;margin:1.5rem auto;"
          "padding:0 1rem;color:#1a1a1a}label{display:block;margin:.8rem 0 .2rem}"
          "input[type=text]{width:100%;padding:.5rem;font-size:1.1rem;box-sizing:border-box}"
          ".row{display:flex;gap:.8rem}.row>div{flex:1}.error{color:#b00020;font-weight:600}"
          ".text{white-space:pre-line;margin:1rem 0}.note{color:#555;font-size:.9rem}"
          "button{margin-top:1.2rem;width:100%;padding:.8rem;font-size:1.1rem}"
          ".test{background:#fff3cd;padding:.3rem .6rem;font-size:.85rem}")


def handle(state: State, method: str, path: str, body: str) -> tuple[int, str, dict[str, str]]:
    """(status, HTML, headers) for a request to a hosted page."""
    match = PAGE_PATH.match(path)
    if match is None or method not in ("GET", "POST"):
        return 404, _page("Page not found", "<p>There is no payment page here.</p>"), HEADERS
    with state.lock:
        state.sweep()  # a session past its expires_at expires first
        session = state.objects.get(match["session"])
        if session is None or session.get("object") != "checkout.session":
            return 404, _page("Page not found", "<p>This link is not valid.</p>"), HEADERS
        if session["status"] != "open":
            return 409 if method == "POST" else 200, _closed(session), HEADERS
        headers = _headers(session)
        if method == "GET":
            page = _challenge(session) if session.get("_pending") else _form(session)
            return 200, page, headers
        fields = _fields(body)
        if "authenticate" in fields:
            declined = checkout_sessions.authenticate(state, session,
                                                      fields["authenticate"] == "complete")
            status, page, headers = (402, _form(session, declined.message), headers) \
                if declined is not None else _done(session, headers)
        else:
            status, page, headers = _submit(state, session, fields, headers)
        state.save()
        return status, page, headers


def _fields(body: str) -> dict[str, str]:
    parsed = urllib.parse.parse_qs(body, keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items() if v}


def _headers(session: dict[str, Any]) -> dict[str, str]:
    """The page's headers; the form may lead to the session's success_url only (a browser
    holds a form's redirect to `form-action` too)."""
    target = urllib.parse.urlsplit(str(session.get("success_url") or ""))
    if not target.netloc:
        return HEADERS
    origin = f"{target.scheme}://{target.netloc}"
    policy = HEADERS["Content-Security-Policy"].replace("form-action 'self'",
                                                        f"form-action 'self' {origin}")
    return {**HEADERS, "Content-Security-Policy": policy}


def _submit(state: State, session: dict[str, Any], fields: dict[str, str],
            headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    consent = session.get("consent_collection") or {}
    if consent.get("terms_of_service") == "required" and fields.get("terms") != "accepted":
        return 400, _form(session, "Please accept the terms to continue."), headers
    problem, card = _card_params(state, fields)
    if problem is not None:
        return 400, _form(session, problem), headers
    try:
        pm = payment_methods.create(state, card)
    except ApiError as refused:
        return 402, _form(session, refused.message), headers
    outcome = checkout_sessions.submit_card(state, session, pm)
    if outcome == checkout_sessions.AUTHENTICATE:
        return 200, _challenge(session), headers
    if isinstance(outcome, ApiError):
        return 402, _form(session, outcome.message), headers
    return _done(session, headers)


def _done(session: dict[str, Any], headers: dict[str, str]) -> tuple[int, str, dict[str, str]]:
    """After the card is saved: to the success_url (Stripe fills in the session id), or a
    page that says so."""
    if session.get("success_url"):
        target = str(session["success_url"]).replace("{CHECKOUT_SESSION_ID}", session["id"])
        return 303, _page("Card saved", f'<p><a href="{html.escape(target)}">Continue</a></p>'),\
            {**headers, "Location": target}
    return 200, _closed(session), headers


def _card_params(state: State, fields: dict[str, str]) -> tuple[str | None, dict[str, Any]]:
    """The PaymentMethod create params for what was typed, or the page's message about it
    (Stripe's page checks these before anything reaches the API)."""
    number = re.sub(r"[\s-]", "", fields.get("number", ""))
    if not number:
        return "Your card number is incomplete.", {}
    expiry = re.sub(r"\s", "", fields.get("expiry", ""))
    found = re.fullmatch(r"(\d{1,2})/?(\d{2}|\d{4})", expiry)
    if found is None:
        return "Your card's expiration date is incomplete.", {}
    month, year = int(found[1]), int(found[2])
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        return "Your card's expiration date is invalid.", {}
    today = datetime.datetime.fromtimestamp(state.now(), datetime.UTC)
    if (year, month) < (today.year, today.month):
        return "Your card's expiration year is in the past.", {}
    cvc = fields.get("cvc", "").strip()
    if not re.fullmatch(r"\d{3,4}", cvc):
        return "Your card's security code is incomplete.", {}
    postal = fields.get("postal_code", "").strip()
    if not postal:
        return "Your ZIP is incomplete.", {}
    return None, {"type": "card",
                  "card": {"number": number, "exp_month": str(month), "exp_year": str(year),
                           "cvc": cvc},
                  "billing_details": {"address": {"postal_code": postal}}}


# -- pages --------------------------------------------------------------------------------------


def _page(title: str, content: str) -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
            "<p class=\"test\">Test mode: this is the Stripe sandbox. Use a test card such as "
            "4242 4242 4242 4242.</p>"
            f"<h1>{html.escape(title)}</h1>{content}</body></html>")


def _text(session: dict[str, Any], key: str) -> str:
    value = (session.get("custom_text") or {}).get(key)
    message = value.get("message") if isinstance(value, dict) else None
    return f'<div class="text" id="{key}">{html.escape(message)}</div>' if message else ""


def _form(session: dict[str, Any], error: str | None = None) -> str:
    """The card form; fields are always empty: what was typed is never sent back."""
    consent = session.get("consent_collection") or {}
    terms = ""
    if consent.get("terms_of_service") == "required":
        custom = (session.get("custom_text") or {}).get("terms_of_service_acceptance")
        label = (custom or {}).get("message") or "I agree to the Terms of Service."
        terms = (f'<label><input type="checkbox" name="terms" value="accepted" required> '
                 f"{html.escape(label)}</label>")
    alert = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    if session.get("cancel_url"):  # Stripe shows a back button then
        alert = f'<p><a href="{html.escape(session["cancel_url"])}">Back</a></p>{alert}'

    content = (
        f"{alert}<form method=\"post\" action=\"/pay/{session['id']}\" autocomplete=\"off\">"
        '<label for="number">Card number</label>'
        '<input type="text" id="number" name="number" inputmode="numeric" '
        'autocomplete="cc-number" placeholder="1234 1234 1234 1234" required>'
        '<div class="row"><div><label for="expiry">Expiry (MM/YY)</label>'
        '<input type="text" id="expiry" name="expiry" inputmode="numeric" '
        'autocomplete="cc-exp" placeholder="MM/YY" required></div>'
        '<div><label for="cvc">CVC</label><input type="text" id="cvc" name="cvc" '
        'inputmode="numeric" autocomplete="cc-csc" placeholder="123" required></div></div>'
        '<label for="postal_code">ZIP</label><input type="text" id="postal_code" '
        'name="postal_code" autocomplete="postal-code" required>'
        f'{terms}{_text(session, "submit")}'
        '<button type="submit">Save card</button></form>'
        f'{_text(session, "after_submit")}')
    return _page("Save a card for later payments", content)


def _challenge(session: dict[str, Any]) -> str:
    """Stripe's test 3-D Secure page: the payer completes or fails the challenge."""
    content = (
        "<p>Your bank asks you to confirm this card. In test mode, choose how the "
        "authentication ends.</p>"
        f"<form method=\"post\" action=\"/pay/{session['id']}\">"
        '<button type="submit" name="authenticate" value="complete">Complete authentication'
        '</button><button type="submit" name="authenticate" value="fail">Fail '
        "authentication</button></form>")
    return _page("3D Secure test page", content)


def _closed(session: dict[str, Any]) -> str:
    if session["status"] == "complete":
        return _page("Card saved", "<p>Your card has been saved. This page can be used "
                                   "only once; you can close it now.</p>")
    return _page("This page has expired",
                 "<p>This link has expired and accepts no card. Ask for a new one.</p>")
