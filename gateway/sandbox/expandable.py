"""Which `expand[]` paths Stripe accepts, read from the pinned `stripe` SDK's resource classes.

Nothing here lists a field by hand. The SDK's resource classes (`stripe/_payment_intent.py`
and the like, generated from Stripe's OpenAPI spec) annotate each field that holds an id
Stripe can expand as `ExpandableField["Class"]`, e.g.
`payment_method: Optional[ExpandableField["PaymentMethod"]]`. A service method's return
annotation ("PaymentIntent", "ListObject[PaymentIntent]", "SearchResultObject[...]") says
which object an endpoint answers with; a list or search result is expanded below `data.`.

A path is accepted when each of its parts names a field of the object reached so far and its
last part is expandable. On the way, a field leads to the class it holds: an expandable
field to its target, a nested object (`transfer_data`) to its nested class, a list object
(`refunds`) to `data` and then its items. Lists that the API leaves out unless asked for
(a charge's `refunds`) are `ListObject` fields in the SDK, so they count as expandable too.
Stripe answers null for a path through a null value and leaves an expanded field as it is;
neither is a reason to refuse. At most four parts, as Stripe allows.

Reading the SDK stays cheap: a module is read only when a path first needs one of its
classes, and only its class outlines are parsed (method bodies and docstrings left out).
"""

from __future__ import annotations

import ast
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

MAX_LEVELS = 4
_DOCSTRING = re.compile(r'"""[\s\S]*?"""')
_MEMBER_START = re.compile(r"^( *)(?:@|def |async def )")
# Annotation heads that only wrap what they hold.
_WRAPPERS = {"Optional", "Union", "List", "NotRequired", "Required"}
_LISTS = {"ListObject", "SearchResultObject"}
_LISTED = re.compile(r"^(?:ListObject|SearchResultObject)\[(.*)\]$")


@dataclass(frozen=True)
class Ref:
    """A class of the SDK: its module and its dotted name there ("PaymentIntent.NextAction");
    `listed` for a list or search result of that class."""

    module: str
    name: str
    listed: bool = False

    def item(self) -> Ref:
        return Ref(self.module, self.name)


@dataclass(frozen=True)
class _Field:
    expandable: bool
    leads_to: tuple[Ref, ...]


def returned_refs(annotation: str | None, imports: dict[str, str]) -> tuple[Ref, ...]:
    """The objects a service method may answer with ("PaymentIntent", "ListObject[Refund]",
    "Union[BankAccount, Card]"), from its return annotation and the names its module imports
    (name -> module); empty when the annotation names no class the SDK models."""
    text = (annotation or "").strip()
    listed = _LISTED.match(text)
    inner = listed.group(1).strip() if listed else text
    if inner.startswith("Union[") and inner.endswith("]"):
        inner = inner[len("Union["):-1]
    refs = []
    for name in (part.strip().strip("'\"") for part in inner.split(",")):
        if name not in imports:
            return ()
        refs.append(Ref(imports[name], name, bool(listed)))
    return tuple(refs)


def _outline(source: str) -> str:
    """The source with docstrings blanked and every method or decorated body replaced by
    `...`: what is left is imports and class bodies with their annotated fields."""
    out: list[str] = []
    skipping: int | None = None
    for line in _DOCSTRING.sub('""', source).splitlines():
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if skipping is not None:
            if not stripped or indent > skipping or (
                    indent == skipping and stripped.startswith(")")):
                continue  # the body, or the closing line of a long signature
            skipping = None
        if _MEMBER_START.match(line):
            skipping = indent
            out.append(" " * indent + "...")
            continue
        out.append(line)
    return "\n".join(out)


