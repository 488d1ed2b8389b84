"""Paydesk's settings: loaded once, from a TOML file, then the environment, then flags.

The result is a frozen `Settings` value handed to the factory; nothing reads the
environment after start-up. A wrong value raises `ConfigError` naming the setting and
what is allowed (never echoing a secret).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "paydesk"


class ConfigError(ValueError):
    """A setting has a value Paydesk cannot use; the message names it."""


@dataclass(frozen=True)
class StripeSettings:
    # None means "no Stripe account configured": the demo starts the in-process sandbox.
    api_key: str | None = None
    api_base: str | None = None
    max_network_retries: int = 2
    timeout_seconds: float = 30.0
    # Keyed card entry in live mode needs Stripe's raw-card-data access for the account.
    raw_card_data_access: bool = False
    # Requests a second Paydesk sends to the account at most, all checkouts together; unset:
    # Stripe's own limit for the key's mode (25 in test mode, 100 in live mode).
    requests_per_second: int | None = None
    # The signing secret of Paydesk's webhook endpoint (whsec_...), for `serve-webhooks`.
    webhook_secret: str | None = field(default=None, repr=False)
    # How often a long-running Paydesk reads Stripe's events (refunds made in the
    # Dashboard, disputes) when it polls for them.
    events_poll_seconds: float = 60.0

    @property
    def test_mode(self) -> bool:
        return self.api_key is None or self.api_key.startswith(("sk_test_", "rk_test_"))


@dataclass(frozen=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    # The From address of every email; empty means the firm's own name and email address.
    sender: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class KioskSettings:
    idle_seconds: int = 120
    # How long a card page opened on the payer's phone pays (the kiosk's and the desk's).
    phone_link_minutes: int = 30
    # The firm's public address of `paydesk serve-links` ("https://pay.example-firm.com"):
    # card pages then get a short link that fits a QR code at 80x24 (billing.short_links).
    phone_link_base: str | None = None
    # How the kiosk takes a card, in the order of its tabs: "reader", "phone", "keyed".
    # Keyed entry is offered only in test mode or with stripe.raw_card_data_access
    # (billing.card_entry.offered_ways); a reader-first kiosk by default.
    card_entry: tuple[str, ...] = ("reader", "phone")


@dataclass(frozen=True)
class SshSettings:
    host: str = "127.0.0.1"
    port: int = 2222
    mode: str = "demo"
    host_key_path: str | None = None
    # Passwords for kiosk/desk modes: user name -> password.
    passwords: Mapping[str, str] = field(default_factory=dict)
    authorized_keys_path: str | None = None
    max_sessions: int = 20
    idle_timeout_seconds: int = 900
    # demo mode: "per-connection" gives each connection a throwaway database.
    demo_database: str = "per-connection"
    # The demo database every connection shares when demo_database is "shared";
    # None means default_data_dir()/ssh-demo.db (never the firm's own database).
    shared_demo_path: str | None = None
    # Failed password tries per peer address before it is disconnected, and how long
    # the address then stays refused (seconds).
    max_auth_tries: int = 3
    auth_lockout_seconds: int = 300
    # A connection that has not signed in is apart from the session limit: each peer
    # address may hold this many at once, and each must finish the SSH handshake (and
    # ask to sign in) within handshake_timeout_seconds and be signed in within
    # login_timeout_seconds, or it is closed.
    max_unauthenticated_per_address: int = 3
    handshake_timeout_seconds: float = 5.0
    login_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class Settings:
    database_url: str
    outbox_dir: str
    terminal: str
    stripe: StripeSettings = field(default_factory=StripeSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    kiosk: KioskSettings = field(default_factory=KioskSettings)
    ssh: SshSettings = field(default_factory=SshSettings)
    # True when no file, environment variable or flag set database.url: Paydesk then opens
    # the demo firm's database (the one `make demo` / `paydesk demo` uses).
    database_is_default: bool = False


def default_config_path() -> Path:
    """The TOML file read when no `--config` is given."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_demo_database() -> Path:
    """The demo firm's SQLite file: what `paydesk demo` (and so `make demo`) opens, and what
    every command opens when no database is configured."""
    return default_data_dir() / "demo.db"


def defaults() -> Settings:
    data = default_data_dir()
    return Settings(
        database_url=str(default_demo_database()),
        database_is_default=True,
        outbox_dir=str(data / "outbox"),
        terminal=socket.gethostname() or "terminal",
    )


