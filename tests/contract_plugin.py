"""The Stripe contract check: every request the official SDK sends while a test runs is
checked against Stripe's request schema for the pinned API version (derived from the SDK's
own `stripe.params` types, see gateway/sandbox/schema.py). A request Stripe would refuse
fails the test that sent it, whatever answered it: the sandbox, a stub, or Stripe itself.

A test that means to send refused requests (to see them refused) is marked
`@pytest.mark.stripe_refusals`; there, each refused request must also have been answered
with a 400, so a refusal the sandbox let through still fails.

Only method, path and parameter names are kept and printed: never a value, so no card
number or CVC reaches a report. Each pytest-xdist worker checks its own tests.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from stripe._http_client import HTTPClient

from gateway.sandbox.errors import ApiError
from gateway.sandbox.forms import decode
from gateway.sandbox.param_checks import Violation
from gateway.sandbox.schema import schema

MARKER = "stripe_refusals"


@dataclass(frozen=True)
class Checked:
    """One request as the SDK sent it: names only, and what Stripe would refuse in it."""

    method: str
    path: str
    names: tuple[str, ...]
    violations: tuple[Violation, ...]
    status: int | None = None  # the answer's HTTP status; None when none came

    def describe(self) -> str:
        reasons = "; ".join(f"{v.param or '(request)'}: {v.reason}"
                            + (f" [{v.code}]" if v.code else "") for v in self.violations)
        answer = f" (answered {self.status})" if self.status is not None else ""
        return f"{self.method} {self.path}{answer}: {reasons}"


def _names(params: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(params, dict):
        for key, value in params.items():
            yield from _names(value, f"{prefix}[{key}]" if prefix else str(key))
    elif isinstance(params, list):
        for i, value in enumerate(params):
            yield from _names(value, f"{prefix}[{i}]")
    else:
        yield prefix


def check_request(method: str, url: str, post_data: Any = None) -> Checked | None:
    """Check one request as the SDK hands it to its HTTP client; None when it is not a
    Stripe v1 API request (v2 JSON, files, or anything else)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.path.startswith("/v1/"):
        return None
    verb = method.upper()
    body = post_data.decode("utf-8", "replace") if isinstance(post_data, bytes) \
        else (post_data or "")
    try:
        params = decode(parts.query)
        if verb == "POST" and isinstance(body, str):
            params.update(decode(body))
    except ApiError as exc:
        bad = Violation("invalid", exc.param or "", exc.code, exc.message,
                        "a parameter name Stripe cannot read")
        return Checked(verb, parts.path, (), (bad,))
    found = schema().violations(verb, parts.path, params)
    if found is None:
        found = [Violation("unknown", "", None, "", "no such endpoint in the pinned SDK")]
    return Checked(verb, parts.path, tuple(_names(params)), tuple(found))


@dataclass
class Recorder:
    """The SDK requests of the running test (one recorder per worker process)."""

    requests: list[Checked] = field(default_factory=list)
    total: int = 0
    endpoints: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, checked: Checked) -> None:
        with self.lock:
            self.requests.append(checked)
            self.total += 1
            self.endpoints.add(f"{checked.method} {schema_template(checked)}")

    def take(self) -> list[Checked]:
        with self.lock:
            taken, self.requests = self.requests, []
            return taken


def schema_template(checked: Checked) -> str:
    endpoint = schema().endpoint(checked.method, checked.path)
    return endpoint.template if endpoint else checked.path


RECORDER = Recorder()
_ORIGINALS: dict[str, Callable[..., Any]] = {}


def _recording(original: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(self: HTTPClient, method: str, url: str, headers: Any, post_data: Any = None,
                *args: Any, **kwargs: Any) -> Any:
        checked = check_request(method, url, post_data)
        status = None
        try:
            response = original(self, method, url, headers, post_data, *args, **kwargs)
            status = response[1]
            return response
        finally:
            if checked is not None:
                RECORDER.add(Checked(checked.method, checked.path, checked.names,
                                     checked.violations, status))
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    return wrapper


def install() -> None:
    """Wrap the SDK's HTTP client (every client class inherits these two methods)."""
    for name in ("request_with_retries", "request_stream_with_retries"):
        if name not in _ORIGINALS:
            _ORIGINALS[name] = getattr(HTTPClient, name)
            setattr(HTTPClient, name, _recording(_ORIGINALS[name]))


def uninstall() -> None:
    for name, original in _ORIGINALS.items():
        setattr(HTTPClient, name, original)
    _ORIGINALS.clear()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: the test sends requests Stripe refuses, on purpose; each must "
                   "have been answered with a 400")
    schema()  # the SDK's routes, once per process
    install()


def pytest_unconfigure(config: pytest.Config) -> None:
    uninstall()


def problems(requests: list[Checked], refusals_expected: bool) -> list[str]:
    """The requests that break the contract, described without values."""
    found = []
    for checked in requests:
        if not checked.violations:
            continue
        if refusals_expected and checked.status == 400:
            continue  # refused on purpose, and refused
        found.append(checked.describe())
    return found


def _fail_on(item: pytest.Item) -> None:
    expected = item.get_closest_marker(MARKER) is not None
    found = problems(RECORDER.take(), expected)
    if found:
        pytest.fail("Requests that Stripe refuses on the pinned API version "
                    f"({schema().api_version}):\n  " + "\n  ".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def stripe_contract(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    """Starts each test with no recorded requests; at teardown, fails on requests that the
    fixtures' teardown sent (those of set-up and the test fail the test itself)."""
    RECORDER.take()  # anything left over from before this test is not its own
    yield RECORDER
    _fail_on(request.node)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """The test fails (not just errors) when it, or its fixtures' set-up, sent a request
    Stripe would refuse."""
    result = yield
    _fail_on(item)
    return result


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RECORDER.total:
        terminalreporter.write_line(
            f"stripe contract: {RECORDER.total} SDK requests checked, "
            f"{len(RECORDER.endpoints)} endpoints")
