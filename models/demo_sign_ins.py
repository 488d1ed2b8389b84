"""The demo firm's name and published sign-ins: seeded by models.demo, and read by the demo's
first screen (tui.demo_hints) and its start-up check (models.demo_ready) before peewee and
the models are loaded."""

from __future__ import annotations

FIRM_NAME = "Harbor & Vale LLP"
DEMO_STAFF = (("Front Desk", "front_desk", "2468"), ("Avery Admin", "admin", "1357"))
DANA_EMAIL = "dana.whitfield@example.com"
DANA_PASSWORD = "demo-dana"  # noqa: S105 - the published demo sign-in
