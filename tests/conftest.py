"""Fixtures shared by every test: a database of its own per test (SQLite file, or a
PostgreSQL schema of its own), the demo firm, and where snapshots live."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from models import bind, open_database
from models.demo import seed_demo
from models.schema import upgrade

pytest_plugins = ["tests.contract_plugin"]  # every SDK request checked against Stripe's schema

ROOT = Path(__file__).resolve().parents[1]
STRIPE_FIXTURES = ROOT / "tests" / "fixtures" / "stripe" / "fixtures3.json"
POSTGRES_ENV = "PAYDESK_TEST_POSTGRES_URL"


def _point_snapshots_at_top_level() -> None:
    """pytest-textual-snapshot keeps SVGs beside the tests by default; Paydesk keeps
    them in the top-level snapshots/ folder, one sub-folder per test module."""
    try:
        import pytest_textual_snapshot as plugin
    except ImportError:  # pragma: no cover - the plugin is in the lock file
        return

    def dirname(cls, *, test_location) -> str:
        return str(ROOT / "snapshots" / test_location.basename)

    plugin.SVGImageExtension.dirname = classmethod(dirname)


_point_snapshots_at_top_level()


def postgres_base_url() -> str | None:
    """The PostgreSQL server for tests, or None. Under CI (PAYDESK_REQUIRE_POSTGRES=1)
    a missing server is a failure, never a skip."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("PAYDESK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{POSTGRES_ENV} is not set but PostgreSQL tests are mandatory here")
    return None


@pytest.fixture(autouse=True)
def _sandbox_request_rate(request, monkeypatch) -> None:
    """The sandbox is not Stripe: tests send test-key requests at up to 1,000 a second
    instead of Stripe's 25, so the limiter still runs on every request without making the
    suite wait. Tests marked `stripe_rate_limits` keep Stripe's figures."""
    if request.node.get_closest_marker("stripe_rate_limits") is None:
        monkeypatch.setattr("gateway.rate_limit.TEST_MODE_RATE", 1000)
        monkeypatch.setattr("gateway.rate_limit.ENDPOINT_RATE", 1000)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema of this test's own, dropped afterwards."""
    base = postgres_base_url()
    if base is None:
        pytest.skip(f"{POSTGRES_ENV} is not set (make test sets it when the server answers)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = open_database(base)
    try:
        admin.connect()
    except peewee.OperationalError as exc:
        if os.environ.get("PAYDESK_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL at {base} does not answer: {exc}")
        pytest.skip(f"PostgreSQL at {base} does not answer")
    admin.execute_sql(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}schema={schema}"
    finally:
        admin.execute_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return str(tmp_path / "paydesk.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


def _bound(url: str) -> Iterator[peewee.Database]:
    db = bind(open_database(url))
    upgrade(db)
    db.connect(reuse_if_open=True)
    try:
        yield db
    finally:
        if not db.is_closed():
            db.close()


@pytest.fixture
def db(database_url: str) -> Iterator[peewee.Database]:
    """The models bound to an upgraded, empty database (SQLite and PostgreSQL)."""
    yield from _bound(database_url)


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Iterator[peewee.Database]:
    """The models bound to an upgraded, empty SQLite file (for tests where the
    database engine does not matter)."""
    yield from _bound(sqlite_url)


@pytest.fixture
def postgres_db(postgres_url: str) -> Iterator[peewee.Database]:
    """The models bound to an upgraded, empty PostgreSQL schema (for what only PostgreSQL
    has; mark the test `postgres`)."""
    yield from _bound(postgres_url)


@pytest.fixture
def demo_db(db: peewee.Database) -> peewee.Database:
    """The demo firm, on SQLite and on PostgreSQL."""
    assert seed_demo()
    return db


@pytest.fixture
def demo_sqlite(sqlite_db: peewee.Database) -> peewee.Database:
    """The demo firm on SQLite only."""
    assert seed_demo()
    return sqlite_db


@pytest.fixture(scope="session")
def stripe_fixtures_path() -> Path:
    return STRIPE_FIXTURES
