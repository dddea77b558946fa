"""``python -m bench.thresholds``: the in-process robustness measurement.

``summarize`` is checked on made-up runs (pass counts, false-fail rate, margins); one
real stream of a real assignment checks that the notebook runs in-process with the
perturbed solution and that every test cell passes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.thresholds import main, measure_stream, summarize

ROOT = Path(__file__).resolve().parents[1]


def _run(stream, accuracy, error=""):
    return {"stream": stream, "seconds": 1.0, "cells": {
        "test_acc": {"error": error, "bounds": {
            "accuracy": {"value": accuracy, "at_least": 0.5, "at_most": None}}},
        "test_shape": {"error": "", "bounds": {}}}}


def test_summary_counts_passes_and_measures_the_margin():
    runs = [_run(1, 0.9), _run(2, 0.7), _run(3, 0.4, error="accuracy"), _run(4, 0.8)]
    cells = summarize(runs)
    acc = cells["test_acc"]
    assert (acc["passed"], acc["runs"]) == (3, 4)
    assert acc["false_fail_rate"] == pytest.approx(0.25)
    bound = acc["bounds"]["accuracy"]
    assert bound["min"] == 0.4 and bound["max"] == 0.9
    assert bound["margin"] == pytest.approx(-0.1)
    assert bound["median"] == pytest.approx(0.75)
    assert cells["test_shape"]["false_fail_rate"] == 0


def test_one_real_stream_passes_every_test_of_an_assignment():
    source = ROOT / "source" / "ps4_channels" / "ps4_channels.ipynb"
    run = measure_stream((str(source), 1))
    assert run["cells"], "no test cell ran"
    failed = {g: c["error"] for g, c in run["cells"].items() if c["error"]}
    assert not failed, failed


def test_unknown_assignment_is_a_usage_error(capsys):
    assert main(["no_such_assignment", "--streams", "1"]) == 2
    assert "no notebook in source/no_such_assignment" in capsys.readouterr().err