# setting name -> environment variable
ENVIRONMENT = {
    "database.url": "PAYDESK_DATABASE_URL",
    "stripe.api_key": "STRIPE_API_KEY",
    "stripe.api_base": "PAYDESK_STRIPE_API_BASE",
    "stripe.max_network_retries": "PAYDESK_STRIPE_MAX_NETWORK_RETRIES",
    "stripe.timeout_seconds": "PAYDESK_STRIPE_TIMEOUT_SECONDS",
    "stripe.raw_card_data_access": "PAYDESK_STRIPE_RAW_CARD_DATA_ACCESS",
    "stripe.requests_per_second": "PAYDESK_STRIPE_REQUESTS_PER_SECOND",
    "stripe.webhook_secret": "STRIPE_WEBHOOK_SECRET",
    "smtp.host": "PAYDESK_SMTP_HOST",
    "smtp.port": "PAYDESK_SMTP_PORT",
    "smtp.username": "PAYDESK_SMTP_USERNAME",
    "smtp.password": "PAYDESK_SMTP_PASSWORD",
    "smtp.starttls": "PAYDESK_SMTP_STARTTLS",
    "smtp.sender": "PAYDESK_SMTP_SENDER",
    "paydesk.outbox_dir": "PAYDESK_OUTBOX_DIR",
    "paydesk.terminal": "PAYDESK_TERMINAL",
    "kiosk.idle_seconds": "PAYDESK_KIOSK_IDLE_SECONDS",
    "kiosk.phone_link_minutes": "PAYDESK_KIOSK_PHONE_LINK_MINUTES",
    "kiosk.phone_link_base": "PAYDESK_KIOSK_PHONE_LINK_BASE",
    "kiosk.card_entry": "PAYDESK_KIOSK_CARD_ENTRY",
}

# The ways kiosk.card_entry may list.
CARD_ENTRY_WAYS = ("reader", "phone", "keyed")

_SECRET = {"stripe.api_key", "stripe.webhook_secret", "smtp.password", "ssh.passwords"}
_TOP_LEVEL = {"database.url": "database_url", "paydesk.outbox_dir": "outbox_dir",
              "paydesk.terminal": "terminal"}
_SECTIONS = {"stripe": StripeSettings, "smtp": SmtpSettings, "kiosk": KioskSettings,
             "ssh": SshSettings}


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    """Turn a TOML or environment value into the setting's type, or raise ConfigError."""
    shown = "(hidden)" if name in _SECRET else repr(raw)
    kind_s = str(kind)
    if kind_s.startswith("tuple"):
        return _ways(name, raw)
    if "Mapping" in kind_s:
        if not isinstance(raw, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
        ):
            raise ConfigError(f"{name} must be a table of user = \"password\" strings")
        return dict(raw)
    if kind_s.startswith("bool"):
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in {"1", "true", "yes", "on"}:
            return True
        if text in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {shown}")
    if kind_s.startswith("int"):
        try:
            value = int(str(raw).strip()) if not isinstance(raw, bool) else None
        except ValueError:
            value = None
        if value is None or value < 0:
            raise ConfigError(f"{name} must be a whole number of 0 or more, got {shown}")
        return value
    if kind_s.startswith("float"):
        try:
            value = float(str(raw).strip())
        except ValueError:
            value = -1.0
        if not value > 0 or value != value or value == float("inf"):
            raise ConfigError(f"{name} must be a number of seconds above 0, got {shown}")
        return value
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise ConfigError(f"{name} must be text, got {shown}")
    text = str(raw).strip()
    return text or None if "None" in kind_s else text


def _ways(name: str, raw: Any) -> tuple[str, ...]:
    """A list of card entry ways: a TOML list, or a comma list from the environment."""
    allowed = ", ".join(CARD_ENTRY_WAYS)
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",")]
    if not isinstance(raw, list | tuple) or not all(isinstance(w, str) for w in raw):
        raise ConfigError(f"{name} must be a list of {allowed}, got {raw!r}")
    ways = tuple(w.strip().lower() for w in raw)
    unknown = [w for w in ways if w not in CARD_ENTRY_WAYS]
    if unknown:
        raise ConfigError(f"{name} takes {allowed}; {unknown[0]!r} is not one of them")
    if not ways:
        raise ConfigError(f"{name} must list at least one of {allowed}")
    if len(set(ways)) != len(ways):
        raise ConfigError(f"{name} lists a way twice: {', '.join(ways)}")
    return ways


