"""bench/: the real code paths in quick mode, the JSON they write, and the statistics.

No timing target is asserted here (timings on a shared machine are noise); only that
every figure is there, has the right type and is a sane, positive, finite number.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench import SECTIONS
from bench.__main__ import _sections, format_table
from bench.grading import TreeMemory
from bench.stats import alternate, check, ratio_summary, summarize
from bench.widgets import other_value

REPO = Path(__file__).resolve().parent.parent


def positive(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def assert_summary(s: dict, *, lo: float = 0.0) -> None:
    assert set(s) >= {"n", "median", "min", "max", "q1", "q3", "p95", "mean"}, s
    assert s["n"] >= 1
    assert all(positive(s[k]) or (lo == 0.0 and s[k] == 0) for k in ("median", "min", "max"))
    assert s["min"] <= s["q1"] <= s["median"] <= s["q3"] <= s["max"]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory) -> tuple[dict, str]:
    """``python -m bench --quick`` once, every section, into a scratch results folder."""
    out = tmp_path_factory.mktemp("bench-results")
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    proc = subprocess.run([sys.executable, "-m", "bench", "--quick", "--out", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    files = sorted(out.glob("*.json"))
    assert [f.name for f in files if f.name != "latest.json"], "no timestamped results file"
    latest = json.loads((out / "latest.json").read_text())
    stamped = json.loads(next(f for f in files if f.name != "latest.json").read_text())
    assert latest == stamped
    return latest, proc.stdout


def test_results_file_schema(quick_run):
    report, stdout = quick_run
    assert report["schema"] == 1 and report["quick"] is True
    assert report["sections"] == list(SECTIONS) and set(report["results"]) == set(SECTIONS)
    assert set(report["machine"]) >= {"python", "torch", "cpu_count", "torch_threads"}
    for name, result in report["results"].items():
        assert "error" not in result, (name, result.get("error"))
        for row in result["summary"]:
            assert set(row) >= {"metric", "value", "target", "ok"}
            assert row["value"] is None or math.isfinite(row["value"])
            assert row["metric"] in stdout  # the printed table has every row
        assert positive(report["seconds"][name])


def test_training_ratios_are_positive_and_finite(quick_run):
    training = quick_run[0]["results"]["training"]
    assert training["setup"]["batch_size"] == 64 and training["setup"]["examples"] == 256
    for key in ("fit_vs_hand", "tensorloader_vs_dataloader"):
        comparison = training[key]
        assert_summary(comparison["a"])
        assert_summary(comparison["b"])
        assert_summary(comparison["ratio"])
        assert len(comparison["ratio"]["per_pair"]) == comparison["pairs"] == 3
        assert all(positive(r) for r in comparison["ratio"]["per_pair"])


def test_widgets_every_widget_measured(quick_run):
    import cnnkit.widgets

    widgets = quick_run[0]["results"]["widgets"]["widgets"]
    assert set(widgets) == set(cnnkit.widgets.__all__)
    for name, w in widgets.items():
        assert isinstance(w["runs_model"], bool), name
        assert w["changes"] >= 2 and w["redraws_per_change"] >= 1, name
        assert_summary(w["ms"])
        assert w["ms"]["p95"] < 60_000, name  # sane, not a target
    assert widgets["activation_viewer"]["runs_model"]
    assert not widgets["conv_explorer"]["runs_model"]


def test_course_quick_runs_notebook_00(quick_run):
    course = quick_run[0]["results"]["course"]
    assert list(course["profiles"]) == ["quick"]
    (name, result), = course["profiles"]["quick"].items()
    assert name.startswith("00_") and result["error"] is None and positive(result["seconds"])
    assert course["quick_total_s"] == result["seconds"]


def test_grading_quick_grades_two_submissions_both_ways(quick_run):
    grading = quick_run[0]["results"]["grading"]
    assert grading["students_per_assignment"] == 2
    (name, result), = grading["assignments"].items()
    assert name == "ps4_channels"
    nbgrader, ours = result["nbgrader"], result["ours"]
    assert nbgrader["rc"] == 0 and nbgrader["graded"] == 2
    for side in (nbgrader, ours):
        assert positive(side["seconds"]) and positive(side["peak_tree_mb"])
    if ours["rc"] in (0, 1):  # the grader ran: every submission graded, a real ratio
        assert ours["graded"] == 2 and positive(result["ratio"])
        assert_summary(grading["ratio_nbgrader_over_ours"])
        if ours["overhead_s"] is not None:
            assert ours["overhead_s"]["median"] > -1.0  # seconds - kernel_seconds
    else:  # a grader that refused the course says why and gives no ratio
        assert result["ratio"] is None and ours["error"] and name in grading["failed"]


def test_cluster_quick_grades_on_dask_and_projects(quick_run):
    cluster = quick_run[0]["results"]["cluster"]
    assert cluster["students"] == 2 and cluster["assignment"] == "ps4_channels"
    for workers in ("workers_1", "workers_2"):
        row = cluster["throughput"][workers]
        assert_summary(row["local_s"])
        assert_summary(row["dask_s"])
        assert all(positive(r) for r in row["dask_over_local"]["per_pair"])
    shipping = cluster["shipping"]
    assert shipping["bundle_bytes"] > 1000 and shipping["job_bytes"]["median"] > 1000
    assert_summary(shipping["verify_s"])
    hours = cluster["projection"]["hours"]
    assert positive(hours["10x32cores"]) and hours["1x32cores"] == pytest.approx(
        10 * hours["10x32cores"])


def test_gpu_section_skips_or_measures(quick_run):
    gpu = quick_run[0]["results"]["gpu"]
    if torch.cuda.is_available():
        assert positive(gpu["training"]["examples_per_s"]["median"])
    else:
        assert gpu["training"] == gpu["grading_ps3"] == {"skipped": "no CUDA device"}


# --- pieces -----------------------------------------------------------------------------


def test_summarize_matches_numpy_quantiles():
    import numpy as np

    values = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]
    s = summarize(values)
    assert s["median"] == np.median(values) and s["n"] == 6
    assert s["q1"] == pytest.approx(np.quantile(values, 0.25))
    assert s["p95"] == pytest.approx(np.quantile(values, 0.95))
    with pytest.raises(ValueError, match="no values"):
        summarize([])


def test_alternate_runs_a_then_b_and_drops_the_warmup():
    calls: list[str] = []

    def side(name: str, value: float):
        def measure() -> float:
            calls.append(name)
            return value * len(calls)

        return measure

    result = alternate(side("A", 2.0), side("B", 1.0), pairs=3, warmup=1)
    assert calls == ["A", "B"] * 4
    assert result["pairs"] == 3 and result["a"]["n"] == 3
    # pair i: A = 2 * (2i + 1), B = 2i + 2 (i counted from the first kept pair)
    assert result["ratio"]["per_pair"] == pytest.approx([6 / 4, 10 / 6, 14 / 8])
    assert ratio_summary([2.0], [4.0])["median"] == 0.5


def test_table_and_section_choice():
    results = {"training": {"summary": [check("x", 1.5, ">= 1", True, summarize([1, 2]))]},
               "grading": {"error": "RuntimeError: boom"}}  # fmt: skip
    table = format_table(results)
    assert "x" in table and "ok" in table and "IQR" in table and "boom" in table
    assert _sections("widgets, training") == ["training", "widgets"]
    assert _sections(None) == list(SECTIONS)
    with pytest.raises(SystemExit, match="unknown section"):
        _sections("trainig")


def test_other_value_is_valid_and_different():
    import ipywidgets as widgets

    assert other_value(widgets.IntSlider(value=3, min=0, max=3)) == 2
    assert other_value(widgets.Dropdown(options=[("a", 1), ("b", 2)], value=1)) == 2
    with pytest.raises(ValueError, match="no second value"):
        other_value(widgets.Dropdown(options=["only"], value="only"))


def test_tree_memory_sees_a_child_process():
    code = "import subprocess, sys; subprocess.run([sys.executable, '-c', " \
           "'b = bytearray(60_000_000); import time; time.sleep(1.0)'])"
    proc = subprocess.Popen([sys.executable, "-c", code])
    memory = TreeMemory(proc.pid, interval=0.05)
    memory.start()
    proc.wait()
    memory.stop()
    assert memory.peak_worker_mb > 50 and memory.peak_tree_mb >= memory.peak_worker_mb
