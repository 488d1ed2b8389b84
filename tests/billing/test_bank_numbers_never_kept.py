"""No routing or account number beyond the last four digits in the database, the outbox,
the logs or the screens' snapshots (every file under snapshots/, the bank screens' among
them), after a bank debit settles and one fails (SQLite and PostgreSQL)."""

from __future__ import annotations

import html
import logging
import re
import shutil
from collections import defaultdict
from pathlib import Path

from billing.emails import parse_message
from billing.event_sync import read_events
from gateway.sandbox.resources.bank_accounts import TEST_ACCOUNTS, TEST_ROUTING_NUMBER
from models import OutboundEmail, database
from tests.billing.bank_support import DELAY, FAILS, ROUTING, SUCCEEDS, pay_three

SNAPSHOTS = Path(__file__).resolve().parents[2] / "snapshots"
BANK_SNAPSHOTS = SNAPSHOTS / "test_snapshots_bank"
# Stripe's test routing number and every test account number Paydesk's tests type.
FULL_NUMBERS = (TEST_ROUTING_NUMBER, *TEST_ACCOUNTS)
_TEXT = re.compile(r'<text\b[^>]*?\bx="([\d.]+)"[^>]*?\by="([\d.]+)"[^>]*>(.*?)</text>', re.S)
# Between two digits: the spaces, dashes and dots a person may type between groups.
_SEPARATOR = re.compile(r"(?<=\d)[\s\-.\u00a0]+(?=\d)")


def _database_dump() -> str:
    out = []
    for table in database.get_tables():
        cursor = database.execute_sql(f'SELECT * FROM "{table}"')
        out.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(out)


def _outbox_text() -> str:
    parts = []
    for email in OutboundEmail.select():
        parts.append(email.message)
        for part in parse_message(email.message).walk():
            if part.get_content_maintype() == "text":
                parts.append(part.get_content())
    return "\n".join(parts)


def _screen_lines(svg: str) -> list[str]:
    """A snapshot's screen, line by line: an SVG draws each run of one style as a <text>
    of its own, so a number may be split over several; its line puts them back together."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for x, y, body in _TEXT.findall(svg):
        rows[float(y)].append((float(x), html.unescape(re.sub(r"<[^>]+>", "", body))))
    return ["".join(text for _, text in sorted(parts)) for _, parts in sorted(rows.items())]


def numbers_in_files(folder: Path) -> list[str]:
    """"<file>: <number>" for each full routing or account number in any file under
    `folder`: in its raw text, or on a line of the screen it draws, with or without the
    separators a person may type."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        raw = path.read_text(encoding="utf-8", errors="replace")
        texts = [raw, html.unescape(raw), *_screen_lines(raw)]
        joined = "\n".join(texts + [_SEPARATOR.sub("", t) for t in texts])
        found += [f"{path.relative_to(folder)}: {n}" for n in FULL_NUMBERS if n in joined]
    return found


def _snapshot_screens() -> str:
    return "\n".join(line for path in sorted(SNAPSHOTS.rglob("*.svg"))
                     for line in _screen_lines(path.read_text(encoding="utf-8")))


def test_only_the_last_four_digits_are_ever_kept(desk, dana, gateway, sandbox, caplog):
    caplog.set_level(logging.DEBUG)
    pay_three(desk, dana, sandbox, numbers=("INV-1001",))
    pay_three(desk, dana, sandbox, account=FAILS, numbers=("INV-1004",))
    sandbox.advance_clock(DELAY)
    read_events(gateway)

    dump, outbox = _database_dump(), _outbox_text()
    logs = caplog.text + "\n".join(repr(r.args) for r in caplog.records)
    # The SQL sent (with its parameters) and the Stripe SDK's requests were logged.
    assert {"peewee", "stripe"} <= {r.name for r in caplog.records}
    assert "6789" in dump and "1116" in dump  # the last four digits are kept
    assert "6789" in outbox and "1116" in outbox
    for number in (ROUTING, SUCCEEDS, FAILS):
        assert number not in dump
        assert number not in outbox
        assert number not in logs
    # Not even with the separators a person may type.
    for spaced in ("0001 2345 6789", "000-123-456-789"):
        assert spaced not in dump and spaced not in outbox
    # Nor in any snapshot of a screen: the bank screens' show the numbers typed, masked.
    assert sorted(p.name for p in BANK_SNAPSHOTS.glob("*.svg")), "no bank screen snapshots"
    assert "••••6789" in _snapshot_screens()  # the last four, as the account field shows
    assert numbers_in_files(SNAPSHOTS) == []


def test_the_snapshot_check_finds_a_number_shown_whole(tmp_path):
    """The check above fails when a snapshot shows a number: a copy of the bank-account
    screen's snapshot with the account field showing every digit, split over several runs
    of text as a cursor or a highlight would split it."""
    source = next(p for p in sorted(BANK_SNAPSHOTS.glob("*bank_account_typed*.svg")))
    svg = source.read_text(encoding="utf-8")
    assert numbers_in_files(source.parent) == []
    shown = tmp_path / "shown"
    shown.mkdir()
    masked = "&#8226;" * 8 + "6789" if "&#8226;" in svg else "•" * 8 + "6789"
    assert masked in svg
    (shown / source.name).write_text(svg.replace(masked, SUCCEEDS), encoding="utf-8")
    assert numbers_in_files(shown) == [f"{source.name}: {SUCCEEDS}"]

    split = tmp_path / "split"
    split.mkdir()
    element = re.search(r'(<text\b[^>]*?\bx="([\d.]+)"[^>]*?\by="([\d.]+)"[^>]*>)([^<]*)'
                        + re.escape(masked), svg)
    assert element is not None
    opening, x, y, before = element.groups()
    # The first five digits end one run; the rest start the next run, on the same line.
    runs = (svg[:element.start()] + opening + before + SUCCEEDS[:5] + "</text>"
            + f'<text class="terminal-r1" x="{float(x) + 0.5}" y="{y}">' + SUCCEEDS[5:]
            + svg[element.end():])
    assert SUCCEEDS not in runs
    (split / source.name).write_text(runs, encoding="utf-8")
    assert numbers_in_files(split) == [f"{source.name}: {SUCCEEDS}"]

    spaced = tmp_path / "spaced"
    shutil.copytree(shown, spaced)
    (spaced / source.name).write_text(svg.replace(masked, "0001&#160;2345&#160;6789"),
                                      encoding="utf-8")
    assert numbers_in_files(spaced) == [f"{source.name}: {SUCCEEDS}"]
