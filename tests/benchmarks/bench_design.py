"""Benchmark of the design diagnosis (a script, not a test): python tests/benchmarks/bench_design.py

Times ``python -m analysis design`` (800 students: 240/240/160/160, 1,000 simulations,
the real assignment module, the default plan's attrition and check failures) in a fresh
process, several runs, with the split between assignment and estimation; and, as a
baseline, the per-study path: the report's DataFrame estimators called once per
simulated study (a few dozen studies timed, extrapolated to 1,000). Prints the load
average, because the machine is shared.
"""
from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis import estimators as est  # noqa: E402
from analysis.contract import INTERACTION  # noqa: E402
from analysis.design import design_from_plan, estimate, simulate  # noqa: E402
from analysis.plan import load_plan  # noqa: E402


def cli_runs(runs: int = 3, sims: int = 1000) -> list[tuple[float, str]]:
    out = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as d:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            res = subprocess.run([sys.executable, "-m", "analysis", "design", "--sims", str(sims),
                                  "--out", d], cwd=REPO, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            m = re.search(r"done: assignment ([\d.]+) s, estimation ([\d.]+) s", res.stderr)
            out.append((wall, f"assignment {m.group(1)} s, estimation {m.group(2)} s, load {load:.1f}"))
    return out


def per_study_baseline(studies: int = 40) -> float:
    """Seconds per simulated study when the report's DataFrame functions run study by study."""
    design = design_from_plan(load_plan(), sims=studies)
    sim = simulate(design)
    progs = np.array(design.programmes)[sim.programme]
    t0 = time.perf_counter()
    for s in range(studies):
        cells = np.array(est.CELL_ORDER)[sim.cell[s]]
        frame = pd.DataFrame({"programme": progs, "manager": cells[:, 0], "partner": cells[:, 1],
                              "y": np.where(sim.observed[s], sim.y[s], np.nan)})
        for f in ("manager", "partner"):
            est.difference_in_means(frame, "y", f, design.programmes)
        est.factorial(frame, "y", design.programmes)
        for f in ("manager", "partner", INTERACTION):
            est.block_weighted(frame, "y", f, design.programmes)
    per = (time.perf_counter() - t0) / studies
    t0 = time.perf_counter()
    estimate(sim, design)
    vec = (time.perf_counter() - t0) / studies
    return per, vec


def main() -> None:
    runs = cli_runs()
    walls = [w for w, _ in runs]
    print("## Design diagnosis\n")
    print(f"Machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}; "
          f"load average when each run started is listed (the machine is shared).\n")
    print("| step | students | simulations | median wall time (s) | runs |")
    print("|---|---:|---:|---:|---|")
    print(f"| `python -m analysis design` (default plan) | 800 | 1,000 | {statistics.median(walls):.1f} | "
          + "; ".join(f"{w:.1f} s ({d})" for w, d in runs) + " |")
    per, vec = per_study_baseline()
    print(f"\nEstimation per simulated study: vectorised {vec * 1e3:.2f} ms, report's DataFrame "
          f"functions one study at a time {per * 1e3:.1f} ms ({per / vec:.0f}x); "
          f"1,000 studies: {vec * 1000:.1f} s vs {per * 1000:.0f} s (extrapolated from 40).")


if __name__ == "__main__":
    main()
