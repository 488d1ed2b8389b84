"""Every action billing writes to the audit log reads as words in the log's plain view."""

from __future__ import annotations

import ast
from pathlib import Path

from billing.desk_audit import ACTION_WORDS

BILLING = Path(__file__).resolve().parents[2] / "billing"


def _written_actions() -> set[str]:
    """The `action=` of every `audit(...)` call in billing (both sides of an `x if c else y`)."""
    found: set[str] = set()
    for path in BILLING.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "audit"):
                continue
            for keyword in node.keywords:
                if keyword.arg != "action":
                    continue
                values = ([keyword.value.body, keyword.value.orelse]
                          if isinstance(keyword.value, ast.IfExp) else [keyword.value])
                for value in values:
                    assert isinstance(value, ast.Constant), f"{path.name}: action not a literal"
                    found.add(value.value)
    return found


def test_every_audited_action_has_words():
    actions = _written_actions()
    # The check sees the actions it is about: bank debits and what Stripe reported.
    assert {"bank.authorize", "bank_debit.start", "bank_debit.settle", "bank_debit.fail",
            "events.sync", "dispute.open", "refund"} <= actions
    # An action already written as words ("card kept on file") is shown as it is.
    unworded = sorted(a for a in actions if a not in ACTION_WORDS and " " not in a)
    assert unworded == []
