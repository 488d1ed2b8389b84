"""Imported by a test's warm process: its forked children become session leaders half a
second late, so that a server learning a child's pid before the child leads its own
process group would see it (the race is otherwise a millisecond wide)."""

import os
import time

_setsid = os.setsid


def _late_setsid() -> None:
    time.sleep(0.5)  # widens the window under test; nothing waits on it
    _setsid()


os.setsid = _late_setsid
