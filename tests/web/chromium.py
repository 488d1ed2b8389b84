"""Headless Chromium driven over the DevTools protocol (aiohttp's websocket client).

The page textual-serve sends draws the app with xterm.js on a canvas, so there is no
text in the DOM to read. Before the page loads, a small script records what its
websocket receives, i.e. the very bytes xterm.js is handed to draw; the test reads
that back, and takes a screenshot of what was drawn.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
    # Nothing but loopback: the page's web-font link would otherwise wait on DNS.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)

RECORD_TERMINAL_BYTES = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__terminalBytes = "";
  window.__sockets = 0;
  function Recording(url, protocols) {
    const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__sockets += 1;
    socket.addEventListener("message", (event) => {
      if (typeof event.data !== "string") {
        window.__terminalBytes += decoder.decode(new Uint8Array(event.data), {stream: true});
      }
    });
    return socket;
  }
  Recording.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recording[name] = Native[name];
  window.WebSocket = Recording;
})();
"""


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


class Chromium:
    """One headless browser with one page, for `async with`."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 800) -> None:
        self._binary = binary
        self._profile = profile
        self._size = (width, height)
        self._proc: subprocess.Popen[bytes] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._session_id: str | None = None

    async def __aenter__(self) -> Chromium:
        self._profile.mkdir(parents=True, exist_ok=True)
        width, height = self._size
        self._proc = subprocess.Popen(
            [self._binary, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
             "--remote-debugging-port=0", f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        port_file = self._profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and len(port_file.read_text().split()) >= 2:
                break
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}")
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError("chromium did not open its DevTools port")
        port, path = port_file.read_text().split()[:2]
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        target = await self.send("Target.createTarget", url="about:blank")
        attached = await self.send("Target.attachToTarget", targetId=target["targetId"], flatten=True)
        self._session_id = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        await self.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_TERMINAL_BYTES)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._http is not None:
            await self._http.close()
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                await asyncio.to_thread(self._proc.wait, 10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                await asyncio.to_thread(self._proc.wait)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; returns its result (events in between are skipped)."""
        assert self._ws is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if self._session_id and not method.startswith("Target."):
            message["sessionId"] = self._session_id
        await self._ws.send_str(json.dumps(message))
        while True:
            reply = json.loads(await asyncio.wait_for(self._ws.receive_str(), 30))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def screenshot(self) -> bytes:
        result = await self.send("Page.captureScreenshot", format="png")
        return base64.b64decode(result["data"])

    # -- a person at a page: wait, click, type, press Enter -------------------------------

    async def wait_for(self, expression: str, what: str, timeout: float = 15.0) -> Any:
        """Wait until `expression` is truthy in the page (a page that is still loading
        after a navigation answers nothing meanwhile); returns its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                value = await self.evaluate(expression)
            except RuntimeError:  # no page to evaluate in, between two documents
                value = None
            if value:
                return value
            if loop.time() > deadline:
                raise AssertionError(f"the page never showed {what}")
            await asyncio.sleep(0.05)

    async def click(self, selector: str) -> None:
        """A mouse click in the middle of the element (scrolled into view first)."""
        box = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        if not box:
            raise AssertionError(f"nothing on the page matches {selector}")
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                            clickCount=1)

    async def type_text(self, text: str) -> None:
        """Key presses into the focused field, one character at a time."""
        for char in text:
            await self.send("Input.dispatchKeyEvent", type="keyDown", key=char, text=char,
                            unmodifiedText=char)
            await self.send("Input.dispatchKeyEvent", type="keyUp", key=char)

    async def press_enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            await self.send("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter",
                            windowsVirtualKeyCode=13, nativeVirtualKeyCode=13,
                            **({"text": "\r"} if kind == "keyDown" else {}))
