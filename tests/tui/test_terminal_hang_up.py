"""A closed terminal ends Paydesk even when the hang-up signal does not reach it (as under
`make demo`, where make holds the terminal): the app notices its terminal has hung up and
stops, instead of spinning on a terminal that answers every read with an error."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAIN = "import sys\nfrom tui.cli import main\nsys.exit(main(sys.argv[1:]))\n"


def ignore_hang_ups() -> None:
    # Kept across exec: the app starts with the hang-up signal ignored, as if it never came.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def ignored_signals(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return int(line.split()[1], 16)
    raise AssertionError("no SigIgn line")


def test_paydesk_stops_when_its_terminal_hangs_up_without_a_signal(tmp_path):
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "PAYDESK_"))}
    env.update(TERM="xterm-256color", XDG_DATA_HOME=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.Popen(  # noqa: S603 - this interpreter, Paydesk's own command line
        [sys.executable, "-c", MAIN, "demo", "--db", str(tmp_path / "demo.db")],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, env=env, close_fds=True,
        start_new_session=True, preexec_fn=ignore_hang_ups)  # noqa: PLW1509
    os.close(slave)
    drawn = b""
    try:
        deadline = time.monotonic() + 60
        while b"Welcome to Harbor" not in drawn:
            assert time.monotonic() < deadline, drawn[-500:]
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                drawn += os.read(master, 65536)
        # The fault: the app ignores the hang-up signal ...
        assert ignored_signals(proc.pid) & (1 << (signal.SIGHUP - 1))
        os.close(master)  # ... and its terminal goes away.
        master = -1
        assert proc.wait(timeout=20) == 1
    finally:
        if master >= 0:
            os.close(master)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
