"""`python -m tui.ssh.demo_session [PAYDESK OPTIONS]`: one demo session on a throwaway
database, removed when the app exits.

The browser demo runs this per page load (textual-serve starts one command per
connection and offers no hook for a per-session file); the SSH server does the same
in-process. Standard input and output are passed straight to the app.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence

from tui.ssh.launch import paydesk_argv, throwaway_demo_dir


def main(argv: Sequence[str] | None = None) -> int:
    options = list(sys.argv[1:] if argv is None else argv)
    workdir = throwaway_demo_dir()
    try:
        child = subprocess.Popen(paydesk_argv(*options, "--db", str(workdir / "demo.db"), "demo"))

        def forward(signum: int, _frame: object) -> None:
            child.send_signal(signum)

        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, forward)
        return child.wait()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
