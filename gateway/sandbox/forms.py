"""Stripe's form encoding: `metadata[key]=v`, `expand[0]=x` / `expand[]=x`, `card[number]=...`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from gateway.sandbox.errors import invalid

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


def decode(text: str) -> dict[str, Any]:
    """Nested params from a form-encoded body or query string, every `[key]` as a hash.
    `expand[0]=a` and `metadata[1]=x` decode alike; which of them is a list is the request
    types' call (Schema.prepare turns a digit-keyed hash into a list where one is expected)."""
    root: dict[str, Any] = {}
    for raw_key, value in parse_qsl(text, keep_blank_values=True):
        match = _KEY.match(raw_key)
        if not match:
            raise invalid(f"Invalid parameter name: {raw_key}", param=raw_key)
        parts = [match.group(1), *_PART.findall(match.group(2))]
        node: dict[str, Any] = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `a[]`: append under the next free index
                part = str(len(node))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid parameter: {raw_key}", param=raw_key)
                node = child
    return root


def as_int(params: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise invalid(f"Missing required param: {name}.", param=name,
                          code="parameter_missing")
        return None
    try:
        return int(str(raw))
    except ValueError:
        raise invalid(f"Invalid integer: {raw}", param=name,
                      code="parameter_invalid_integer") from None


def as_bool(params: dict[str, Any], name: str) -> bool:
    raw = params.get(name)
    if raw is None:
        return False
    text = str(raw).lower()
    if text not in {"true", "false"}:
        raise invalid(f"Invalid boolean: {raw}", param=name, code="parameter_invalid_boolean")
    return text == "true"


def as_list(params: dict[str, Any], name: str) -> list[Any]:
    raw = params.get(name)
    if raw is None:
        return []
    if isinstance(raw, list):
        return raw
    if isinstance(raw, dict):
        return list(raw.values())
    return [raw]


# https://docs.stripe.com/api/metadata: up to 50 keys, keys up to 40 characters long, values
# up to 500 characters long; keys cannot contain square brackets.
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500


def metadata(params: dict[str, Any], current: dict[str, str] | None = None) -> dict[str, str]:
    """Metadata after applying `metadata[...]` params: an empty value unsets a key, an empty
    `metadata` unsets them all. Stripe's limits are checked on the result."""
    result = dict(current or {})
    raw = params.get("metadata")
    if raw is None:
        return result
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise invalid("Invalid hash", param="metadata")
    for key, value in raw.items():
        where = f"metadata[{key}]"
        if not isinstance(value, str):
            raise invalid(f"Invalid value for {where}: metadata values must be strings.",
                          param=where)
        if "[" in key or "]" in key:
            raise invalid("Metadata keys cannot contain square brackets ([ or ]).", param=where)
        if not key.strip():
            raise invalid("Metadata keys cannot be empty.", param=where)
        if len(key) > MAX_METADATA_KEY:
            raise invalid(f"Metadata keys can have up to {MAX_METADATA_KEY} characters; "
                          f"this one has {len(key)}.", param=where)
        if len(value) > MAX_METADATA_VALUE:
            raise invalid(f"Metadata values can have up to {MAX_METADATA_VALUE} characters; "
                          f"the value of {key} has {len(value)}.", param=where)
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    if len(result) > MAX_METADATA_KEYS:
        raise invalid(f"Metadata can have up to {MAX_METADATA_KEYS} keys; this would give "
                      f"{len(result)}.", param="metadata")
    return result
