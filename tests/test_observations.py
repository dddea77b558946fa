"""cnnkit.observe (kernel side) and autograder.observations (grader side), without kernels."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.observations import collect, decide, references_from, strip
from cnnkit.observe import ENV_VAR, MIME, encode, observe


def _cell(*payloads, error=None):
    outputs = [{"output_type": "display_data", "data": {MIME: p}, "metadata": {}}
               for p in payloads]
    if error:
        outputs.append({"output_type": "error", "ename": error, "evalue": "boom",
                        "traceback": []})
    return {"cell_type": "code", "outputs": outputs}


def _obs(key, value, **rule_kw):
    rule = {"check": "equal"}
    if "atol" in rule_kw:
        rule = {"check": "close", **rule_kw}
    elif rule_kw:
        rule = {"check": "bounds", "at_least": None, "at_most": None, **rule_kw}
    return {"key": key, "value": encode(value), "rule": rule}


def test_observe_is_a_no_op_outside_grading(monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    x = torch.ones(2)
    assert observe("x", x) is x
    assert capsys.readouterr().out == ""


def test_encode_tensors_numbers_and_refuses_impostors():
    t = torch.arange(6.0).reshape(2, 3)
    assert encode(t) == {"tensor": {"shape": [2, 3], "dtype": "torch.float32",
                                    "data": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]}}
    assert encode(np.int64(3)) == 3 and type(encode(np.float32(0.5))) is float
    assert encode(np.ones(2))["tensor"]["data"] == [1.0, 1.0]
    assert encode((1, 2.5, "a", None, True, {"k": [torch.Size([2, 3])]})) == [
        1, 2.5, "a", None, True, {"k": [[2, 3]]}]
    assert encode(float("nan")) == "nan"

    class Always:
        def __eq__(self, other):
            return True

    class SneakyInt(int):
        def __eq__(self, other):
            return True

    for bad in (Always(), SneakyInt(3), {1: 2}, object()):
        with pytest.raises(TypeError, match="the grader records|keys must be strings"):
            encode(bad)
    json.dumps(encode(t.as_subclass(type("T", (torch.Tensor,), {}))))


def test_decide_passes_only_matching_observations_arriving_once():
    refs = references_from(_cell(_obs("y", torch.tensor([1.0, 2.0]), atol=1e-5, rtol=1e-4),
                                 _obs("shape", (2, 3))))
    good = _cell(_obs("y", torch.tensor([1.0, 2.00001])), _obs("shape", (2, 3)))
    assert decide(good, refs).passed
    assert "differ" in decide(_cell(_obs("y", torch.tensor([1.0, 2.5])), _obs("shape", (2, 3))),
                              refs).reason
    assert "shape" in decide(_cell(_obs("y", torch.ones(3)), _obs("shape", (2, 3))), refs).reason
    assert "stopped before" in decide(_cell(_obs("y", torch.tensor([1.0, 2.0]))), refs).reason
    assert decide(_cell(error="KeyError"), refs).reason == "KeyError: boom"
    twice = _cell(_obs("y", torch.tensor([1.0, 2.0])), _obs("shape", (2, 3)), _obs("shape", (2, 3)))
    assert "2 times" in decide(twice, refs).reason
    errored = _cell(_obs("y", torch.tensor([1.0, 2.0])), _obs("shape", (2, 3)), error="ValueError")
    assert decide(errored, refs).reason.startswith("ValueError")
    assert not decide(good, {}).passed


def test_exact_rule_compares_types_too():
    refs = references_from(_cell(_obs("n", 1)))
    assert decide(_cell(_obs("n", 1)), refs).passed
    assert not decide(_cell(_obs("n", True)), refs).passed
    assert not decide(_cell(_obs("n", 1.0)), refs).passed


def test_bounds_rule_comes_from_the_reference_not_the_student():
    refs = references_from(_cell(_obs("acc", 0.9, at_least=0.85)))
    assert decide(_cell(_obs("acc", 0.86)), refs).passed
    lying = _cell({"key": "acc", "value": 0.1, "rule": {"check": "bounds", "at_least": 0.0}})
    assert "below the required 0.85" in decide(lying, refs).reason
    assert not decide(_cell(_obs("acc", "0.99")), refs).passed


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=20), st.floats(0, 1e-3))
def test_close_rule_agrees_with_torch_isclose(values, noise):
    want = torch.tensor(values, dtype=torch.float64)
    got = want + noise
    refs = references_from(_cell(_obs("v", want, atol=1e-5, rtol=1e-4)))
    expected = bool(torch.isclose(got, want, atol=1e-5, rtol=1e-4).all())
    assert decide(_cell(_obs("v", got)), refs).passed == expected


def test_strip_and_collect_ignore_other_outputs():
    cell = _cell(_obs("a", 1))
    cell["outputs"].append({"output_type": "stream", "name": "stdout", "text": "hi"})
    assert [k for k, _, _ in collect(cell)] == ["a"]
    strip(cell)
    assert cell["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "hi"}]
    assert not math.isnan(0.0)
