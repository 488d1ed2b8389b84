"""`paydesk demo`, `kiosk` and `desk` hold garbage collection back until the first screen is
drawn; a command that ends before that (no terminal, a set-up that fails) leaves collection
as it found it."""

from __future__ import annotations

import argparse
import gc
import io
import sys

import pytest

from billing.config import Settings
from tui.commands import apps


@pytest.fixture
def collecting():
    """Collection on, as in any process; put back however the test ends."""
    was_on = gc.isenabled()
    gc.enable()
    yield
    if was_on:
        gc.enable()
    else:
        gc.disable()


def _settings(tmp_path) -> Settings:
    return Settings(database_url=str(tmp_path / "firm.db"), outbox_dir=str(tmp_path),
                    terminal="t")


def test_desk_without_a_terminal_leaves_collection_on(collecting, tmp_path, monkeypatch,
                                                      capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # not a terminal
    assert apps._desk(argparse.Namespace(), _settings(tmp_path)) == 1
    assert "needs a terminal" in capsys.readouterr().err
    assert gc.isenabled()


def test_kiosk_that_cannot_be_built_leaves_collection_on(collecting, tmp_path, monkeypatch,
                                                        capsys):
    monkeypatch.setattr(apps, "_no_terminal", lambda command: None)
    monkeypatch.setattr("tui.commands.common.database_problem", lambda settings: None)

    def cannot_build(*args, **kwargs):
        raise RuntimeError("the database is locked")

    monkeypatch.setattr("tui.factory.make_app", cannot_build)
    assert apps._kiosk(argparse.Namespace(), _settings(tmp_path)) == 1
    assert capsys.readouterr().err == "paydesk: cannot start: the database is locked\n"
    assert gc.isenabled()


def test_demo_without_a_terminal_or_with_a_bad_database_leaves_collection_on(
        collecting, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    args = argparse.Namespace(db_after=str(tmp_path / "demo.db"), reset=False, app="welcome")
    assert apps._demo(args, _settings(tmp_path)) == 1
    assert gc.isenabled()
    monkeypatch.setattr(apps, "_no_terminal", lambda command: None)
    with pytest.raises(SystemExit, match="--db must be a SQLite file path"):
        apps._demo(argparse.Namespace(db_after="postgresql://x/y", reset=False, app="welcome"),
                   _settings(tmp_path))
    assert gc.isenabled()


def test_collection_held_back_elsewhere_stays_held_back(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO())
    was_on = gc.isenabled()
    gc.disable()
    try:
        assert apps._desk(argparse.Namespace(), _settings(tmp_path)) == 1
        assert not gc.isenabled()
    finally:
        if was_on:
            gc.enable()
