"""cnnkit.checks: what hidden tests use to see how a task was solved."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from cnnkit import shapes
from cnnkit.checks import assert_not_used, forbidden_calls, referenced_names

pool = F.max_pool2d  # an alias, as a student might write it
conv2d_output_shape = shapes.conv2d_output_shape


def uses_alias(X):
    return pool(X, 2)


def helper(X):
    return F.avg_pool2d(X, 2)


def uses_helper(X):
    return helper(X) + 1


def honest(n, k):
    return (n - k) // 1 + 1


def imported_function(n, k):
    return conv2d_output_shape(n, k)


def nested(X):
    def inner(Y):
        return F.max_pool2d(Y, 2)

    return inner(X)


@pytest.mark.parametrize(
    "func, name",
    [
        (uses_alias, "max_pool2d"),  # through an alias
        (uses_helper, "avg_pool2d"),  # inside a helper function of the same module
        (imported_function, "cnnkit"),  # a function imported by name
        (nested, "max_pool2d"),  # in a nested function
    ],
)
def test_forbidden_use_is_found(func, name):
    with pytest.raises(AssertionError, match=f"{func.__name__} uses .*: do it yourself"):
        assert_not_used(func, [name], hint="do it yourself")


def test_honest_code_passes_and_names_are_reported():
    assert_not_used(honest, ["cnnkit", "max_pool2d", "torch"], hint="")
    assert "helper" in referenced_names(uses_helper) and "F" in referenced_names(uses_helper)
    assert "torch.nn.functional" in referenced_names(uses_helper)


def test_forbidden_calls_catch_any_alias_at_run_time_and_restore():
    X = torch.randn(1, 1, 4, 4)
    original = F.max_pool2d
    with forbidden_calls(["torch.nn.functional.max_pool2d", "torch.max_pool2d"],
                         hint="use unfold"), pytest.raises(AssertionError, match="use unfold"):
        pool(X, 2)  # the alias was bound before the patch; the call reaches torch.max_pool2d
    assert F.max_pool2d is original
    torch.testing.assert_close(pool(X, 2), original(X, 2))


def test_forbidden_calls_restore_even_after_an_error():
    original = math.isclose
    with pytest.raises(ZeroDivisionError), forbidden_calls(["math.isclose"], hint=""):
        1 / 0  # noqa: B018
    assert math.isclose is original
