"""`paydesk demo`, `kiosk` and `desk` load peewee for the one database they open: without
the PostgreSQL driver for a SQLite file (it is never used there, and loading it delays the
first screen), as usual for a PostgreSQL URL. Each check runs in a fresh Python, as the
command does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Brings a database to the current schema with the demo firm in it (as `paydesk db upgrade`
# does: running the migrations loads every driver, PostgreSQL's included).
PREPARE = r'''
import sys
from models import bind, open_database
from models.demo import seed_demo
from models.schema import upgrade

db = bind(open_database(sys.argv[1]))
upgrade(db)
with db.connection_context():
    seed_demo()
db.close()
'''

# The steps `paydesk kiosk` / `paydesk desk` take before the app runs (tui.commands.apps._run):
# load the database library, then build the app over the configured database.
START = r'''
import json, sys
from billing.config import Settings
from tui.commands.apps import load_database_library

url, folder = sys.argv[1], sys.argv[2]
load_database_library(url)
seen = {"driver_while_starting": "psycopg2" in sys.modules}

from tui.factory import make_app

settings = Settings(database_url=url, outbox_dir=folder + "/outbox", terminal="t")
app = make_app(settings, mode="desk")
seen["firm"] = app.firm.name
seen["driver_after_start"] = "psycopg2" in sys.modules
app.services.close()
import psycopg2  # the driver is not kept away for good: it still loads when asked for

seen["driver_loads_later"] = psycopg2.__name__ == "psycopg2"
print(json.dumps(seen))
'''


def _build(url: str, folder: Path) -> dict:
    for script in (PREPARE, START):
        run = subprocess.run([sys.executable, "-c", script, url, str(folder)], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_sqlite_database_starts_without_the_postgresql_driver(tmp_path):
    seen = _build(str(tmp_path / "firm.db"), tmp_path)
    assert seen == {"driver_while_starting": False, "firm": "Harbor & Vale LLP",
                    "driver_after_start": False, "driver_loads_later": True}


@pytest.mark.postgres
def test_a_postgresql_database_starts_with_its_driver(postgres_url, tmp_path):
    seen = _build(postgres_url, tmp_path)
    assert seen["firm"] == "Harbor & Vale LLP"
    assert seen["driver_after_start"] is True

