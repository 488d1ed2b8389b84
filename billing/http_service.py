"""What Paydesk's small HTTP services share (Stripe's webhooks, the short links to card
pages): a threaded server whose port 0 takes a free one, that can run on a thread of its
own and stop cleanly."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from typing import Self


class HttpService(ThreadingHTTPServer):
    daemon_threads = True
    # The name of the thread `start` serves on.
    thread_name = "paydesk-http"
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> Self:
        """Serve on a thread of its own (tests, or a process that does other work too)."""
        self._thread = threading.Thread(target=self.serve_forever, name=self.thread_name,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(10)
