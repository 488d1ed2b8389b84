"""Two Paydesk processes on one SQLite file (the shared SSH demo, several kiosks on one
file): a transaction that read before another process committed must wait for the write
lock, never fail with "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import peewee

from models import Firm, bind, open_database
from models.demo import FIRM_ADDRESS, FIRM_NAME, seed_demo
from models.schema import upgrade

WRITES = ("BEGIN IMMEDIATE", "UPDATE", "INSERT", "DELETE")


def test_a_demo_start_waits_for_another_process_committing_meanwhile(tmp_path: Path):
    path = tmp_path / "shared.db"
    db = bind(open_database(str(path)))
    with db.connection_context():
        upgrade(db)
        assert seed_demo() is True
    # The other process: it holds the write lock with a change not yet committed.
    other = sqlite3.connect(path, isolation_level=None, timeout=15)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE firm SET address = '', email = '' WHERE name = ?", (FIRM_NAME,))

    statements: list[str] = []
    wants_lock = threading.Event()
    outcome: dict[str, object] = {}

    def trace(sql: str) -> None:
        statements.append(sql)
        if sql.lstrip().upper().startswith(WRITES):
            wants_lock.set()

    def second_start() -> None:
        try:
            db.connect(reuse_if_open=True)
            db.connection().set_trace_callback(trace)
            outcome["seeded"] = seed_demo()
        except peewee.DatabaseError as exc:
            outcome["error"] = exc
        finally:
            db.close()

    thread = threading.Thread(target=second_start)
    thread.start()
    try:
        # The race: this start has begun its transaction and asked for the write lock
        # while the other process still holds it ...
        assert wants_lock.wait(15), statements
        assert thread.is_alive(), (outcome, statements)
        assert "seeded" not in outcome and "error" not in outcome
    finally:
        # ... and the other process commits only then.
        other.execute("COMMIT")
        other.close()
        thread.join(30)
    assert not thread.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["seeded"] is False
    # It saw the other process's commit (the emptied address) and filled it in again.
    with db.connection_context():
        assert Firm.get(Firm.name == FIRM_NAME).address == FIRM_ADDRESS
    assert statements[0].upper().startswith("BEGIN IMMEDIATE")
