"""Who drives a checkout: the lease of the process running its payment.

The engine takes a checkout's lease when it reserves it and renews it from a heartbeat
thread for as long as the payment runs, however long a card reader or the card processor
takes; it gives the lease up when the run ends. Reconciliation takes over a checkout only
when its owner is gone: the lease has ended (the owner stopped renewing it: it crashed,
hung or lost the database), or the owner was a process on this machine that is no longer
running (then at once, without waiting for the lease to end). A payment still running on
another terminal is never aborted.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import peewee

from models.db import database
from models.firm import utcnow
from models.payments import Checkout

log = logging.getLogger("paydesk.lease")

# How long a claim lasts without renewal, and how often the running engine renews it.
LEASE = dt.timedelta(seconds=60)
RENEW_EVERY_SECONDS = 10.0
# A run that has not ended after this long stops renewing, so that a process that hangs
# forever does not keep its checkout from reconciliation forever.
MAX_RUN = dt.timedelta(minutes=30)


def _start_ticks(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot), telling a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else fields[19]


@cache
def _machine() -> str:
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = "-"
    try:  # containers sharing the host name and boot id still have their own pid space
        space = os.readlink("/proc/self/ns/pid")
    except OSError:
        space = "-"
    return f"{socket.gethostname()}/{boot}/{space}"


def this_process() -> str:
    """The owner name of this process: machine (host and boot), pid and start time."""
    pid = os.getpid()
    return f"{_machine()}/{pid}/{_start_ticks(pid) or '-'}"


def owner_running(owner: str | None) -> bool | None:
    """True or False when `owner` was a process of this machine (running or not); None
    when that cannot be told here (another machine, or no process table to read)."""
    if not owner:
        return None
    parts = owner.rsplit("/", 2)  # machine, pid, start time
    if len(parts) != 3 or parts[0] != _machine() or parts[2] == "-":
        return None
    try:
        pid = int(parts[1])
    except ValueError:
        return None
    return _start_ticks(pid) == parts[2]


def owner_gone(checkout: Checkout, now: dt.datetime) -> bool:
    """True when nothing is driving `checkout` any more: it may be taken over."""
    if checkout.lease_until is None or checkout.lease_until <= now:
        return True
    return owner_running(checkout.lease_owner) is False


def claim(now: dt.datetime, owner: str | None = None) -> dict:
    """The column values of a lease for `owner` (this process) from `now`."""
    return {"lease_owner": owner or this_process(), "lease_until": now + LEASE}


def renew(checkout_id: int, owner: str) -> bool:
    """Extend `owner`'s lease on an unfinished checkout; False if it holds it no more."""
    return bool(Checkout.update(lease_until=utcnow() + LEASE).where(
        (Checkout.id == checkout_id) & (Checkout.lease_owner == owner)).execute())


def release(checkout_id: int, owner: str) -> None:
    Checkout.update(lease_owner=None, lease_until=None).where(
        (Checkout.id == checkout_id) & (Checkout.lease_owner == owner)).execute()


def take_over(checkout_id: int, now: dt.datetime) -> bool:
    """Claim the checkout for this process if its owner is gone; False if it is not (a
    live payment keeps it). A guarded update: of two that try at once, one wins."""
    checkout = Checkout.get_by_id(checkout_id)
    if not owner_gone(checkout, now):
        return False
    before = ((Checkout.lease_owner == checkout.lease_owner)
              if checkout.lease_owner is not None else Checkout.lease_owner.is_null())
    until = ((Checkout.lease_until == checkout.lease_until)
             if checkout.lease_until is not None else Checkout.lease_until.is_null())
    return bool(Checkout.update(**claim(now)).where(
        (Checkout.id == checkout_id) & before & until).execute())


class LeaseHeld(Exception):
    """Another process holds the checkout's lease: it is driving the payment now."""


@contextlib.contextmanager
def held(checkout_id: int, *, every: float | None = None,
         exclusive: bool = False) -> Iterator[None]:
    """Hold the lease of `checkout_id` while the block runs: taken (renewed if this process
    already holds it) on entry, renewed every `every` seconds, given up on exit. With
    `exclusive`, LeaseHeld (nothing run) while another live process holds it."""
    owner = this_process()
    now = utcnow()
    taken = Checkout.update(**claim(now, owner)).where(
        (Checkout.id == checkout_id)
        & ((Checkout.lease_owner == owner) | Checkout.lease_until.is_null()
           | (Checkout.lease_until <= now))).execute()
    if exclusive and not taken:
        if not take_over(checkout_id, now):  # its owner may be a process gone already
            raise LeaseHeld(checkout_id)
    every = RENEW_EVERY_SECONDS if every is None else every
    stop = threading.Event()
    deadline = time.monotonic() + MAX_RUN.total_seconds()

    def heartbeat() -> None:
        try:
            while not stop.wait(every) and time.monotonic() < deadline:
                try:
                    if not renew(checkout_id, owner):
                        return  # taken over (the lease had ended): the guards decide
                except peewee.PeeweeException as exc:
                    log.warning("checkout %s: lease not renewed: %s", checkout_id, exc)
                    database.close()  # a broken connection: the next renewal opens anew
        finally:
            database.close()  # this thread's own connection

    thread = threading.Thread(target=heartbeat, name=f"lease-{checkout_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        release(checkout_id, owner)
