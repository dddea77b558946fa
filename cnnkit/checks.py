"""Checks that assignment tests use to see *how* a student solved a task.

Hidden tests of ``source/ps1_output_shapes`` and ``source/ps2_pooling_as_convolution``
must know that a solution computes its answer itself instead of calling the library
function it is meant to re-implement. Two independent checks:

- :func:`referenced_names` reads the bytecode of a function, and of every helper function
  it calls from the same notebook, for the global names and attributes it uses;
- :func:`forbidden_calls` replaces library functions by ones that fail while a block of
  test code runs, so that a call through any alias is caught.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import types
from collections.abc import Callable, Iterable, Iterator

__all__ = ["assert_not_used", "forbidden_calls", "forbidden_used", "referenced_names"]


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def referenced_names(func: Callable) -> set[str]:
    """Global names and attribute names used by ``func`` and the helpers it calls.

    Helpers are followed when they are plain functions defined in the same module (for a
    notebook: other functions the student wrote). Modules and library functions a name
    resolves to are reported by their qualified name too (``torch.nn.functional.max_pool2d``
    for ``F.max_pool2d`` is reported as ``F``, ``max_pool2d`` and, when ``F`` is a module,
    ``torch.nn.functional``).
    """
    names: set[str] = set()
    seen: set[int] = set()
    todo = [func]
    while todo:
        f = _unwrap(todo.pop())
        if not isinstance(f, types.FunctionType) or id(f) in seen:
            continue
        seen.add(id(f))
        for code in _code_objects(f.__code__):
            for name in code.co_names:
                names.add(name)
                value = f.__globals__.get(name)
                if isinstance(value, types.ModuleType):
                    names.add(value.__name__)
                elif callable(value):
                    module = getattr(value, "__module__", None) or ""
                    qualname = getattr(value, "__qualname__", None) or getattr(
                        value, "__name__", ""
                    )
                    if module and qualname:
                        names.add(f"{module}.{qualname}")
                    if module and module != f.__module__:
                        # An alias (pool = F.max_pool2d) still names the library function.
                        names.add(getattr(value, "__name__", ""))
                        names.add(f"{module}.{getattr(value, '__name__', '')}")
                    if isinstance(value, types.FunctionType) and module == f.__module__:
                        todo.append(value)
    return names


def _unwrap(func: Callable) -> Callable:
    """``func`` without ``functools.wraps`` layers (a decorator must not hide the body)."""
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    return func


def forbidden_used(func: Callable, forbidden: Iterable[str]) -> list[str]:
    """The names ``func`` (or a helper it calls) uses that match ``forbidden``, sorted.

    Each forbidden entry matches a bare name (``max_pool2d``), or a prefix of a qualified
    name (``cnnkit`` matches ``cnnkit.shapes.conv2d_output_shape``). Test cells hand this
    list to ``cnnkit.observe.observe``: the grader then requires it to be empty, even if
    the student's code silenced the assertion of :func:`assert_not_used`.
    """
    forbidden = list(forbidden)
    used = referenced_names(func)
    hits = (name for name in used for bad in forbidden if name == bad or name.startswith(bad + "."))
    return sorted(dict.fromkeys(hits))


def assert_not_used(func: Callable, forbidden: Iterable[str], *, hint: str) -> None:
    """Fail with ``hint`` if ``func`` (or a helper it calls) names anything in ``forbidden``
    (see :func:`forbidden_used`)."""
    hits = forbidden_used(func, forbidden)
    assert not hits, f"{func.__name__} uses {', '.join(hits)}: {hint}"


@contextlib.contextmanager
def forbidden_calls(targets: Iterable[str], *, hint: str) -> Iterator[None]:
    """Make each ``"module.attr"`` in ``targets`` raise ``AssertionError(hint)`` inside the block.

    Example: ``with forbidden_calls(["torch.nn.functional.max_pool2d"], hint="use unfold"):``.
    """
    saved: list[tuple[object, str, object]] = []

    def refuse(name: str) -> Callable:
        def refused(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"{name} was called: {hint}")

        return refused

    try:
        for target in targets:
            module_name, attr = target.rsplit(".", 1)
            owner = importlib.import_module(module_name)
            saved.append((owner, attr, getattr(owner, attr)))
            setattr(owner, attr, functools.wraps(getattr(owner, attr))(refuse(target)))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)
