"""What the payment page's benchmarks share: a SQLite database with the demo firm and a
client with 2,000 invoices across 200 cases (built through the models), the real Desk over
it, and a probe that sees every frame the app draws as the text a terminal would get.

The headless driver of `App.run_test` writes nothing, and waiting on `pilot.pause()`
measures when the app goes idle, not when a frame is drawn. The probe wraps the app's
`_display`, the one place every frame passes: it serialises the frame as the real driver
does (`CompositorUpdate.render_segments`) and notes the time the bytes are ready.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playhouse.test_utils import count_queries  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402

from billing.config import Settings  # noqa: E402
from billing.desk import Desk  # noqa: E402
from billing.values import Payer  # noqa: E402
from models import bind, open_database  # noqa: E402
from models.demo import DANA_EMAIL, seed_demo  # noqa: E402
from models.firm import Client  # noqa: E402
from models.schema import upgrade  # noqa: E402
from tests.billing.big_client import add_big_client  # noqa: E402

NOW = dt.datetime(2026, 11, 24, 15, 0, 0)  # noqa: DTZ001 - the desk's clock is naive UTC
# CSI and OSC sequences, and two-character escapes: what is left is the text on screen.
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")


def payer(client: Client) -> Payer:
    return Payer(kind="client", client_id=client.id, client_name=client.name,
                 email=client.email)


def build_desk(folder: Path, invoices: int = 2000, cases: int = 200) -> tuple[Desk, Payer, Payer]:
    """The Desk over a new SQLite file in `folder`: (desk, Dana with her 5 invoices, the
    big client)."""
    url = str(folder / "bench.db")
    db = bind(open_database(url))
    upgrade(db)
    db.connect(reuse_if_open=True)
    seed_demo()
    big = add_big_client(invoices=invoices, cases=cases)
    dana = Client.get(Client.email == DANA_EMAIL)
    settings = Settings(database_url=url, outbox_dir=str(folder / "outbox"), terminal="bench")
    return Desk(settings, None, clock=lambda: NOW), payer(dana), payer(big)


def queries_for(desk: Desk, who: Payer) -> tuple[int, int]:
    """(queries, invoices) of one read of the payment page's invoices."""
    with count_queries() as counted:
        invoices = desk.payable_invoices(who)
    return counted.count, len(invoices)


class FrameProbe:
    """Sees every frame `app` draws; `wait_for` answers when the first frame whose text
    passes a test is ready to be written, with that moment (time.perf_counter())."""

    def __init__(self, app) -> None:
        self.app = app
        self._display = app._display
        self._waits: list[tuple[Callable[[str], bool], asyncio.Future]] = []
        app._display = self._show

    def _show(self, screen, renderable) -> None:
        self._display(screen, renderable)
        if renderable is None or self.app._batch_count:
            return  # App._display draws nothing either
        console = self.app.console
        if isinstance(renderable, CompositorUpdate):
            data = renderable.render_segments(console)
        else:
            data = console._render_buffer(console.render(renderable))
        at = time.perf_counter()
        text = _ESCAPES.sub("", data)
        for test, future in self._waits:
            if not future.done() and test(text):
                future.set_result(at)

    def expect(self, test: Callable[[str], bool]) -> asyncio.Future:
        """A future set to the time of the first frame from now on whose text passes."""
        future = asyncio.get_running_loop().create_future()
        self._waits.append((test, future))
        return future

    async def wait(self, future: asyncio.Future, timeout: float = 20.0) -> float:
        try:
            return await asyncio.wait_for(future, timeout)
        finally:
            self._waits = [(t, f) for t, f in self._waits if f is not future]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def ms(values: list[float]) -> str:
    return ", ".join(f"{v * 1000:.1f}" for v in values)
