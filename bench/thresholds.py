"""``python -m bench.thresholds ASSIGNMENT --streams N``: how safe each threshold is.

A test that checks a trained network against a threshold (``observe(..., at_least=0.8)``)
must pass every correct answer, whatever random stream the answer's code draws from. This
runs the assignment's source notebook in-process ``N`` times, each time with the
instructor's solution perturbed exactly as ``validate --robustness`` perturbs it (every
solution function reseeds Python's, NumPy's and PyTorch's generators from the stream
number, ``autograder/robustness.py``), and reports per test cell how often it passed and,
per bounded observation, the distribution of the observed value against its bound: the
false-fail rate and the margin. A histogram per bound goes to ``--out``.

It is the fast, in-process twin of ``python -m autograder validate A --robustness N``
(no sandbox, so a few seconds per stream instead of a kernel start and a grading batch);
run that too before a release. Streams run in ``--jobs`` processes of one torch thread.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["measure_stream", "summarize", "main"]

ROOT = Path(__file__).resolve().parents[1]


def _cells(source: Path, stream: int) -> list[tuple[str | None, str]]:
    """``(grade_id of a test cell or None, code)`` in order, the solution perturbed."""
    import nbformat
    from nbgrader.utils import is_grade, is_solution

    from autograder.robustness import perturbed_solution

    nb = nbformat.read(source, as_version=4)
    answers = perturbed_solution(nb, stream)
    out = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if is_solution(cell):
            out.append((None, answers[cell.metadata.nbgrader["grade_id"]]))
        elif is_grade(cell):
            out.append((cell.metadata.nbgrader["grade_id"], cell.source))
        else:
            out.append((None, cell.source))
    return out


def measure_stream(args: tuple[str, int]) -> dict[str, Any]:
    """Run one perturbed stream; per test cell its error (or "") and bounded values."""
    import contextlib
    import io

    import torch

    import cnnkit.observe

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the streams run in parallel processes
    source, stream = Path(args[0]), args[1]
    cells: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {}
    original = cnnkit.observe.observe

    def record(key, value, *, at_least=None, at_most=None, **_rule):
        if at_least is not None or at_most is not None:
            current[key] = {"value": float(value), "at_least": at_least, "at_most": at_most}
        return value

    namespace: dict[str, Any] = {"__name__": "__main__"}
    cnnkit.observe.observe = record  # the test cells import it when they run
    start = time.perf_counter()
    try:
        for grade_id, code in _cells(source, stream):
            current = {}
            error = ""
            with contextlib.redirect_stdout(io.StringIO()):
                try:
                    exec(compile(code, f"<{grade_id or 'cell'}>", "exec"), namespace)  # noqa: S102
                except Exception as exc:  # noqa: BLE001 - a failing test is a result
                    if grade_id is None:
                        raise
                    error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if grade_id is not None:
                failed_bounds = [k for k, b in current.items()
                                 if (b["at_least"] is not None and b["value"] < b["at_least"])
                                 or (b["at_most"] is not None and b["value"] > b["at_most"])]
                cells[grade_id] = {"error": error or ("; ".join(failed_bounds)),
                                   "bounds": dict(current)}
    finally:
        cnnkit.observe.observe = original
        torch.set_num_threads(threads)
    return {"stream": stream, "cells": cells, "seconds": time.perf_counter() - start}


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Pass counts per test cell and, per bound, the distribution of the observed value."""
    cells: dict[str, Any] = {}
    for run in runs:
        for grade_id, cell in run["cells"].items():
            entry = cells.setdefault(grade_id, {"passed": 0, "runs": 0, "bounds": {}})
            entry["runs"] += 1
            entry["passed"] += not cell["error"]
            for key, bound in cell["bounds"].items():
                b = entry["bounds"].setdefault(key, {"at_least": bound["at_least"],
                                                     "at_most": bound["at_most"], "values": []})
                b["values"].append(bound["value"])
    for entry in cells.values():
        entry["false_fail_rate"] = 1 - entry["passed"] / entry["runs"]
        for b in entry["bounds"].values():
            v = b["values"]
            b.update(min=min(v), p01=_quantile(v, 0.01), p05=_quantile(v, 0.05),
                     median=statistics.median(v), max=max(v))
            if b["at_least"] is not None:
                b["margin"] = b["min"] - b["at_least"]
    return cells


def _plot(cells: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bounds = [(g, k, b) for g, e in cells.items() for k, b in e["bounds"].items()]
    if not bounds:
        return
    fig, axes = plt.subplots(1, len(bounds), figsize=(5 * len(bounds), 3.2), squeeze=False)
    for ax, (grade_id, key, b) in zip(axes[0], bounds, strict=True):
        ax.hist(b["values"], bins=30, color="#3b6ea8")
        for edge in (b["at_least"], b["at_most"]):
            if edge is not None:
                ax.axvline(edge, color="#d95f02", linestyle="--", label=f"threshold {edge:g}")
        ax.set_title(f"{grade_id}\n{key}", fontsize=9)
        ax.set_xlabel("observed value")
        ax.set_ylabel("streams")
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.thresholds", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", help="an assignment in source/, e.g. ps3_lenet_variants")
    parser.add_argument("--streams", type=int, default=100, help="perturbed runs (default 100)")
    parser.add_argument("--first", type=int, default=1, help="first stream number (default 1)")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"),
                        help="folder for the JSON and the histogram (default bench/results)")
    args = parser.parse_args(argv)
    from tqdm.auto import tqdm

    sources = sorted((ROOT / "source" / args.assignment).glob("*.ipynb"))
    if not sources:
        print(f"error: no notebook in source/{args.assignment}", file=sys.stderr)
        return 2
    out = Path(args.out)
    status = 0
    for source in sources:
        tasks = [(str(source), s) for s in range(args.first, args.first + args.streams)]
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.jobs) as pool:
            runs = list(tqdm(pool.imap_unordered(measure_stream, tasks), total=len(tasks),
                             desc=source.stem, unit="stream"))
        cells = summarize(runs)
        for grade_id, entry in cells.items():
            line = (f"{grade_id}: passed {entry['passed']}/{entry['runs']} "
                    f"(false-fail rate {100 * entry['false_fail_rate']:.1f}%)")
            for key, b in entry["bounds"].items():
                line += (f"\n    {key}: min {b['min']:.3f}, 1% {b['p01']:.3f}, median "
                         f"{b['median']:.3f}, max {b['max']:.3f}; bound >= {b['at_least']}"
                         + (f", margin {b['margin']:+.3f}" if "margin" in b else ""))
            print(line)
            status |= entry["false_fail_rate"] > 0.01
        seconds = [r["seconds"] for r in runs]
        print(f"{len(runs)} streams, {statistics.median(seconds):.1f} s each (median)")
        out.mkdir(parents=True, exist_ok=True)
        stem = f"thresholds-{source.stem}"
        for entry in cells.values():
            for b in entry["bounds"].values():
                b["values"] = [round(v, 4) for v in b["values"]]
        (out / f"{stem}.json").write_text(json.dumps(
            {"assignment": args.assignment, "notebook": source.name, "streams": len(runs),
             "first": args.first, "cells": cells}, indent=1))
        _plot(cells, out / f"{stem}.png",
              f"{source.stem}: {len(runs)} perturbed random streams")
        print(f"written: {out / (stem + '.json')}, {out / (stem + '.png')}")
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
