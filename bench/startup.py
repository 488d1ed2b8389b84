"""Start-up: `paydesk demo` against a bare Textual app (one Static, an empty DataTable).

Each run starts a fresh process under a pseudo-terminal (100x30) and times from just before
the process is started to the moment its first frame showing the first screen's text reaches
the terminal: "Welcome to Harbor" for Paydesk, the Static's text for the bare app. Runs
alternate (bare, paydesk, bare, ...) so that both see the same machine. Paydesk runs through
its real command line (`paydesk demo`) on a demo database prepared once in a temporary
folder, and, separately, from an empty folder (the database created and seeded first).

Not a test: run `.venv/bin/python bench/startup.py [--runs N]`. The goal is a ratio of the
medians (paydesk / bare) of at most 1.3.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAYDESK = ROOT / ".venv" / "bin" / "paydesk"
PYTHON = ROOT / ".venv" / "bin" / "python"
GOAL = 1.3
COLUMNS, ROWS = 100, 30

BARE_APP = '''
from textual.app import App
from textual.widgets import DataTable, Static


class Bare(App):
    def compose(self):
        yield Static("Bare Textual app ready")
        yield DataTable()


Bare().run()
'''
BARE_MARK = b"Bare Textual app ready"
PAYDESK_MARK = b"Welcome to Harbor"


def time_to_first_paint(argv: list[str], mark: bytes, *, cwd: str, pycache: str,
                        timeout: float = 30.0) -> tuple[float, float]:
    """Seconds from starting `argv` under a pty to `mark` appearing in what it writes, and
    the CPU seconds the process had used by then."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TEXTUAL") and k != "PYTHONDONTWRITEBYTECODE"}
    # Both apps run as installed: from compiled bytecode (kept in a folder of the bench's own,
    # filled by the unmeasured first runs), not compiling their sources on every start.
    env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS),
               PYTHONPYCACHEPREFIX=pycache)
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    seen = b""
    painted = cpu = None
    try:
        while painted is None:
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"no first screen after {timeout:.0f} s: {argv}\n{seen[-800:]!r}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:
                raise RuntimeError(f"{argv} stopped before its first screen:\n{seen[-800:]!r}"
                                   ) from None
            seen += chunk
            if mark in seen:
                painted = time.perf_counter() - started
                cpu = cpu_seconds(proc.pid)
        _quit(proc, master)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return painted, cpu


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used so far, all its threads (Linux schedstat, in ns): on a
    shared machine the wall-clock times vary with the load, this much less."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e9


def _quit(proc: subprocess.Popen, master: int) -> None:
    """Ctrl+Q, reading what the app writes meanwhile, so runs never overlap."""
    os.write(master, b"\x11")
    deadline = time.perf_counter() + 10
    while proc.poll() is None and time.perf_counter() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                os.read(master, 65536)
            except OSError:
                break
    proc.wait(timeout=10)


def paydesk_argv(source: Path | None, *args: str) -> list[str]:
    """The `paydesk` command line: the installed entry point, or the CLI of another source
    tree (`--source`, say an export of an earlier commit, run with this venv)."""
    if source is None:
        return [str(PAYDESK), *args]
    code = (f"import sys; sys.path.insert(0, {str(source)!r}); from tui.cli import main; "
            "sys.exit(main())")
    return [str(PYTHON), "-c", code, *args]


def prepare_demo(folder: Path, source: Path | None) -> str:
    database = folder / "demo.db"
    code = (f"import sys; sys.path.insert(0, {str(source or ROOT)!r}); "
            "from tui.commands.apps import prepare_demo_database; "
            "prepare_demo_database(sys.argv[1], reset=True)")
    subprocess.run([str(PYTHON), "-c", code, str(database)], check=True, cwd=folder)
    return str(database)


def report(name: str, results: list[tuple[float, float]], bare: list[tuple[float, float]]
           ) -> float:
    """Print one line of figures; the ratio of the wall-clock medians."""
    wall = statistics.median(r[0] for r in results)
    cpu = statistics.median(r[1] for r in results)
    ratio = wall / statistics.median(r[0] for r in bare)
    cpu_ratio = cpu / statistics.median(r[1] for r in bare)
    runs = " ".join(f"{r[0] * 1000:.0f}" for r in results)
    print(f"{name:<24} median {wall * 1000:5.0f} ms ({ratio:4.2f}x)  "
          f"cpu {cpu * 1000:4.0f} ms ({cpu_ratio:4.2f}x)  runs: {runs}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs of each (at least 5)")
    parser.add_argument("--no-empty", action="store_true", help="skip the empty-folder runs")
    parser.add_argument("--source", type=Path,
                        help="run the `paydesk` of this source tree instead of the installed one")
    args = parser.parse_args()
    runs = max(5, args.runs)
    source = args.source.resolve() if args.source else None
    with tempfile.TemporaryDirectory(prefix="paydesk-startup-") as tmp:
        folder = Path(tmp)
        pycache = str(folder / "pycache")
        bare_script = folder / "bare_app.py"
        bare_script.write_text(BARE_APP)
        database = prepare_demo(folder, source)
        bare_argv = [str(PYTHON), str(bare_script)]
        demo_argv = paydesk_argv(source, "demo", "--db", database)
        # Two of each first, unmeasured: bytecode compiled and the file cache warm for both.
        for _ in range(2):
            time_to_first_paint(bare_argv, BARE_MARK, cwd=tmp, pycache=pycache)
            time_to_first_paint(demo_argv, PAYDESK_MARK, cwd=tmp, pycache=pycache)
        bare, prepared, empty = [], [], []
        for run in range(runs):
            bare.append(time_to_first_paint(bare_argv, BARE_MARK, cwd=tmp, pycache=pycache))
            prepared.append(time_to_first_paint(demo_argv, PAYDESK_MARK, cwd=tmp,
                                                pycache=pycache))
            if not args.no_empty:
                fresh = folder / f"empty-{run}"
                fresh.mkdir()
                empty.append(time_to_first_paint(
                    paydesk_argv(source, "demo", "--db", str(fresh / "demo.db")), PAYDESK_MARK,
                    cwd=str(fresh), pycache=pycache))
    print(f"first screen painted, {runs} alternating runs each, {COLUMNS}x{ROWS} pty"
          + (f", paydesk from {source}" if source else ""))
    print("time from start to first paint (median, ratio to the bare app); CPU used by then")
    report("bare Textual app", bare, bare)
    ratio = report("paydesk demo (prepared)", prepared, bare)
    if empty:
        report("paydesk demo (empty dir)", empty, bare)
    print(f"goal: {'met' if ratio <= GOAL else 'NOT met'} "
          f"({ratio:.2f}x against {GOAL}x, prepared demo database)")


if __name__ == "__main__":
    main()
