"""THE factory: settings in, everything Paydesk needs out (database, gateway, desk).

`paydesk`, the demo, the SSH server and the tests all build Paydesk through
`build_services`; nothing connects at import time.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import peewee

from billing.config import Settings
from billing.desk import Desk
from billing.startup_gate import StartupGate
from models import ALL_MODELS  # noqa: F401 - every model (and so every backref) is loaded
from models.db import bind, open_database, sqlite_path
from models.schema import upgrade

if TYPE_CHECKING:
    from gateway import StripeGateway

log = logging.getLogger(__name__)
# The embedded demo's key: any sk_test_ key works with the in-process sandbox.
SANDBOX_API_KEY = "sk_test_paydesk_embedded_sandbox"  # noqa: S105 - a sandbox key, not a secret
KEY_SETTING = "STRIPE_API_KEY (or api_key in the [stripe] section of the settings file)"
DOCTOR = "`paydesk doctor` checks the set-up."
STOPPED_WHILE_STARTING = "Paydesk was stopped while it was starting."


@dataclass
class Services:
    settings: Settings
    db: peewee.Database
    # Built with start_later: None until `finish_start` has run start-up reconciliation, so
    # that nothing reading it (the Stripe events poller) reaches Stripe before that.
    gateway: StripeGateway | None
    desk: Desk
    sandbox: object | None = None  # the in-process sandbox when no Stripe key is configured
    # Set by build_services(start_later=True): what `finish_start` has left to do.
    reconcile_at_start: bool = False
    _given_gateway: StripeGateway | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Set by `close()`: start-up, if still running, stops at the next checkout or refund.
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def finish_start(self) -> str | None:
        """What start-up left for after the first screen (blocking: run it on a thread of
        its own): load the Stripe SDK, start the in-process sandbox when no key is set,
        settle what earlier runs left unfinished, then open the desk's gate. Returns None
        when Stripe is ready, else why not in words (`stripe_setup_failure`), which every
        Stripe action then says as well. The gate opens however this ends; a second call
        gives the first one's answer."""
        gate = self.desk.startup
        if gate is None or gate.is_open:
            return None if gate is None else gate.error
        error = None
        try:
            error = self._set_up_stripe()
        except Exception as exc:  # noqa: BLE001 - said in words; every Stripe action says so
            log.warning("Stripe could not be set up at start-up", exc_info=exc)
            error = stripe_setup_failure(self.settings, exc)
        finally:
            # Reconciliation's connection belongs to this thread: it is not left open.
            if not self.db.is_closed():
                self.db.close()
            gate.open(error)
        return error

    def _set_up_stripe(self) -> str | None:
        if self._stopping.is_set():
            return STOPPED_WHILE_STARTING
        gateway = self._given_gateway
        if gateway is None:
            settings, gateway, sandbox = _connect(self.settings)
            with self._lock:
                if self._stopping.is_set():  # the app stopped meanwhile: nothing is left running
                    if sandbox is not None:
                        sandbox.stop()
                    return STOPPED_WHILE_STARTING
                self.settings, self.sandbox = settings, sandbox
            self.desk.settings = settings
        if self.reconcile_at_start:
            _reconcile(lambda: self.desk.reconcile_at_start(gateway, stop=self._stopping.is_set))
        else:
            self.desk.gateway = gateway
        self.gateway = gateway
        return STOPPED_WHILE_STARTING if self._stopping.is_set() else None

    def close(self) -> None:
        """Stop the embedded sandbox and close this thread's database connection; start-up
        still reconciling stops after the checkout or refund in hand."""
        with self._lock:
            self._stopping.set()
            sandbox, self.sandbox = self.sandbox, None
        if sandbox is not None:
            sandbox.stop()
        if not self.db.is_closed():
            self.db.close()


