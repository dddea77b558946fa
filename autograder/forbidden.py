"""The forbidden-names check again, on the student's source text, in the grader.

Test cells ask ``cnnkit.checks.forbidden_used(func, NAMES)`` inside the kernel and observe
the answer; a student who replaces ``forbidden_used`` there reports ``[]`` whatever the code
does. The grader therefore reads the same rules out of the instructor's test cells (the
function and the list of names, as literals or names bound to literals in that cell) and
checks the student's code itself, parsed with :mod:`ast`: the function, the helpers it
calls that the student defined, and the aliases and imports it goes through.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["rules", "names_used", "violations"]


def _strings(node: ast.AST, env: dict[str, list[str]]) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple):
        items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
        return items if len(items) == len(node.elts) and all(isinstance(i, str) for i in items) \
            else None
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _strings(node.left, env), _strings(node.right, env)
        return None if left is None or right is None else left + right
    return None


def rules(test_code: str) -> list[tuple[str, list[str]]]:
    """``(function, forbidden names)`` for each ``forbidden_used(...)`` in a test cell."""
    try:
        tree = ast.parse(test_code)
    except SyntaxError:
        return []
    env: dict[str, list[str]] = {}
    loops: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name):
            value = _strings(node.value, env)
            if value is not None:
                env[node.targets[0].id] = value
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) \
                and isinstance(node.iter, ast.Tuple | ast.List):
            loops[node.target.id] = [e.id for e in node.iter.elts if isinstance(e, ast.Name)]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "forbidden_used" \
                and len(node.args) == 2 and isinstance(node.args[0], ast.Name):
            names = _strings(node.args[1], env)
            if names is None:
                continue
            for func in loops.get(node.args[0].id, [node.args[0].id]):
                found.append((func, names))
    return found


class _Module:
    """What the student's cells define at top level: functions, aliases, imports."""

    def __init__(self, sources: Iterable[str]):
        self.functions: dict[str, ast.FunctionDef] = {}
        self.aliases: dict[str, set[str]] = {}
        for source in sources:
            try:
                tree = ast.parse(source)
            except SyntaxError:
                continue
            for node in tree.body:
                self._top(node)

    def _top(self, node: ast.stmt) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.functions[node.name] = node
        elif isinstance(node, ast.Assign):
            used = _loads(node.value)
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.aliases.setdefault(target.id, set()).update(used)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for name, qualified in _imports(node):
                self.aliases.setdefault(name, set()).add(qualified)


def _imports(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    out = []
    for alias in node.names:
        if isinstance(node, ast.ImportFrom):
            qualified = f"{node.module}.{alias.name}" if node.module else alias.name
            out.append((alias.asname or alias.name, qualified))
        else:
            out.append((alias.asname or alias.name.split(".")[0], alias.name))
    return out


def _loads(node: ast.AST) -> set[str]:
    """Names read and attribute names used under ``node``, and modules it imports."""
    used: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
            used.add(sub.id)
        elif isinstance(sub, ast.Attribute):
            used.add(sub.attr)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            for name, qualified in _imports(sub):
                used.update({name, qualified, qualified.split(".")[-1]})
    return used


def _locals(func: ast.FunctionDef) -> set[str]:
    """Arguments and names assigned inside ``func`` (the bytecode check ignores them too)."""
    names = {a.arg for a in ast.walk(func.args) if isinstance(a, ast.arg)}
    for sub in ast.walk(func):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
            names.add(sub.id)
    return names


def names_used(func: str, sources: Iterable[str]) -> set[str]:
    """Names that ``func`` in the student's code reads, through its helpers and aliases."""
    module = _Module(sources)
    used: set[str] = set()
    todo, seen = [func], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in module.functions:
            continue
        seen.add(name)
        for item in _loads(module.functions[name]) - _locals(module.functions[name]):
            used.add(item)
            used.update(module.aliases.get(item, ()))
            todo.append(item)
    return used


def violations(test_code: str, sources: Iterable[str]) -> list[str]:
    """``"func uses a, b"`` for each rule of the test cell that the student's code breaks."""
    sources = list(sources)
    out = []
    for func, forbidden in rules(test_code):
        used = names_used(func, sources)
        hits = sorted({n for n in used for bad in forbidden
                       if n == bad or n.startswith(bad + ".")})
        if hits:
            out.append(f"{func} uses {', '.join(hits)}")
    return out
