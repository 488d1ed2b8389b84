"""Parameter checks compiled from the pinned `stripe` SDK's request TypedDicts
(`stripe.params`, generated from Stripe's OpenAPI spec): names, nesting, lists, enums and
required keys, and the error Stripe answers with when a request breaks one.

Reading the types:
- `Literal['a', 'b'] | str`: the trailing `str` is the SDK's room for values added later;
  the closed set is the Literal's.
- `Literal['']` in a union: an empty string unsets the field, so it is allowed.
- `Dict[str, str]` (metadata): any keys, string values; an empty value unsets a key.
- The keys of `stripe.RequestOptions` (api_key, idempotency_key, ...) travel as headers,
  never as parameters, so they are left out.
- `List[X]`: the form encoding sends a list as a hash with digit keys (`expand[0]=a`); it
  becomes a list only here, where a list is expected, so `metadata[1]=x` keeps its key "1".
"""

from __future__ import annotations

import importlib
import re
import threading
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from types import UnionType
from typing import Any, ForwardRef, Literal, NotRequired, Required

from stripe._request_options import RequestOptions
from stripe._stripe_object import StripeObject
from typing_extensions import is_typeddict

from gateway.sandbox.errors import ApiError

_REQUEST_OPTIONS = dict(RequestOptions.__annotations__)
_INTEGER = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+(?:\.\d+)?$")


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


def invalid(path: str, message: str, reason: str, code: str | None = None) -> Violation:
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
            out.append(invalid(path, f"Invalid integer: {value}", "not an integer",
                                "parameter_invalid_integer"))


class _Decimal(_Node):
    expected = "a number"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if not _DECIMAL.match(value):
            out.append(invalid(path, f"Invalid decimal: {value}", "not a number"))


class _Bool(_Node):
    expected = "a boolean"

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if value not in ("true", "false"):
            out.append(invalid(path, f"Invalid boolean: {value}", "not a boolean (true/false)"))


class _Enum(_Node):
    def __init__(self, values: list[str]) -> None:
        self.values = values
        self.expected = "one of " + _one_of(values)

    def check(self, value: Any, path: str, out: list[Violation]) -> None:
        if value not in self.values:
            out.append(invalid(path, f"Invalid {path}: must be {self.expected}",
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

    def __init__(self, cls: type, types: ParamTypes) -> None:
        self.cls = cls
        self.types = types
        self._fields: dict[str, _Field] | None = None
        self._required: tuple[str, ...] = ()

    def fields(self) -> dict[str, _Field]:
        if self._fields is None:
            fields, required = self.types.compile_typeddict(self.cls)
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
                out.append(invalid(
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
            out.append(invalid(path, message, f"expected {wanted}"))
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
            out.append(invalid(path, f"Invalid {path}: must be {wanted}", f"must be {wanted}"))
        else:
            closest = min(trials, key=len)  # the alternative that came nearest
            out.extend(closest)


class ParamTypes:
    """The request TypedDicts compiled into checks, each once, on first use."""

    def __init__(self) -> None:
        self._objects: dict[type, _Object] = {}
        self._lock = threading.RLock()

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