def stripe_setup_failure(settings: Settings, exc: BaseException) -> str:
    """Why start-up could not set up Stripe, in words that also follow "cannot start: ":
    the built-in sandbox named with its state file (`paydesk doctor` says the same), or
    Stripe's set-up with the error's first line."""
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if _raised_in(exc, "gateway.sandbox"):
        state = embedded_sandbox_state(settings)
        kept = (f" It keeps its state in {state}: if that file is damaged, move it aside and "
                "the sandbox starts afresh (its test customers, saved cards and payments are "
                "then forgotten)." if state else "")
        return (f"the built-in Stripe sandbox (used because no Stripe key is set) could not "
                f"start ({detail}).{kept} To use Stripe itself, set {KEY_SETTING}. {DOCTOR}")
    return f"Stripe could not be set up ({detail}). {DOCTOR}"


def _raised_in(exc: BaseException, package: str) -> bool:
    """Whether code of `package` is on the way from the catch to the raise."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if module == package or module.startswith(package + "."):
            return True
    return False


def embedded_sandbox_state(settings: Settings) -> str | None:
    """Where the in-process sandbox keeps its state: beside a SQLite database, so that the
    database and what "Stripe" knows (customers, saved cards, payments to refund) stay
    together across runs. None (memory only) for PostgreSQL."""
    path = sqlite_path(settings.database_url)
    return f"{path}.stripe-sandbox.json" if path else None


def build_services(settings: Settings, *, clock: Callable[[], dt.datetime] | None = None,
                   reconcile_at_start: bool = True, gateway: StripeGateway | None = None,
                   start_later: bool = False) -> Services:
    """Bind and upgrade the database, build the gateway (starting the in-process sandbox
    when `settings.stripe.api_key` is None), build the Desk, and settle what earlier runs
    left unfinished (checkouts untouched for billing.desk.STARTUP_RECONCILE_AFTER). `gateway` lets a
    test inject its own.

    With `start_later` only the database and the Desk are ready on return: the gateway,
    the sandbox and reconciliation wait for `Services.finish_start` (the app runs it once its
    first screen is drawn), and until that has finished the Desk's Stripe work waits."""
    db = bind(open_database(settings.database_url))
    upgrade(db)
    if start_later:
        desk = Desk(settings, None, clock=clock, startup=StartupGate())
        return Services(settings=settings, db=db, gateway=None, desk=desk,
                        reconcile_at_start=reconcile_at_start, _given_gateway=gateway)
    sandbox = None
    if gateway is None:
        settings, gateway, sandbox = _connect(settings)
    desk = Desk(settings, gateway, clock=clock)
    services = Services(settings=settings, db=db, gateway=gateway, desk=desk, sandbox=sandbox)
    if reconcile_at_start:
        _reconcile(lambda: desk.reconcile_at_start(gateway))
    return services


def _connect(settings: Settings) -> tuple[Settings, StripeGateway, object | None]:
    """The gateway for `settings` (loading the Stripe SDK), and the in-process sandbox it
    talks to when no Stripe key is configured (None otherwise); the settings then name the
    sandbox's address."""
    from gateway import GatewayOptions, StripeGateway

    stripe = settings.stripe
    api_key, api_base = stripe.api_key, stripe.api_base
    sandbox = None
    if api_key is None:
        from gateway.sandbox import start_sandbox

        sandbox = start_sandbox(port=0, state_file=embedded_sandbox_state(settings))
        api_key, api_base = SANDBOX_API_KEY, sandbox.url
        settings = replace(settings, stripe=replace(stripe, api_base=api_base))
    gateway = StripeGateway.from_options(GatewayOptions(
        api_key=api_key, api_base=api_base, max_network_retries=stripe.max_network_retries,
        timeout_seconds=stripe.timeout_seconds,
        raw_card_data_access=stripe.raw_card_data_access,
        requests_per_second=stripe.requests_per_second))
    return settings, gateway, sandbox


def _reconcile(run: Callable[[], object]) -> None:
    """Start-up's reconciliation; Stripe unreachable only postpones it to the next run."""
    try:
        report = run()
        if report.still_unknown:
            log.warning("reconciliation: %d still unknown", report.still_unknown)
    except Exception:  # noqa: BLE001 - Stripe unreachable: the next run settles them
        log.warning("reconciliation at start-up did not finish", exc_info=False)