def _validate(settings: Settings) -> Settings:
    key = settings.stripe.api_key
    if key is not None and not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        raise ConfigError(
            "stripe.api_key (STRIPE_API_KEY) must be a secret or restricted key starting "
            "with sk_test_, sk_live_, rk_test_ or rk_live_"
        )
    base = settings.stripe.api_base
    if base is not None and not base.startswith(("http://", "https://")):
        raise ConfigError(
            f"stripe.api_base (PAYDESK_STRIPE_API_BASE) must be an http:// or https:// URL, got {base!r}"
        )
    rate = settings.stripe.requests_per_second
    if rate is not None and rate < 1:
        raise ConfigError(f"stripe.requests_per_second must be at least 1, got {rate}")
    url = settings.database_url
    if not url:
        raise ConfigError("database.url must be a SQLite file path or a postgresql:// URL")
    if "://" in url and not url.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise ConfigError(
            f"database.url must be a SQLite file path, sqlite:///PATH or a postgresql:// URL, got {url.split('://')[0]}://..."
        )
    if settings.smtp.port < 1 or settings.smtp.port > 65535:
        raise ConfigError(f"smtp.port must be between 1 and 65535, got {settings.smtp.port}")
    if settings.ssh.mode not in {"kiosk", "demo", "desk"}:
        raise ConfigError(f"ssh.mode must be one of kiosk, demo, desk, got {settings.ssh.mode!r}")
    if settings.ssh.demo_database not in {"per-connection", "shared"}:
        raise ConfigError(
            f"ssh.demo_database must be per-connection or shared, got {settings.ssh.demo_database!r}"
        )
    ssh = settings.ssh
    if ssh.port > 65535:
        raise ConfigError(f"ssh.port must be between 0 and 65535, got {ssh.port}")
    if ssh.max_sessions < 1:
        raise ConfigError(f"ssh.max_sessions must be at least 1, got {ssh.max_sessions}")
    if ssh.max_auth_tries < 1:
        raise ConfigError(f"ssh.max_auth_tries must be at least 1, got {ssh.max_auth_tries}")
    if ssh.max_unauthenticated_per_address < 1:
        raise ConfigError(
            "ssh.max_unauthenticated_per_address must be at least 1, got "
            f"{ssh.max_unauthenticated_per_address}"
        )
    if settings.kiosk.idle_seconds < 5:
        raise ConfigError(
            f"kiosk.idle_seconds must be at least 5, got {settings.kiosk.idle_seconds}"
        )
    if not 1 <= settings.kiosk.phone_link_minutes <= 1440:
        raise ConfigError("kiosk.phone_link_minutes must be 1 to 1440 (24 hours), got "
                          f"{settings.kiosk.phone_link_minutes}")
    _check_link_base(settings.kiosk.phone_link_base)
    stripe = settings.stripe
    if set(settings.kiosk.card_entry) == {"keyed"} and not (
            stripe.test_mode or stripe.raw_card_data_access):
        raise ConfigError(
            "kiosk.card_entry lists only keyed, and a live Stripe key without "
            "stripe.raw_card_data_access cannot take a typed card: add reader or phone")
    return settings


def _check_link_base(base: str | None) -> None:
    """A short-link address a phone can open: https (plain http only on this machine's
    loopback, for trying it out), a host, no query or fragment, and short enough that its
    links stay short."""
    if base is None:
        return
    from urllib.parse import urlsplit

    name = "kiosk.phone_link_base (PAYDESK_KIOSK_PHONE_LINK_BASE)"
    parts = urlsplit(base)
    loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise ConfigError(f"{name} must be an https:// address that phones can open, "
                          f"got {base!r}")
    if (not parts.hostname or parts.query or parts.fragment or parts.username
            or parts.path not in ("", "/")):
        raise ConfigError(f"{name} must be a plain address such as https://pay.example.com "
                          f"(no path: links are /p/...), got {base!r}")
    if len(base.rstrip("/")) > 60:
        raise ConfigError(f"{name} must be at most 60 characters, so that its links fit a "
                          f"QR code at 80x24; got {len(base.rstrip('/'))}")


def _apply(settings: Settings, name: str, raw: Any) -> Settings:
    if name in _TOP_LEVEL:
        attr = _TOP_LEVEL[name]
        return replace(settings, **{attr: _coerce(name, raw, str)})
    section, _, key = name.partition(".")
    cls = _SECTIONS.get(section)
    if cls is None:
        raise ConfigError(f"unknown setting {name!r}")
    kinds = {f.name: f.type for f in fields(cls)}
    if key not in kinds:
        allowed = ", ".join(f"{section}.{k}" for k in kinds)
        raise ConfigError(f"unknown setting {name!r}; {section} takes {allowed}")
    current = getattr(settings, section)
    return replace(settings, **{section: replace(current, **{key: _coerce(name, raw, kinds[key])})})


def _flatten(table: Mapping[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if not isinstance(key, str):
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(f"{path}: {key!r} must be a section such as [database] or [stripe]")
        for inner, v in value.items():
            out[f"{key}.{inner}"] = v
    return out


def load_settings(
    config_path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Settings from the TOML file, then the environment, then `overrides` (flags).

    `config_path` None reads the default file if it exists; a path given explicitly
    must exist. `overrides` uses setting names such as ``"database.url"``; None values
    are ignored (a flag not given).
    """
    environ = os.environ if environ is None else environ
    settings = defaults()
    path = Path(config_path) if config_path is not None else default_config_path()
    if path.exists():
        # The TOML parser only when there is a file to read (a start without one skips it).
        import tomllib

        try:
            table = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"config file {path}: not valid TOML ({exc})") from None
        for name, raw in _flatten(table, str(path)).items():
            settings = _apply_tracked(settings, name, raw)
    elif config_path is not None:
        raise ConfigError(f"config file {path} does not exist")
    for name, var in ENVIRONMENT.items():
        if environ.get(var, "") != "":
            try:
                settings = _apply_tracked(settings, name, environ[var])
            except ConfigError as exc:
                raise ConfigError(f"{var}: {exc}") from None
    for name, raw in (overrides or {}).items():
        if raw is not None:
            settings = _apply_tracked(settings, name, raw)
    return _validate(settings)


def _apply_tracked(settings: Settings, name: str, raw: Any) -> Settings:
    settings = _apply(settings, name, raw)
    if name == "database.url":
        settings = replace(settings, database_is_default=False)
    return settings
