"""`paydesk doctor`: checks the firm's real set-up and says what is wrong, in words.

One line per check: "ok" or "problem", what was found, and what to do about it. The exit
status is 0 when every check passes and 1 otherwise; `--json` prints the same as JSON.
Nothing is changed: the database is opened, never created or upgraded, and Stripe is only
asked questions, except with `--charge-test` on a test key (an authorization of the minimum
amount on Stripe's test Visa, cancelled at once).
"""

from __future__ import annotations

import json
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import peewee

from billing.config import Settings
from billing.services import KEY_SETTING, stripe_setup_failure
from gateway import GatewayError, GatewayMisconfigured, GatewayOptions, OutcomeUnknown
from gateway.setup_check import (
    RESTRICTED_KEY_NEEDS,
    WHICH_KEY,
    HoldNotSettled,
    KeyLacksPermission,
    SetupCheck,
    key_kind,
    key_mode,
    pinned_api_version,
    sdk_api_version,
)
from models.db import DatabaseUrlError, bind, open_database, sqlite_path
from models.money import Money, format_money, stripe_minimum_charge
from models.schema import MIGRATIONS_DIR

OK, PROBLEM, SKIPPED = "ok", "problem", "skipped"
UPGRADE = "run `paydesk db upgrade`"


@dataclass
class Check:
    name: str
    status: str
    message: str


@dataclass
class Findings:
    """What the database told us, for the checks that come after it."""

    currency: str = "USD"
    locale: str = "en_US"
    checks: list[Check] = field(default_factory=list)
    # The database has a Paydesk schema, only an older one (`paydesk db upgrade` brings it on).
    old_schema: bool = False

    def add(self, name: str, status: str, message: str) -> None:
        self.checks.append(Check(name, status, message))


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check this firm's set-up: database, Stripe, readers")
    p.add_argument("--charge-test", action="store_true",
                   help="with a sk_test_ key: authorize the minimum amount on Stripe's test "
                        "Visa, then cancel it")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=doctor)


def doctor(args, settings: Settings) -> int:
    found = Findings()
    _database(settings, found)
    _stripe(settings, found, charge_test=args.charge_test)
    passed = all(c.status != PROBLEM for c in found.checks)
    if args.json:
        print(json.dumps({"ok": passed, "checks": [asdict(c) for c in found.checks]},
                         indent=2))
    else:
        width = max(len(c.name) for c in found.checks)
        for c in found.checks:
            print(f"{c.status:<8} {c.name:<{width}}  {c.message}")
    return 0 if passed else 1


# --- why a command could not start --------------------------------------------------------