class _Module:
    """One SDK module's classes (by dotted name) and the names it imports."""

    def __init__(self, path: Path) -> None:
        source = path.read_text("utf-8")
        try:
            tree = ast.parse(_outline(source))
        except SyntaxError:  # an unusual layout: read it whole
            tree = ast.parse(_DOCSTRING.sub('""', source))
        self.imports: dict[str, tuple[str, str]] = {}
        # Module-level imports, those under `if TYPE_CHECKING:` included.
        tops = [n for stmt in tree.body
                for n in (stmt.body if isinstance(stmt, ast.If) else [stmt])]
        for node in tops:
            if isinstance(node, ast.ImportFrom) and node.module and \
                    node.module.startswith("stripe"):
                for alias in node.names:
                    self.imports[alias.asname or alias.name] = (node.module, alias.name)
        self.classes: dict[str, ast.ClassDef] = {}
        self._collect(tree.body, "")

    def _collect(self, body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                name = prefix + node.name
                self.classes[name] = node
                self._collect(node.body, name + ".")


class Expansions:
    """The expandable paths of the SDK's objects, read as paths are asked about."""

    def __init__(self, package: Path) -> None:
        self.package = package
        self._modules: dict[str, _Module | None] = {}
        self._fields: dict[Ref, dict[str, _Field]] = {}
        self._lock = threading.RLock()
        self.read_ms = 0.0  # time spent reading the SDK so far

    # -- the check

    def refusal(self, roots: tuple[Ref, ...], path: str) -> str | None:
        """Stripe's message when `path` cannot be expanded on the answer, one of `roots`;
        None when it can."""
        parts = path.split(".")
        if len(parts) > MAX_LEVELS:
            return ("You cannot expand more than 4 levels of a property. "
                    f"Property: {path}")
        if any(not part for part in parts):
            return f"This property cannot be expanded ({path})."
        with self._lock:
            failed = self._failure(roots, parts, 0)
            if failed is None:
                return None
            message = f"This property cannot be expanded ({'.'.join(parts[:failed + 1])})."
            if all(root.listed for root in roots) and parts[0] != "data" and \
                    len(parts) < MAX_LEVELS and self._failure(roots, ["data", *parts], 0) is None:
                message += f" You may want to try expanding 'data.{path}' instead."
            return message

    def _failure(self, refs: tuple[Ref, ...], parts: list[str], at: int) -> int | None:
        """None when parts[at:] can be expanded from one of `refs`; else the index of the
        part where the furthest attempt stopped."""
        furthest = at
        head, last = parts[at], at == len(parts) - 1
        for ref in refs:
            if ref.listed:
                if head == "data" and not last:
                    failed = self._failure((ref.item(),), parts, at + 1)
                    if failed is None:
                        return None
                    furthest = max(furthest, failed)
                continue
            found = self.fields(ref).get(head)
            if found is None:
                continue
            if last:
                if found.expandable:
                    return None
                continue
            failed = self._failure(found.leads_to, parts, at + 1)
            if failed is None:
                return None
            furthest = max(furthest, failed)
        return furthest

    # -- reading the SDK

    def fields(self, ref: Ref) -> dict[str, _Field]:
        """The annotated fields of one class (inherited ones from SDK base classes too)."""
        with self._lock:
            known = self._fields.get(ref)
            if known is not None:
                return known
            started = time.perf_counter()
            self._fields[ref] = {}  # a class that refers to itself stops here
            module = self._module(ref.module)
            node = module.classes.get(ref.name) if module else None
            fields: dict[str, _Field] = {}
            if module is not None and node is not None:
                scope = ref.name
                for base in node.bases:
                    target = self._resolve(ref.module, module, scope, base)
                    if target is not None and target != ref:
                        fields.update(self.fields(target))
                for stmt in node.body:
                    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                        fields[stmt.target.id] = self._field(ref.module, module, scope,
                                                             stmt.annotation)
            self._fields[ref] = fields
            self.read_ms += (time.perf_counter() - started) * 1000
            return fields

    def _module(self, name: str) -> _Module | None:
        if name not in self._modules:
            parts = name.split(".")
            path = self.package.joinpath(*parts[1:]).with_suffix(".py")
            self._modules[name] = _Module(path) if parts[0] == "stripe" and path.is_file() \
                else None
        return self._modules[name]

    def _resolve(self, module_name: str, module: _Module, scope: str,
                 node: ast.expr) -> Ref | None:
        """The class a name means inside class `scope` of a module, as Python reads it: the
        class's own nested classes, then the module's classes, then its imports."""
        if not isinstance(node, ast.Name):
            return None
        name = node.id
        if f"{scope}.{name}" in module.classes:
            return Ref(module_name, f"{scope}.{name}")
        if name in module.classes:
            return Ref(module_name, name)
        imported = module.imports.get(name)
        if imported is not None:
            return Ref(*imported)
        return None

    def _field(self, module_name: str, module: _Module, scope: str,
               annotation: ast.expr) -> _Field:
        expandable = False
        leads_to: list[Ref] = []

        def walk(node: ast.expr, listed: bool) -> None:
            nonlocal expandable
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                try:
                    node = ast.parse(node.value, mode="eval").body  # a forward reference
                except SyntaxError:
                    return
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
                walk(node.left, listed)
                walk(node.right, listed)
            elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
                head = node.value.id
                args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
                if head == "ExpandableField" or head in _LISTS:
                    expandable = True
                if head == "ExpandableField" or head in _WRAPPERS or head in _LISTS:
                    for arg in args:
                        walk(arg, listed or head in _LISTS)
            elif isinstance(node, ast.Name):
                ref = self._resolve(module_name, module, scope, node)
                if ref is not None:
                    leads_to.append(Ref(ref.module, ref.name, listed))

        walk(annotation, False)
        return _Field(expandable, tuple(leads_to))
