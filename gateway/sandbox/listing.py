"""List pagination and Stripe's search query language (the subset Paydesk uses)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway.sandbox.errors import invalid
from gateway.sandbox.forms import as_int
from gateway.sandbox.objects import list_object, search_result
from gateway.sandbox.store import State


def _limit(params: dict[str, Any]) -> int:
    limit = as_int(params, "limit") or 10
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    return limit


def paginate(state: State, items: list[dict[str, Any]], params: dict[str, Any],
             url: str) -> dict[str, Any]:
    """A Stripe list object of `items` (newest first), honouring limit/starting_after."""
    limit = _limit(params)
    ids = [o["id"] for o in items]
    start = 0
    if params.get("starting_after"):
        if params["starting_after"] not in ids:
            raise invalid(f"No such object: '{params['starting_after']}'", param="starting_after")
        start = ids.index(params["starting_after"]) + 1
    elif params.get("ending_before"):
        if params["ending_before"] not in ids:
            raise invalid(f"No such object: '{params['ending_before']}'", param="ending_before")
        end = ids.index(params["ending_before"])
        start = max(0, end - limit)
        page = items[start:end]
        return list_object(url, [state.render(o, _expand(params)) for o in page], start > 0)
    page = items[start:start + limit]
    return list_object(url, [state.render(o, _expand(params)) for o in page],
                       start + limit < len(items))


def _expand(params: dict[str, Any]) -> list[str]:
    raw = params.get("expand") or []
    paths = raw if isinstance(raw, list) else [raw]
    return [p.removeprefix("data.") for p in paths]


_CLAUSE = re.compile(
    r"""\s*(-?)(?:metadata\[['"](?P<mkey>[^'"]+)['"]\]|(?P<field>[a-z_]+))\s*:\s*
        (?:['"](?P<qval>[^'"]*)['"]|(?P<val>[^\s'"]+))\s*""",
    re.VERBOSE,
)


def matcher(query: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate for Stripe search `query`: clauses joined by AND or OR (not both)."""
    text = query.strip()
    if not text:
        raise invalid("Missing required param: query.", param="query", code="parameter_missing")
    joiner = " OR " if " OR " in text else " AND "
    if " OR " in text and " AND " in text:
        raise invalid("Search queries cannot mix AND and OR.", param="query")
    tests = []
    for clause in text.split(joiner):
        m = _CLAUSE.fullmatch(clause)
        if not m:
            raise invalid(f"Unsupported search query clause: {clause.strip()}", param="query")
        negate = m.group(1) == "-"
        value = m.group("qval") if m.group("qval") is not None else m.group("val")
        key, field = m.group("mkey"), m.group("field")
        tests.append((negate, key, field, value))

    def check(obj: dict[str, Any]) -> bool:
        results = []
        for negate, key, field, value in tests:
            actual = obj.get("metadata", {}).get(key) if key else obj.get(field)
            hit = actual is not None and str(actual).lower() == value.lower() if field in (
                "email", "name") else actual is not None and str(actual) == value
            results.append(hit != negate)
        return any(results) if joiner == " OR " else all(results)

    return check


def search(state: State, items: list[dict[str, Any]], params: dict[str, Any],
           url: str) -> dict[str, Any]:
    """A Stripe search_result: `page` is the id to continue after."""
    predicate = matcher(str(params.get("query", "")))
    hits = [o for o in items if predicate(o)]
    limit = _limit(params)
    start = 0
    if params.get("page"):
        ids = [o["id"] for o in hits]
        start = ids.index(params["page"]) + 1 if params["page"] in ids else len(hits)
    page = hits[start:start + limit]
    more = start + limit < len(hits)
    return search_result(url, [state.render(o, _expand(params)) for o in page], more,
                         page[-1]["id"] if more and page else None)