def _raised_in(exc: BaseException, *packages: str) -> bool:
    """Whether code of one of `packages` is on the way from the catch to the raise."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if any(module == p or module.startswith(p + ".") for p in packages):
            return True
    return False


def startup_failure(settings: Settings, exc: BaseException) -> str:
    """Why Paydesk's services could not be built, naming the part that failed: the built-in
    Stripe sandbox (with its state file) or the database. One sentence or two, ending with
    where to look next."""
    doctor = "`paydesk doctor` checks the set-up."
    if _raised_in(exc, "gateway.sandbox"):
        return stripe_setup_failure(settings, exc)  # the app says the same (billing.services)
    if isinstance(exc, peewee.DatabaseError | DatabaseUrlError) or _raised_in(
            exc, "models", "peewee", "playhouse"):
        return (f"the database ({_where(settings.database_url)}) could not be opened or "
                f"brought up to date ({_first_line(exc)}). {doctor}")
    return f"Paydesk could not be set up ({_first_line(exc)}). {doctor}"


# --- the database -------------------------------------------------------------------------

def _where(url: str) -> str:
    """The database named without its password."""
    path = sqlite_path(url)
    if path is not None:
        return f"SQLite {path}"
    parsed = urlparse(url)
    name = parsed.path.lstrip("/") or "postgres"
    return f"PostgreSQL {parsed.hostname or '127.0.0.1'}:{parsed.port or 5432}/{name}"


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _database(settings: Settings, found: Findings) -> None:
    url = settings.database_url
    where = _where(url)
    path = sqlite_path(url)
    if path is not None:
        file = Path(path).expanduser()
        if not file.parent.is_dir():
            found.add("database", PROBLEM,
                      f"{where}: its folder {file.parent} does not exist. Set database.url "
                      "(PAYDESK_DATABASE_URL or --db) to the firm's database, or create the "
                      f"folder and {UPGRADE} to make a new one.")
            return
        if not file.is_file():
            found.add("database", PROBLEM,
                      f"{where}: there is no database there. Set database.url "
                      f"(PAYDESK_DATABASE_URL or --db) to the firm's database, or {UPGRADE} "
                      "to make a new one.")
            return
    if url.startswith(("postgresql://", "postgres://")) and "connect_timeout=" not in url:
        url += ("&" if "?" in url else "?") + "connect_timeout=5"
    try:
        db = bind(open_database(url))
        db.connect(reuse_if_open=True)
    except DatabaseUrlError as exc:
        found.add("database", PROBLEM, f"database.url: {exc}.")
        return
    except peewee.DatabaseError as exc:
        found.add("database", PROBLEM,
                  f"{where} could not be opened ({_first_line(exc)}). Check that the server "
                  "is running and that database.url (PAYDESK_DATABASE_URL or --db) is right.")
        return
    try:
        _schema(db, where, found)
    finally:
        db.close()


def _schema(db: peewee.Database, where: str, found: Findings) -> None:
    from playhouse.migrations import Runner

    runner = Runner(db, directory=str(MIGRATIONS_DIR), table_name="schema_migration")
    try:
        status = runner.status()
    except peewee.DatabaseError as exc:
        found.add("database", PROBLEM,
                  f"{where} answered, but its schema could not be read "
                  f"({_first_line(exc)}).")
        return
    missing = [m.name for m in status if not m.applied]
    unknown = [m.name for m in status if m.path is None]
    applied = [m.name for m in status if m.applied and m.path is not None]
    if unknown:
        found.add("database", PROBLEM,
                  f"{where} has migrations this Paydesk does not know ({', '.join(unknown)}): "
                  "it was upgraded by a newer Paydesk. Install that version.")
        return
    if missing and not applied:
        found.add("database", PROBLEM,
                  f"{where} is empty: no Paydesk schema yet. {UPGRADE.capitalize()} to "
                  "create it.")
        return
    if missing:
        found.old_schema = True
        found.add("database", PROBLEM,
                  f"{where} is at an old schema: migrations {', '.join(missing)} are not "
                  f"applied. Back the database up, then {UPGRADE}.")
        return
    found.add("database", OK, f"{where} answers, schema current ({applied[-1]}).")
    _firm(found)


def _firm(found: Findings) -> None:
    from models.firm import Firm

    firm = Firm.select().order_by(Firm.id).first()
    if firm is None:
        found.add("firm", PROBLEM, "No firm is set up in the database yet: add the firm's "
                                   "details (or `paydesk db seed-demo` for the demo firm).")
        return
    found.currency, found.locale = firm.currency, firm.locale
    switches = "" if firm.online_payments_enabled else " Online payments are switched off."
    found.add("firm", OK, f"{firm.name}, invoices in {firm.currency}.{switches}")


# --- Stripe -------------------------------------------------------------------------------

def _stripe(settings: Settings, found: Findings, *, charge_test: bool) -> None:
    stripe = settings.stripe
    mode = key_mode(stripe.api_key)
    kind = key_kind(stripe.api_key)
    if mode is None:
        found.add("stripe key", PROBLEM,
                  f"No Stripe key is set, so Paydesk runs on its built-in sandbox and takes no "
                  f"real payments. Set {KEY_SETTING} to the firm's secret key from the Stripe "
                  "dashboard (Developers, API keys).")
    elif mode not in ("test", "live"):
        what = ("a publishable key (pk_), which can only identify the account to a web page "
                "and cannot take payments" if kind == "publishable"
                else "not a Stripe secret key (it should start sk_ or rk_)")
        found.add("stripe key", PROBLEM,
                  f"{KEY_SETTING} is not a secret key: it is {what}. {WHICH_KEY}")
    else:
        what = ("test mode: only Stripe's test cards work, nothing is really charged"
                if mode == "test" else "live mode: real cards are charged")
        needs = (f" A restricted key needs {RESTRICTED_KEY_NEEDS} (Dashboard > Developers > "
                 "API keys, edit the key)." if kind == "restricted" else "")
        found.add("stripe key", OK, f"a {kind} key for {what}.{needs}")
    _api_version(found)
    if mode in (None, "test", "live"):
        _keyed_entry(mode, stripe.raw_card_data_access, found)
    if charge_test and mode is not None and (kind, mode) != ("secret", "test"):
        if mode == "live":
            why = "with this live key it would place a hold on a real card"
        elif mode == "test":
            why = "this is a restricted test key: run it with the account's test secret key"
        else:
            why = "this is not a secret key"
        found.add("charge test", PROBLEM,
                  "Refused: --charge-test runs only with a test secret key (sk_test_); "
                  f"{why}. Nothing was sent.")
        charge_test = False
    if mode not in ("test", "live"):
        why = "no Stripe key is set" if mode is None else "the key is not a secret key"
        for name in ("stripe account", "card readers"):
            found.add(name, SKIPPED, f"not checked: {why}.")
        if charge_test:
            found.add("charge test", SKIPPED, f"not run: {why}.")
        return
    check = SetupCheck(GatewayOptions(
        api_key=stripe.api_key, api_base=stripe.api_base,
        max_network_retries=stripe.max_network_retries,
        timeout_seconds=min(stripe.timeout_seconds, 15.0)))
    where = stripe.api_base or "api.stripe.com"
    if not _account(check, where, found):
        found.add("card readers", SKIPPED, "not checked: Stripe did not accept the key or "
                                           "did not answer.")
        if charge_test:
            found.add("charge test", SKIPPED, "not run: Stripe did not accept the key or "
                                              "did not answer.")
        return
    _readers(check, found)
    if charge_test:
        _charge_test(check, found)


def _stripe_failure(exc: GatewayError, where: str) -> str:
    if isinstance(exc, KeyLacksPermission):
        asks = f" (Stripe asks for {exc.permission})" if exc.permission else ""
        return (f"Stripe knows the key, but refused this request for the key's "
                f"permissions{asks}. Give the restricted key {RESTRICTED_KEY_NEEDS} "
                "(Dashboard > Developers > API keys, edit the key), or use the secret key.")
    if isinstance(exc, GatewayMisconfigured):
        return (f"Stripe refused the API key: check that {KEY_SETTING} is the firm's "
                "current key, for the right account (a restricted key needs read access).")
    if isinstance(exc, OutcomeUnknown):
        return (f"Stripe could not be reached at {where}: it did not answer. Check the "
                "network, a proxy or firewall, and stripe.api_base (PAYDESK_STRIPE_API_BASE).")
    return f"Stripe refused the request: {exc.message}"


def _account(check: SetupCheck, where: str, found: Findings) -> bool:
    try:
        account = check.account()
    except KeyLacksPermission:
        # Stripe often refuses a restricted key the account; the 403 itself shows that
        # Stripe knows the key (an unknown key gets a 401).
        found.add("stripe account", SKIPPED,
                  f"not checked: Stripe, reached at {where}, knows the key, but this "
                  "restricted key may not read the account (Stripe refused it GET /v1/account, "
                  "which Paydesk's payments do not need). Whether the account can take card "
                  "payments shows in the Stripe Dashboard.")
        return True
    except GatewayError as exc:
        found.add("stripe account", PROBLEM, _stripe_failure(exc, where))
        return False
    about = ", ".join(part for part in (account.name, account.country) if part)
    label = f"{account.id} ({about})" if about else account.id
    if not account.charges_enabled:
        found.add("stripe account", PROBLEM,
                  f"{label} cannot take card payments yet: finish the account's activation "
                  "in the Stripe dashboard.")
    else:
        found.add("stripe account", OK,
                  f"{label}, reached at {where}, takes card payments.")
    return True


def _api_version(found: Findings) -> None:
    pinned, sdk = pinned_api_version(), sdk_api_version()
    if pinned == sdk:
        found.add("api version", OK,
                  f"{pinned}, the version the installed stripe library was made for.")
    else:
        found.add("api version", PROBLEM,
                  f"Paydesk pins {pinned}, but the installed stripe library was made for "
                  f"{sdk}: reinstall Paydesk's locked dependencies (requirements.lock).")


def _keyed_entry(mode: str | None, raw_access: bool, found: Findings) -> None:
    if mode == "live" and not raw_access:
        found.add("keyed cards", PROBLEM,
                  "Typing a card number in is off: with a live key, card numbers may be "
                  "sent only with Stripe's raw card data access, and the setting "
                  "stripe.raw_card_data_access is false. Saved cards and the card reader "
                  "work. To type cards in, ask Stripe to enable raw card data access on the "
                  "account, then set stripe.raw_card_data_access = true "
                  "(PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS=true).")
    elif mode == "live":
        found.add("keyed cards", OK, "Typing a card number in is on (raw card data access); "
                                     "saved cards and the card reader work too.")
    else:
        found.add("keyed cards", OK, "Typing a card number in works in test mode, with "
                                     "Stripe's test card numbers.")


def _readers(check: SetupCheck, found: Findings) -> None:
    try:
        readers = check.readers()
    except GatewayError as exc:
        found.add("card readers", PROBLEM, _stripe_failure(exc, "Stripe"))
        return
    if not readers:
        found.add("card readers", PROBLEM,
                  "No card reader is registered on this Stripe account, so paying on the "
                  "card reader will not work (typed and saved cards still do). Register "
                  "the reader in the Stripe dashboard (Terminal, Readers, with the code the "
                  "reader shows), then run `paydesk doctor` again.")
        return
    offline = [r for r in readers if r.status == "offline"]
    names = ", ".join(f"{r.label} ({r.status or 'status unknown'})" for r in readers)
    noun = "reader" if len(readers) == 1 else "readers"
    if len(offline) == len(readers):
        found.add("card readers", PROBLEM,
                  f"{len(readers)} {noun} registered, none online: {names}. Turn a reader on "
                  "and connect it to the network.")
    else:
        found.add("card readers", OK, f"{len(readers)} {noun}: {names}.")


def _charge_test(check: SetupCheck, found: Findings) -> None:
    minimum: Money = stripe_minimum_charge(found.currency)
    shown = format_money(minimum, found.locale)
    try:
        result = check.charge_test(amount=minimum.minor, currency=found.currency)
    except HoldNotSettled as exc:
        found.add("charge test", PROBLEM,
                  f"The test authorization of {shown} may have been placed: {exc.message}")
        return
    except GatewayError as exc:
        found.add("charge test", PROBLEM,
                  f"The test authorization of {shown} did not go through: {exc.message}")
        return
    if result.answer_lost and result.final_status == "canceled":
        found.add("charge test", PROBLEM,
                  f"Stripe's answer to the test authorization of {shown} was lost (it did not "
                  f"answer in time). Read back by its metadata, the hold "
                  f"{result.payment_intent_id} was found and cancelled: nothing was charged. "
                  "Run the check again: answers lost on the way from Stripe point to a "
                  "network problem.")
        return
    if result.held_status != "requires_capture" or result.final_status != "canceled":
        found.add("charge test", PROBLEM,
                  f"The test authorization {result.payment_intent_id} of {shown} ended "
                  f"{result.held_status}, then {result.final_status}; expected a hold, then "
                  "canceled.")
        return
    found.add("charge test", OK,
              f"authorized {shown} on Stripe's test Visa ({result.payment_intent_id}) and "
              "cancelled it: nothing was charged.")
