"""Stripe's request schema, derived from the pinned `stripe` SDK: routes and parameter checks.

Nothing here lists a parameter by hand. The SDK's services (`stripe/**/_*_service.py`) say
which HTTP method and path each call uses and which `stripe.params` TypedDict describes its
parameters; those TypedDicts (generated from Stripe's OpenAPI spec for the pinned API
version) give the names, nesting, lists, enums and required keys. A new SDK pin moves the
sandbox, and the contract test, to the new API version.

Reading the types:
- `Literal['a', 'b'] | str`: the trailing `str` is the SDK's room for values added later;
  the closed set is the Literal's.
- `Literal['']` in a union: an empty string unsets the field, so it is allowed.
- `Dict[str, str]` (metadata): any keys, string values; an empty value unsets a key.
- The keys of `stripe.RequestOptions` (api_key, idempotency_key, ...) travel as headers,
  never as parameters, so they are left out.
- `List[X]`: the form encoding sends a list as a hash with digit keys (`expand[0]=a`); it
  becomes a list only here, where a list is expected, so `metadata[1]=x` keeps its key "1".
- `expand`: each path is checked against the object the endpoint answers with (the service
  method's return annotation) and that object's `ExpandableField`s: see expandable.py.

The one hand-written piece is `REMOVED`: a parameter that Stripe removed keeps the specific
error code its changelog names.
"""

from __future__ import annotations

import ast
import importlib
import re
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Any, ForwardRef, Literal, NotRequired, Required

import stripe
from stripe._request_options import RequestOptions
from stripe._stripe_object import StripeObject
from typing_extensions import is_typeddict

from gateway.sandbox.errors import ApiError
from gateway.sandbox.expandable import Expansions, Ref, returned_refs

# (HTTP method, SDK path template) -> {removed parameter: (code, message)}.
# https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents
# "Passing `payment_method_types` on this API version returns a 400 error with the code
# `payment_method_types_no_longer_supported`" (PaymentIntent create, update and confirm;
# SetupIntent create and update).
_PMT_GONE = ("payment_method_types_no_longer_supported",
             "The payment_method_types parameter is no longer supported on this API version. "
             "Use allowed_payment_method_types to name the payment method types to allow, "
             "excluded_payment_method_types, or dynamic payment methods.")
REMOVED: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("POST", "/v1/payment_intents"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/payment_intents/{intent}"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/payment_intents/{intent}/confirm"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/setup_intents"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/setup_intents/{intent}"): {"payment_method_types": _PMT_GONE},
}

_REQUEST_OPTIONS = dict(RequestOptions.__annotations__)
_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?$")
# Ranks for sorting violations: the first one is what the API answers with.
_RANK = {"removed": 0, "unknown": 1, "missing": 2, "invalid": 3}


@dataclass(frozen=True)
class Violation:
    """One reason Stripe refuses a request. `reason` never contains a sent value, so it is
    safe to log and print; `message` is the API's wording and may echo the value."""

    kind: str  # removed, unknown, missing, invalid
    param: str
    code: str | None
    message: str
    reason: str

    def error(self) -> ApiError:
        return ApiError(400, self.message, code=self.code, param=self.param or None)


def _one_of(values: list[str]) -> str:
    values = list(dict.fromkeys(values))  # two alternatives of one kind read as one
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return ", ".join(values[:-1]) + f", or {values[-1]}"


def _invalid(path: str, message: str, reason: str, code: str | None = None) -> Violation:
    return Violation("invalid", path, code, message, reason)


# -- types compiled from the TypedDicts ------------------------------------------------------
# Error codes are the ones Stripe documents (https://docs.stripe.com/error-codes, also the
# SDK's `code` enum): parameter_unknown, parameter_missing, parameter_invalid_integer,
# parameter_invalid_empty. Stripe has no code for a bad boolean, enum value, hash or array;
# those answer with `param` and Stripe's message only.


class _Node:
    shape = "scalar"  # scalar, object, list
    expected = ""

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        raise NotImplementedError

    def shaped(self, value: Any) -> Any:
        """`value` with every digit-keyed hash turned into a list where this type expects a
        list (the form encoding sends `expand[0]=a` as a hash with key "0")."""
        return value


class _Str(_Node):
    expected = "a string"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        pass


