"""The one factory that builds Paydesk's app: the command line, the demo, the SSH server
and the tests all call `make_app`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from billing.card_entry import offered_ways
from billing.config import Settings
from tui.app import AppServices, PaydeskApp
from tui.demo_hints import demo_hints

if TYPE_CHECKING:
    from billing.values_firm import FirmInfo


def make_app(
    settings: Settings,
    *,
    mode: str,
    services: AppServices | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    demo_sign_ins: bool = False,
    allow_quit: bool | None = None,
    idle_clock: Callable[[], float] | None = None,
) -> PaydeskApp:
    """The app for `mode` ("kiosk", "desk" or "demo") over `services`.

    Without `services` they are built from `settings` (database, Stripe gateway, or the
    in-process sandbox when no Stripe key is configured) and closed when the app stops;
    services passed in stay the caller's to close.
    """
    owns = services is None
    if services is None:
        from billing.services import build_services

        # Only the database is opened before the first screen; the app finishes start-up
        # (Stripe, the sandbox, reconciliation) once that screen is drawn.
        services = build_services(settings, clock=clock, start_later=True)
    try:
        firm = services.desk.firm()
    except BaseException:
        if owns:
            services.close()
        raise
    return _app(settings, mode, services, firm, owns=owns, clock=clock,
                demo_sign_ins=demo_sign_ins, allow_quit=allow_quit, idle_clock=idle_clock)


def make_app_later(
    settings: Settings,
    *,
    mode: str,
    firm: FirmInfo,
    build: Callable[[], Any],
    demo_sign_ins: bool = False,
    allow_quit: bool | None = None,
) -> PaydeskApp:
    """The app for `mode` with its services built after its first screen is drawn: `build`
    (run on the app's start-up thread) returns them as `billing.services.build_services`
    (start_later=True) does; `firm` is what that screen shows meanwhile (read beforehand
    without the database layer: `paydesk demo` on a ready demo database). Until the Desk is
    built, whatever asks it for something waits (billing.services_later)."""
    from billing.services_later import ServicesLater

    return _app(settings, mode, ServicesLater(build), firm, owns=True,
                demo_sign_ins=demo_sign_ins, allow_quit=allow_quit)


def _app(settings: Settings, mode: str, services: AppServices, firm: FirmInfo, *, owns: bool,
         clock: Callable[[], dt.datetime] | None = None, demo_sign_ins: bool = False,
         allow_quit: bool | None = None,
         idle_clock: Callable[[], float] | None = None) -> PaydeskApp:
    return PaydeskApp(
        services.desk,
        mode=mode,
        firm=firm,
        kiosk_idle_seconds=settings.kiosk.idle_seconds,
        clock=clock,
        demo_hints=demo_hints() if demo_sign_ins else None,
        allow_quit=allow_quit,
        idle_clock=idle_clock,
        # An SSH session's process is named by the server (tui.ssh.launch).
        receipts_by_email=mode == "kiosk" or settings.terminal.startswith("ssh:"),
        services=services,
        owns_services=owns,
        card_entry_ways=offered_ways(settings, mode),
    )
