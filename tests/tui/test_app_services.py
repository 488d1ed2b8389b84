"""The app is given its services in its constructor (tui.factory.make_app builds it whole):
nothing is set on it afterwards, and screens are asked what they are, not probed."""

from __future__ import annotations

import re
from pathlib import Path

from billing.config import Settings
from tests.tui.fakes import FakeDesk
from tui.factory import make_app

TUI = Path(__file__).resolve().parents[2] / "tui"


class _Services:
    def __init__(self) -> None:
        self.desk = FakeDesk()
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


def test_the_factory_builds_the_app_whole(tmp_path):
    settings = Settings(database_url=str(tmp_path / "x.db"), outbox_dir=str(tmp_path),
                        terminal="t")
    services = _Services()
    app = make_app(settings, mode="desk", services=services)
    assert app.services is services and app.desk is services.desk
    assert app.owns_services is False  # services passed in stay the caller's to close


def test_nothing_in_tui_sets_services_after_construction_or_probes_screens():
    for path in TUI.rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\bapp\.services\s*=", text), path
        assert 'getattr(screen, "HOLDS_SESSION"' not in text, path
        if path.parent.name == "screens":
            assert 'getattr(self.app, "firm"' not in text, path


def test_messages_with_fields_are_dataclasses():
    import ast

    for path in TUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(b, ast.Name | ast.Attribute) and ast.unparse(b) == "Message"
                    for b in node.bases):
                has_init = any(isinstance(f, ast.FunctionDef) and f.name == "__init__"
                               for f in node.body)
                assert not has_init, f"{path.name}: {node.name} has a hand-written __init__"
