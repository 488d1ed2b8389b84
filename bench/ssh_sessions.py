"""Paydesk over SSH: time from connecting to the first paint, and memory per session
with 1, 5 and 20 sessions open at once. Not a test; it prints its figures.

    .venv/bin/python bench/ssh_sessions.py [--sessions 1 5 20] [--runs 5] [--pss-runs 5] [--cold]

The server runs in demo mode (a throwaway database per connection) on a free loopback
port, as `paydesk serve-ssh` runs it: sessions forked from its warm process, each
demo database a copy of one seeded at start. `--cold` measures the older way for
comparison: every session a fresh interpreter that seeds its own database.

First paint: the median of `--runs` connections made one after another (each waits for
the welcome screen), after the warm process is ready. Memory: for each count, that
many connections are opened at once, `--pss-runs` times over; a session's cost is the
PSS (shared pages divided among the processes sharing them) of its app process and that
process's descendants, averaged over the sessions of a run, and the median of the runs
is printed (with the lowest and highest). The warm process and this process (the
server, and the bench's SSH clients) are reported on their own: they are paid once, not
per session.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from billing.config import SshSettings, defaults  # noqa: E402
from tests.ssh.terminal import connect, open_terminal  # noqa: E402
from tui.ssh import load_or_create_host_key, paydesk_launcher, start_server  # noqa: E402
from tui.ssh.launch import paydesk_preload, prepare_demo_template  # noqa: E402
from tui.ssh.warm import WarmProcess  # noqa: E402

WELCOME = "Welcome to Harbor & Vale LLP"
PAINT_GOAL_SECONDS = 0.5
PSS_GOAL_MIB = 60.0


def parents() -> dict[int, int]:
    """pid -> parent pid, for every process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry.name)] = int(fields[1])
    return out


def with_descendants(pid: int, parent_of: dict[int, int]) -> list[int]:
    found, frontier = [pid], [pid]
    while frontier:
        current = frontier.pop()
        children = [child for child, parent in parent_of.items() if parent == current]
        found += children
        frontier += children
    return found


def pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_pss_mib(pid: int, parent_of: dict[int, int]) -> tuple[float, int]:
    """(PSS MiB, processes) of `pid` and its descendants."""
    members = with_descendants(pid, parent_of)
    return sum(pss_kib(p) for p in members) / 1024, len(members)


async def first_paint(port: int, columns: int, rows: int) -> tuple[float, object]:
    started = time.perf_counter()
    conn = await connect(port)
    _, screen = await open_terminal(conn, columns, rows)
    await screen.wait_for(WELCOME, timeout=120)
    return time.perf_counter() - started, conn


async def serving(workdir: Path, max_sessions: int, cold: bool):
    base = defaults()
    settings = replace(
        base, database_url=str(workdir / "unused.db"), outbox_dir=str(workdir / "outbox"),
        ssh=SshSettings(port=0, max_sessions=max_sessions, idle_timeout_seconds=0,
                        max_unauthenticated_per_address=max_sessions),
    )
    key = load_or_create_host_key(workdir / "host_key")
    template = None if cold else prepare_demo_template(settings, workdir)
    launcher = paydesk_launcher(settings, scratch_dir=workdir, demo_template=template)
    warm = None if cold else WarmProcess(paydesk_preload())
    service = await start_server(settings.ssh, key, launcher, warm)
    if warm is not None and not await warm.ready():
        raise SystemExit("the warm process did not start")
    return service


async def paint_runs(port: int, runs: int, columns: int, rows: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        took, conn = await first_paint(port, columns, rows)
        seconds.append(took)
        conn.close()
        await conn.wait_closed()
    return seconds


async def open_at_once(service, count: int, columns: int, rows: int) -> dict[str, float]:
    results = await asyncio.gather(*(first_paint(service.port, columns, rows)
                                     for _ in range(count)))
    conns = [conn for _, conn in results]
    try:
        # Every app settles after its first frame (its workers load the welcome data).
        await asyncio.sleep(1.0)
        parent_of = parents()
        sessions = [tree_pss_mib(info.pid, parent_of) for info in service.sessions() if info.pid]
        warm_pid = service.warm.pid if service.warm is not None else None
        return {
            "paint": statistics.median(t for t, _ in results),
            "paint_max": max(t for t, _ in results),
            "pss": statistics.mean(p for p, _ in sessions),
            "procs": statistics.mean(n for _, n in sessions),
            "warm": pss_kib(warm_pid) / 1024 if warm_pid else 0.0,
            "server": pss_kib(os.getpid()) / 1024,
        }
    finally:
        for conn in conns:
            conn.close()
        for conn in conns:
            await conn.wait_closed()
        while service.sessions():
            await asyncio.sleep(0.05)


def summary(rows: list[dict[str, float]]) -> dict[str, float]:
    """Medians over the runs of one count; PSS with its spread."""
    pss = [row["pss"] for row in rows]
    return {
        "paint": statistics.median(row["paint"] for row in rows),
        "paint_max": max(row["paint_max"] for row in rows),
        "pss": statistics.median(pss), "pss_min": min(pss), "pss_max": max(pss),
        "procs": statistics.median(row["procs"] for row in rows),
        "warm": statistics.median(row["warm"] for row in rows),
        "server": statistics.median(row["server"] for row in rows),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pss-runs", type=int, default=5,
                        help="times each count of sessions is opened (PSS is their median)")
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--rows", type=int, default=30)
    parser.add_argument("--cold", action="store_true",
                        help="fresh interpreter and own seeding per session (no warm process)")
    args = parser.parse_args()
    how = "cold: fresh process per session" if args.cold else "forked from the warm process"
    print(f"paydesk demo over SSH, {args.columns}x{args.rows}, {how}")
    with tempfile.TemporaryDirectory(prefix="paydesk-bench-") as tmp:
        service = await serving(Path(tmp), max(args.sessions), args.cold)
        try:
            paints = await paint_runs(service.port, args.runs, args.columns, args.rows)
            print(f"connect to first paint, one session: median {statistics.median(paints):.2f}s "
                  f"of {len(paints)} (min {min(paints):.2f}s, max {max(paints):.2f}s); "
                  f"goal <= {PAINT_GOAL_SECONDS}s", flush=True)
            print(f"{'open':>5}  {'paint median':>12}  {'max':>6}  "
                  f"{'PSS/session median (min-max) of ' + str(args.pss_runs):>38}  "
                  f"{'procs':>5}  {'warm PSS':>8}  {'server PSS':>10}   "
                  f"goal <= {PSS_GOAL_MIB:.0f} MiB")
            for count in args.sessions:
                rows = [await open_at_once(service, count, args.columns, args.rows)
                        for _ in range(args.pss_runs)]
                row = summary(rows)
                spread = f"({row['pss_min']:.1f}-{row['pss_max']:.1f})"
                print(f"{count:>5}  {row['paint']:>11.2f}s  {row['paint_max']:>5.2f}s  "
                      f"{row['pss']:>24.1f} MiB {spread:>13}  {row['procs']:>5.1f}  "
                      f"{row['warm']:>4.1f} MiB  {row['server']:>6.1f} MiB", flush=True)
        finally:
            await service.close()


if __name__ == "__main__":
    asyncio.run(main())