class _Int(_Node):
    expected = "an integer"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if not _INTEGER.match(value):
            out.append(_invalid(path, f"Invalid integer: {value}", "not an integer",
                                "parameter_invalid_integer"))


class _Decimal(_Node):
    expected = "a number"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if not _DECIMAL.match(value):
            out.append(_invalid(path, f"Invalid decimal: {value}", "not a number"))


class _Bool(_Node):
    expected = "a boolean"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if value not in ("true", "false"):
            out.append(_invalid(path, f"Invalid boolean: {value}", "not a boolean (true/false)"))


class _Enum(_Node):
    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.expected = "one of " + _one_of(values)

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if value not in self.values:
            out.append(_invalid(path, f"Invalid {path}: must be {self.expected}",
                                f"must be {self.expected}"))


class _Any(_Node):
    shape = "any"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        pass


class _List(_Node):
    shape = "list"
    expected = "an array"

    def __init__(self, item: _Field) -> None:
        self.item = item

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        for i, item in enumerate(value):
            self.item.check(item, f"{path}[{i}]", out)

    def shaped(self, value: Any) -> Any:
        return [self.item.shaped(item) for item in value] if isinstance(value, list) else value


class _Hash(_Node):
    """`Dict[str, X]`: free keys (metadata), each value checked."""

    shape = "object"
    expected = "a hash"

    def __init__(self, value: _Field) -> None:
        self.value = value

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        for key, item in value.items():
            self.value.check(item, f"{path}[{key}]", out)

    def shaped(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {key: self.value.shaped(item) for key, item in value.items()}


class _Object(_Node):
    """A TypedDict: known keys only, required keys present. Its fields compile on first use
    (some types are large; most are never sent)."""

    shape = "object"
    expected = "a hash"

    def __init__(self, cls: type, schema: Schema) -> None:
        self.cls = cls
        self.schema = schema
        self._fields: dict[str, _Field] | None = None
        self._required: tuple[str, ...] = ()

    def fields(self) -> dict[str, _Field]:
        if self._fields is None:
            fields, required = self.schema.compile_typeddict(self.cls)
            self._required = required  # before _fields: another thread may be reading
            self._fields = fields
        return self._fields

    def shaped(self, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        fields = self.fields()
        return {key: fields[key].shaped(item) if key in fields else item
                for key, item in value.items()}

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        fields = self.fields()
        for key, item in value.items():
            where = f"{path}[{key}]" if path else key
            spec = fields.get(key)
            if spec is None:
                out.append(Violation("unknown", where, "parameter_unknown",
                                     f"Received unknown parameter: {where}", "unknown parameter"))
            else:
                spec.check(item, where, out)
        for key in self._required:
            if key not in value:
                where = f"{path}[{key}]" if path else key
                out.append(Violation("missing", where, "parameter_missing",
                                     f"Missing required param: {where}.", "missing required"))


@dataclass
class _Field:
    """One parameter's accepted forms: the alternatives of its union, and whether an empty
    string (unset) is allowed."""

    alternatives: list[_Node] = field(default_factory=list)
    empty_ok: bool = False

    def shaped(self, value: Any) -> Any:
        """A hash whose keys are all digits becomes a list only where a list is expected
        and a hash is not: metadata[1]=x stays a hash with key "1"."""
        if isinstance(value, dict) and value and all(key.isdigit() for key in value) and \
                any(alt.shape == "list" for alt in self.alternatives) and \
                not any(alt.shape == "object" for alt in self.alternatives):
            value = [value[key] for key in sorted(value, key=int)]
        shape = "object" if isinstance(value, dict) else "list" if isinstance(value, list) \
            else "scalar"
        fitting = [alt for alt in self.alternatives if alt.shape == shape]
        if not fitting:
            return value
        if shape == "object" and len(fitting) > 1:  # the TypedDict that knows every key
            known: list[_Node] = [alt for alt in fitting if isinstance(alt, _Object)
                                  and set(value) <= set(alt.fields())]
            fitting = known or fitting
        return fitting[0].shaped(value)

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if any(alt.shape == "any" for alt in self.alternatives):
            return
        if value == "":
            if not self.empty_ok:
                out.append(_invalid(
                    path, f"You passed an empty string for '{path}'. We assume empty values "
                    f"are an attempt to unset a parameter; however '{path}' cannot be unset. "
                    f"You should remove '{path}' from your request or supply a non-empty value.",
                    "empty string where a value is required", "parameter_invalid_empty"))
            return
        shape = "object" if isinstance(value, dict) else "list" if isinstance(value, list) \
            else "scalar"
        fitting = [alt for alt in self.alternatives if alt.shape == shape]
        if not fitting:
            wanted = _one_of([alt.expected for alt in self.alternatives]) or "nothing"
            if self.alternatives and all(a.shape == "list" for a in self.alternatives):
                message = "Invalid array"  # a scalar, or a hash whose keys are not all digits
            elif shape == "scalar" and all(a.shape == "object" for a in self.alternatives):
                message = "Invalid hash"
            else:
                message = f"Invalid value for {path}: expected {wanted}"
            out.append(_invalid(path, message, f"expected {wanted}"))
            return
        if len(fitting) == 1:
            fitting[0].check(value, path, out)
            return
        trials = []
        for alt in fitting:
            trial: list[Violation] = []
            alt.check(value, path, trial)
            if not trial:
                return
            trials.append(trial)
        if shape == "scalar":
            wanted = _one_of([alt.expected for alt in fitting])
            out.append(_invalid(path, f"Invalid {path}: must be {wanted}", f"must be {wanted}"))
        else:
            closest = min(trials, key=len)  # the alternative that came nearest
            out.extend(closest)


# -- routes read from the SDK's services ------------------------------------------------------


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


class Schema:
    """The SDK's endpoints and their parameter checks (build once with `schema()`)."""

    def __init__(self, package: Path) -> None:
        started = time.perf_counter()
        self.api_version = stripe.api_version
        self.endpoints: list[Endpoint] = []
        seen: set[tuple[str, str]] = set()
        for path in sorted(package.rglob("_*_service.py")):
            for method, template, module, name, returns in _endpoints_in(
                    path.read_text("utf-8")):
                if (method, template) in seen:
                    continue
                seen.add((method, template))
                self.endpoints.append(Endpoint(method, template, module, name,
                                               _segments(template), returns))
        # Literal segments before placeholders: /v1/customers/search before /v1/customers/{id}.
        self.endpoints.sort(key=lambda e: (e.template.count("{"), -len(e.template)))
        self._objects: dict[type, _Object] = {}
        self._lock = threading.RLock()
        self.expansions = Expansions(package)  # read as expand paths are first asked about
        self.build_ms = (time.perf_counter() - started) * 1000

    # -- routes

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        parts = path.removesuffix("/").split("/") if path != "/" else [""]
        if any(part == "" for part in parts[1:]):
            return None
        for endpoint in self.endpoints:
            if endpoint.method == method and endpoint.matches(parts):
                return endpoint
        return None

    def params_type(self, endpoint: Endpoint) -> type | None:
        if endpoint.params_module is None or endpoint.params_class is None:
            return None
        return getattr(importlib.import_module(endpoint.params_module), endpoint.params_class)

    # -- checks

    def violations(self, method: str, path: str, params: dict[str, Any]) -> list[Violation] | None:
        """What Stripe would refuse in this request, first answer first; None when the SDK
        knows no such endpoint."""
        prepared = self.prepare(method, path, params)
        return None if prepared is None else prepared[1]

    def prepare(self, method: str, path: str, params: dict[str, Any]
                ) -> tuple[dict[str, Any], list[Violation]] | None:
        """The request's params as its endpoint reads them (a digit-keyed hash turned into a
        list where the types expect a list) and what Stripe would refuse in them, first
        answer first, `expand[]` paths included; None when the SDK knows no such endpoint."""
        endpoint = self.endpoint(method, path)
        if endpoint is None:
            return None
        removed = REMOVED.get((method, endpoint.template), {})
        out: list[Violation] = []
        rest = {}
        for key, value in params.items():
            if key in removed:
                code, message = removed[key]
                out.append(Violation("removed", key, code, message,
                                     "removed from the pinned API version"))
            else:
                rest[key] = value
        cls = self.params_type(endpoint)
        if cls is None:
            for key in rest:
                out.append(Violation("unknown", key, "parameter_unknown",
                                     f"Received unknown parameter: {key}", "unknown parameter"))
        else:
            node = self.object_for(cls)
            params = node.shaped(params)
            rest = {key: value for key, value in params.items() if key not in removed}
            node.check(rest, "", out)
            if not out:
                out.extend(self.expand_violations(endpoint, params.get("expand")))
        out.sort(key=lambda v: _RANK[v.kind])  # stable: request order within a kind
        return params, out

    def expand_violations(self, endpoint: Endpoint, expand: Any) -> list[Violation]:
        """Stripe refuses a path its answer cannot expand before it does anything; checked
        against the SDK's resource classes (gateway/sandbox/expandable.py)."""
        if not endpoint.returns or not isinstance(expand, list):
            return []  # an answer the SDK does not model: nothing to check against
        out = []
        for path in expand:
            message = self.expansions.refusal(endpoint.returns, str(path))
            if message is not None:
                out.append(_invalid("expand", message, "a path that cannot be expanded"))
        return out

    # -- compiling the TypedDicts

    def object_for(self, cls: type) -> _Object:
        with self._lock:
            node = self._objects.get(cls)
            if node is None:
                node = self._objects[cls] = _Object(cls, self)
            return node

    def compile_typeddict(self, cls: type) -> tuple[dict[str, _Field], tuple[str, ...]]:
        with self._lock:
            namespace = vars(importlib.import_module(cls.__module__))
            fields: dict[str, _Field] = {}
            required: list[str] = []
            for key, annotation in cls.__annotations__.items():
                if _REQUEST_OPTIONS.get(key) is annotation:  # inherited from RequestOptions
                    continue
                optional = key not in getattr(cls, "__required_keys__", ())
                fields[key] = self._field(annotation, namespace)
                if not optional:
                    required.append(key)
            return fields, tuple(required)

    def _field(self, annotation: Any, namespace: dict[str, Any]) -> _Field:
        spec = _Field()
        literals: list[str] = []
        has_str = False
        for tp in _flatten(annotation, namespace):
            origin = typing.get_origin(tp)
            args = typing.get_args(tp)
            if tp is type(None):
                continue
            if origin is Literal:
                for value in args:
                    text = str(value).lower() if isinstance(value, bool) else str(value)
                    if text == "":
                        spec.empty_ok = True
                    elif text not in literals:
                        literals.append(text)
            elif tp is str:
                has_str = True
            elif tp is bool:
                spec.alternatives.append(_Bool())
            elif tp is int:
                spec.alternatives.append(_Int())
            elif tp in (float, Decimal):
                spec.alternatives.append(_Decimal())
            elif origin is list:
                spec.alternatives.append(_List(self._field(args[0], namespace)))
            elif isinstance(origin, type) and issubclass(origin, (dict, StripeObject)):
                value = self._field(args[-1] if args else Any, namespace)
                if all(isinstance(alt, _Str) for alt in value.alternatives):
                    value.empty_ok = True  # metadata: an empty value unsets the key
                spec.alternatives.append(_Hash(value))
            elif isinstance(tp, type) and is_typeddict(tp):
                spec.alternatives.append(self.object_for(tp))
            else:
                spec.alternatives.append(_Any())
        if literals:  # the closed set; a trailing `str` only leaves room for later values
            spec.alternatives.append(_Enum(literals))
        elif has_str:
            spec.alternatives.append(_Str())
        return spec


def _flatten(annotation: Any, namespace: dict[str, Any]) -> Iterator[Any]:
    """The alternatives of an annotation, forward references evaluated in the module."""
    if isinstance(annotation, str):
        annotation = eval(annotation, namespace)  # noqa: S307 - the SDK's own annotations
    elif isinstance(annotation, ForwardRef):
        annotation = eval(annotation.__forward_arg__, namespace)  # noqa: S307
    origin = typing.get_origin(annotation)
    if origin in (NotRequired, Required, typing.Union, UnionType):
        for arg in typing.get_args(annotation):
            yield from _flatten(arg, namespace)
        return
    yield annotation


_SCHEMA: Schema | None = None
_SCHEMA_LOCK = threading.Lock()


def schema() -> Schema:
    """The process's one Schema, built on first use (the sandbox builds it when it starts)."""
    global _SCHEMA
    with _SCHEMA_LOCK:
        if _SCHEMA is None:
            _SCHEMA = Schema(Path(stripe.__file__).parent)
        return _SCHEMA

