"""The tests and the build read nothing outside the repository: Stripe's example objects
are copied in, with Stripe's licence beside them, and no file points past the checkout."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from tests.conftest import STRIPE_FIXTURES
from tests.gateway.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
STRIPE_DIR = ROOT / "tests" / "fixtures" / "stripe"
# What the repository's own files may not name: the folder beside the checkout, or a path
# on the machine it was written on. Spelt in pieces so that this file does not match itself.
OUTSIDE = re.compile("|".join([
    re.escape(".." + "/shared"),
    r"""["']\.\.["']\s*/\s*["']shared["']""",
    r"(?<![\w.])/" + "work/",
    r"parent\s*/\s*[\"']shared[\"']",
]))
SCANNED = {".py", ".toml", ".cfg", ".ini", ".sh", ".md", ".txt", ".lock", ".tcss", ""}
SKIPPED_DIRS = {".git", ".venv", "snapshots", "__pycache__", ".pytest_cache", ".ruff_cache",
                ".mypy_cache", ".hypothesis", "build", "dist"}


def test_stripes_examples_are_read_from_inside_the_repository():
    for path in (FIXTURES, STRIPE_FIXTURES):
        resolved = path.resolve()
        assert resolved.is_relative_to(ROOT), resolved
        assert resolved == STRIPE_DIR / "fixtures3.json"
    examples = json.loads(FIXTURES.read_text(encoding="utf-8"))["resources"]
    used = {"payment_intent", "charge", "refund", "customer", "payment_method",
            "setup_intent", "terminal.reader", "account"}
    assert used <= set(examples)


def test_the_copy_is_stripes_file_unchanged_with_its_licence():
    readme = (STRIPE_DIR / "README.md").read_text(encoding="utf-8")
    recorded = re.search(r"`([0-9a-f]{64})`", readme)
    assert recorded, "the README records the SHA-256 of the copy"
    assert hashlib.sha256(FIXTURES.read_bytes()).hexdigest() == recorded.group(1)
    assert "stripe/openapi" in readme
    licence = (STRIPE_DIR / "LICENSE").read_text(encoding="utf-8")
    assert "The MIT License" in licence and "Stripe, Inc." in licence


def test_no_file_of_the_repository_reaches_outside_it():
    offenders = []
    for path in sorted(ROOT.rglob("*")):
        relative = path.relative_to(ROOT)
        if any(part in SKIPPED_DIRS or part.endswith(".egg-info") for part in relative.parts):
            continue
        if not path.is_file() or path.suffix not in SCANNED or path.stat().st_size > 1_000_000:
            continue
        if path.suffix == "" and relative.parts[0] not in {".ci", "Makefile"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
