"""Paydesk over SSH: time to first paint and memory per session, with 1, 5 and 20
sessions open at once. Not a test; it prints its figures.

    .venv/bin/python bench/ssh_sessions.py [--sessions 1 5 20] [--columns 100 --rows 30]

Each round starts a fresh server (demo mode, a throwaway database per connection) on a
free loopback port, opens N connections at once, and waits for each to draw the welcome
screen. Memory is read from /proc for each session's whole process group: RSS (what
`ps` shows; shared pages counted in every process) and PSS (shared pages divided among
the processes sharing them: the fairer cost of one more session).
"""

from __future__ import annotations

import argparse
import asyncio
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

WELCOME = "Welcome to Harbor & Vale LLP"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in KiB."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def session_memory(pid: int) -> tuple[int, int, int]:
    """(RSS KiB, PSS KiB, processes) of a session's process group."""
    members = group_members(pid)
    totals = [memory_kib(p) for p in members]
    return sum(r for r, _ in totals), sum(p for _, p in totals), len(members)


async def first_paint(port: int, columns: int, rows: int) -> tuple[float, object]:
    started = time.perf_counter()
    conn = await connect(port)
    _, screen = await open_terminal(conn, columns, rows)
    await screen.wait_for(WELCOME, timeout=120)
    return time.perf_counter() - started, conn


async def round_of(count: int, columns: int, rows: int, workdir: Path) -> dict[str, float]:
    base = defaults()
    settings = replace(
        base, database_url=str(workdir / "unused.db"), outbox_dir=str(workdir / "outbox"),
        ssh=SshSettings(port=0, max_sessions=max(count, 20), idle_timeout_seconds=0),
    )
    key = load_or_create_host_key(workdir / "host_key")
    service = await start_server(settings.ssh, key, paydesk_launcher(settings, scratch_dir=workdir))
    conns = []
    try:
        results = await asyncio.gather(*(first_paint(service.port, columns, rows) for _ in range(count)))
        paints = [seconds for seconds, _ in results]
        conns = [conn for _, conn in results]
        await asyncio.sleep(1.0)  # let every app settle after its first frame
        memory = [session_memory(info.pid) for info in service.sessions() if info.pid]
    finally:
        for conn in conns:
            conn.close()
        await service.close()
    rss = [m[0] / 1024 for m in memory]
    pss = [m[1] / 1024 for m in memory]
    return {
        "sessions": count,
        "paint_median": statistics.median(paints),
        "paint_max": max(paints),
        "rss_mean": statistics.mean(rss),
        "pss_mean": statistics.mean(pss),
        "pss_total": sum(pss),
        "processes": statistics.mean(m[2] for m in memory),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--rows", type=int, default=30)
    args = parser.parse_args()
    print(f"paydesk demo over SSH, {args.columns}x{args.rows}, sessions opened at once")
    print(f"{'sessions':>8}  {'first paint median':>18}  {'max':>7}  "
          f"{'RSS/session':>11}  {'PSS/session':>11}  {'PSS total':>9}  {'procs':>5}")
    for count in args.sessions:
        with tempfile.TemporaryDirectory(prefix="paydesk-bench-") as tmp:
            row = await round_of(count, args.columns, args.rows, Path(tmp))
        print(f"{row['sessions']:>8}  {row['paint_median']:>17.2f}s  {row['paint_max']:>6.2f}s  "
              f"{row['rss_mean']:>8.1f} MiB  {row['pss_mean']:>8.1f} MiB  "
              f"{row['pss_total']:>5.0f} MiB  {row['processes']:>5.1f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
