"""The sign-ins a demo shows on its screens. Built by the factory (tui.factory.make_app) from
the demo firm's seed; production screens are handed these words and know no demo data."""

from __future__ import annotations

from dataclasses import dataclass

from models.demo_sign_ins import DANA_EMAIL, DANA_PASSWORD, DEMO_STAFF

DEMO_CODE = "LINK-1013"


@dataclass(frozen=True)
class DemoHints:
    """What the welcome, client sign-in and staff sign-in screens say in a demo."""

    welcome: str
    client: str
    staff: str


def demo_hints() -> DemoHints:
    staff = ", ".join(f"{name} {pin}" for name, _role, pin in DEMO_STAFF)
    return DemoHints(
        welcome=(f"Demo: sign in as {DANA_EMAIL} / {DANA_PASSWORD}, or use "
                 f"code {DEMO_CODE}. Staff: {staff}."),
        client=f"Demo sign-in: {DANA_EMAIL}, password {DANA_PASSWORD}",
        staff="Demo sign-ins: " + ", ".join(f"{name} / {pin}" for name, _role, pin in DEMO_STAFF),
    )
