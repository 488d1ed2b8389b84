"""Runs `paydesk` commands one after another in this process, each through tui.cli.main,
and writes how each ended (status, output, and any traceback that escaped) as JSON.

    python -m tests.billing.cli_driver COMMANDS.json RESULTS.json

The test that uses it starts this module as a process with no controlling terminal and
standard input closed: importing Paydesk once, not once per command, keeps it quick.
"""

from __future__ import annotations

import io
import json
import sys
import traceback
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path


def run(argv: list[str]) -> dict:
    from tui.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse, or a handler that stops with a message
            if isinstance(exc.code, str):
                err.write(exc.code + "\n")
                code = 1
            else:
                code = exc.code or 0
        except BaseException:  # noqa: BLE001 - what escaped is the finding
            traceback.print_exc(file=err)
            code = -1
    return {"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()}


def main() -> int:
    commands = json.loads(Path(sys.argv[1]).read_text())
    results = [run(argv) for argv in commands]
    Path(sys.argv[2]).write_text(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
