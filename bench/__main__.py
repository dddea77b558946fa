"""``python -m bench [--only training,widgets] [--quick] [--out DIR]``: measure, print, save.

Every figure goes into ``DIR/<UTC timestamp>.json`` and ``DIR/latest.json`` (default
``bench/results/``, git-ignored); the table printed at the end holds each section's
headline figures against their targets.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import SECTIONS

__all__ = ["main", "machine", "format_table"]

RESULTS = Path(__file__).resolve().parent / "results"
SCHEMA = 1


def machine() -> dict[str, Any]:
    """What the figures depend on: interpreter, torch, cores, threads, load, GPU."""
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "load_average_1_5_15": list(os.getloadavg()),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def _sections(text: str | None) -> list[str]:
    if not text:
        return list(SECTIONS)
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise SystemExit(f"error: unknown section(s) {', '.join(unknown)}; "
                         f"choose from {', '.join(SECTIONS)}")  # fmt: skip
    return [s for s in SECTIONS if s in chosen]  # always in the canonical order


def _value(row: dict[str, Any]) -> str:
    value = row["value"]
    if value is None:
        return "n/a"
    text = f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"
    spread = row.get("spread")
    if spread:
        text += (f" (IQR {spread['q1']:.3g}-{spread['q3']:.3g}, "
                 f"range {spread['min']:.3g}-{spread['max']:.3g}, n={spread['n']})")  # fmt: skip
    return text


def format_table(results: dict[str, Any]) -> str:
    """The headline rows of every section: section, metric, value (spread), target, status."""
    rows = [("section", "metric", "value", "target", "")]
    for section, result in results.items():
        if "error" in result:
            rows.append((section, "ERROR", result["error"][:80], "", "FAIL"))
            continue
        for row in result.get("summary", []):
            status = {True: "ok", False: "MISS", None: ""}[row["ok"]]
            rows.append((section, row["metric"], _value(row), row["target"], status))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _finite(obj: Any) -> Any:
    """JSON has no NaN or infinity: such floats become ``null``."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", metavar="A,B", help=f"sections to run: {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true",
                        help="shrink every section to seconds (what tests/test_bench.py runs)")
    parser.add_argument("--out", type=Path, default=RESULTS,
                        help="folder for the JSON results (default: bench/results/)")
    args = parser.parse_args(argv)
    sections = _sections(args.only)

    import matplotlib

    matplotlib.use("Agg")  # widgets draw figures; nothing is shown
    started = datetime.now(UTC)
    report: dict[str, Any] = {"schema": SCHEMA, "started": started.isoformat(timespec="seconds"),
                              "quick": args.quick, "sections": sections, "machine": machine(),
                              "results": {}, "seconds": {}}  # fmt: skip
    for section in sections:
        print(f"== {section}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{section}")
            report["results"][section] = module.run(quick=args.quick)
        except Exception as err:  # noqa: BLE001 - one broken section must not hide the rest
            traceback.print_exc()
            report["results"][section] = {"error": f"{type(err).__name__}: {err}"[:1000]}
        report["seconds"][section] = time.perf_counter() - start
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_finite(report), indent=2, default=str)
    path = args.out / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (args.out / "latest.json").write_text(text)
    print(format_table(report["results"]))
    print(f"\nall figures: {path} (and {args.out / 'latest.json'})")
    return 1 if any("error" in r for r in report["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
