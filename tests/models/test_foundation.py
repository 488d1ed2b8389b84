"""The ground rules of the set-up: SQLite pragmas, a deterministic demo firm, and
PostgreSQL tests that fail (never skip) where CI makes them mandatory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from models import ALL_MODELS, bind, database, open_database
from models.demo import seed_demo
from models.schema import upgrade

ROOT = Path(__file__).resolve().parents[2]
# Hashes with a random salt differ on every seed by design; everything else must not.
SALTED = {"pin_hash", "password_hash"}


def test_sqlite_files_use_wal_and_enforce_foreign_keys(sqlite_db):
    assert database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def _dump(path: Path) -> dict[str, list[tuple]]:
    db = bind(open_database(str(path)))
    upgrade(db)
    with db.connection_context():
        assert seed_demo()
        assert not seed_demo()  # seeding again changes nothing
        out = {}
        for model in ALL_MODELS:
            columns = [f for f in model._meta.sorted_fields if f.name not in SALTED]
            out[model._meta.table_name] = list(
                model.select(*columns).order_by(model._meta.primary_key).tuples())
    return out


def test_the_demo_firm_is_the_same_every_time(tmp_path):
    first, second = _dump(tmp_path / "a.db"), _dump(tmp_path / "b.db")
    assert first == second
    assert len(first["invoice"]) >= 60 and len(first["client"]) >= 20


def test_postgres_tests_fail_rather_than_skip_where_they_are_mandatory(tmp_path):
    env = dict(os.environ, PAYDESK_REQUIRE_POSTGRES="1",
               PAYDESK_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:1/test?connect_timeout=2")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
         "tests/models/test_schema.py::test_upgrade_creates_every_table_and_twice_is_a_no_op"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "does not answer" in result.stdout and "1 failed" in result.stdout

    env.pop("PAYDESK_TEST_POSTGRES_URL")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "-p", "no:cacheprovider",
         "tests/models/test_schema.py::test_upgrade_creates_every_table_and_twice_is_a_no_op"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1, result.stdout
    assert "mandatory" in result.stdout and "skipped" not in result.stdout
