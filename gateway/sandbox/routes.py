"""Stripe's routes, read from the pinned `stripe` SDK's services (`stripe/**/_*_service.py`):
which HTTP method and path each call uses, which `stripe.params` TypedDict describes its
parameters, and which object it answers with (the service method's return annotation)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.sandbox.expandable import Ref, returned_refs


@dataclass(frozen=True)
class Endpoint:
    method: str  # GET, POST, DELETE
    template: str  # "/v1/payment_intents/{intent}"
    params_module: str | None  # "stripe.params._payment_intent_update_params"
    params_class: str | None  # "PaymentIntentUpdateParams"
    segments: tuple[str | None, ...]  # literal path segments; None for a {placeholder}
    # The object it answers with, from the service method's return annotation.
    returns: tuple[Ref, ...] = ()

    def matches(self, parts: list[str]) -> bool:
        return len(parts) == len(self.segments) and all(
            want is None or want == got for want, got in zip(self.segments, parts, strict=True))


def _as_request(node: ast.AST) -> tuple[str, ast.expr] | None:
    """(HTTP method, path argument) of a `self._request("post", path, ...)` call."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "_request" and len(node.args) >= 2
            and isinstance(node.args[0], ast.Constant)):
        return str(node.args[0].value).upper(), node.args[1]
    return None


def _request_calls(func: ast.FunctionDef) -> list[tuple[str, ast.expr]]:
    """The `self._request(...)` calls of a method. Generated methods read
    `return cast("X", self._request(...))`: looked for there first, then anywhere."""
    for stmt in func.body:
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Call):
            found = [c for n in (stmt.value, *stmt.value.args) if (c := _as_request(n))]
            if found:
                return found
    return [c for n in ast.walk(func) if (c := _as_request(n))]


def _template_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format" and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)):
        return node.func.value.value
    return None


def _params_name(func: ast.FunctionDef) -> str | None:
    for arg in func.args.args + func.args.kwonlyargs:
        if arg.arg != "params" or arg.annotation is None:
            continue
        node = arg.annotation
        if isinstance(node, ast.Subscript):  # Optional["XParams"]
            node = node.slice
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
    return None


# The services are large (about 1 MB, mostly docstrings and async twins). To keep start-up
# cheap, only the import lines and the synchronous methods that call `self._request(` are
# handed to `ast`, docstrings blanked.
_IMPORT = re.compile(r"^ *from (stripe[\w.]*) import (\([^)]*\)|[^\n]*)", re.M)
_METHOD = re.compile(r"^    (?:async )?def \w+\(", re.M)
_DOCSTRING = re.compile(r'"""[\s\S]*?"""')


def _endpoints_in(
        source: str) -> Iterator[tuple[str, str, str | None, str | None, tuple[Ref, ...]]]:
    """(METHOD, path template, params module, params class, returned object) of each call in
    a service."""
    imports: dict[str, str] = {}
    for match in _IMPORT.finditer(source):  # `from stripe.x import (A, B as C)`
        for alias in match.group(2).strip("() \n").split(","):
            name, _, asname = alias.strip().partition(" as ")
            if name:
                imports[asname.strip() or name] = match.group(1)
    starts = [m.start() for m in _METHOD.finditer(source)]
    for begin, end in zip(starts, [*starts[1:], len(source)], strict=True):
        chunk = source[begin:end]
        if chunk.startswith("    async ") or "self._request(" not in chunk:
            continue  # the async twins say the same
        tree = ast.parse("class _Service:\n" + _DOCSTRING.sub('""', chunk))
        cls = tree.body[0]
        assert isinstance(cls, ast.ClassDef)
        for func in cls.body:
            if not isinstance(func, ast.FunctionDef):
                continue
            for method, path in _request_calls(func):
                template = _template_of(path)
                if template is None or not template.startswith("/v1/"):
                    continue
                name = _params_name(func)
                returns = func.returns.value if isinstance(func.returns, ast.Constant) and \
                    isinstance(func.returns.value, str) else None
                yield (method, template, imports.get(name) if name else None, name,
                       returned_refs(returns, imports))


def _segments(template: str) -> tuple[str | None, ...]:
    return tuple(None if part.startswith("{") else part for part in template.split("/"))


def read_endpoints(package: Path) -> list[Endpoint]:
    """Every endpoint of the SDK's services under `package`, the first of each (method,
    template) kept, literal segments before placeholders."""
    endpoints: list[Endpoint] = []
    seen: set[tuple[str, str]] = set()
    for path in sorted(package.rglob("_*_service.py")):
        for method, template, module, name, returns in _endpoints_in(
                path.read_text("utf-8")):
            if (method, template) in seen:
                continue
            seen.add((method, template))
            endpoints.append(Endpoint(method, template, module, name,
                                      _segments(template), returns))
    # Literal segments before placeholders: /v1/customers/search before /v1/customers/{id}.
    endpoints.sort(key=lambda e: (e.template.count("{"), -len(e.template)))
    return endpoints
