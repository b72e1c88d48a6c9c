"""Benchmark of the analysis (a script, not a test): python tests/benchmarks/bench_analysis.py

Times, on simulated studies of 1,000 and 100,000 participants:

* the full report (``python -m analysis report``) in a fresh process, with its peak
  memory (max RSS), median of several runs;
* randomisation inference with 10,000 draws at 100,000 participants (pooled,
  block-weighted statistic, manager labels re-randomised within block x partner arm, as
  the report does), against two baselines measured in the
  same run: a plain Python loop (shuffle each block, draw by draw) and
  ``scipy.stats.permutation_test``. The baselines are too slow to run 10,000 draws, so a
  few hundred draws are timed and the per-draw time is extrapolated (said in the output).

Prints a Markdown section for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import estimators as est  # noqa: E402
from analysis.effects import ri_blocks  # noqa: E402
from analysis.inference import (difference_coefficients, loop_randomisation_baseline,  # noqa: E402
                                randomisation_test)
from analysis.load import tidy_from_exports  # noqa: E402
from analysis.simulate import simulate_study  # noqa: E402

CHILD = ("import resource, sys; from analysis.__main__ import main; rc = main(sys.argv[1:]); "
         "print('MAXRSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); "
         "sys.exit(rc)")


def report_run(export: Path, out: Path, draws: int | None) -> tuple[float, float]:
    args = ["report", str(export), "--out", str(out), "--quiet"]
    if draws is not None:
        args += ["--draws", str(draws)]
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD, *args], cwd=REPO, capture_output=True,
                         text=True)
    wall = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit(res.stderr)
    kb = int(res.stderr.split("MAXRSS_KB")[1].split()[0])
    return wall, kb / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--draws", type=int, default=10_000)
    ap.add_argument("--loop-draws", type=int, default=200)
    ap.add_argument("--scipy-draws", type=int, default=300)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_analysis_"))
    lines = [f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
             f"{platform.python_version()}, numpy {np.__version__}. Medians of {a.runs} runs.", ""]
    exports = {}
    for n in (1_000, 100_000):
        t0 = time.perf_counter()
        df = simulate_study(n, seed=7)
        exports[n] = tmp / f"study_{n}.csv"
        df.to_csv(exports[n], index=False)
        print(f"simulated {n}: {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    lines += ["| step | participants | median wall time (s) | runs (s) | peak memory (MB) |",
              "|---|---:|---:|---|---:|"]
    for n in (1_000, 100_000):
        runs = [report_run(exports[n], tmp / f"out_{n}_{k}", None) for k in range(a.runs)]
        walls = [r[0] for r in runs]
        lines.append(f"| full report, default plan (`python -m analysis report`) | {n:,} | "
                     f"{statistics.median(walls):.1f} | {', '.join(f'{w:.1f}' for w in walls)} | "
                     f"{max(r[1] for r in runs):.0f} |")
        print(lines[-1], file=sys.stderr)

    # Randomisation inference at 100,000: pooled block-weighted attractiveness by manager.
    tidy = tidy_from_exports([exports[100_000]])
    s = est.analysis_sample(tidy)
    s = s[s["attractiveness"].notna()]
    t = est.treatment(s, "manager").astype(bool)
    groups = s["programme"].to_numpy()
    weights = {p: float((groups == p).mean()) for p in np.unique(groups)}
    y = s["attractiveness"].to_numpy(float)
    c = difference_coefficients(t, groups, weights)
    blocks = ri_blocks(s, "manager")  # the conditional scheme: block x partner arm
    vec = []
    for k in range(a.runs):
        t0 = time.perf_counter()
        randomisation_test(y, c, blocks, draws=a.draws, seed=k)
        vec.append(time.perf_counter() - t0)
    vmed = statistics.median(vec)
    t0 = time.perf_counter()
    loop_randomisation_baseline(y, c, blocks, draws=a.loop_draws, seed=1)
    loop_per = (time.perf_counter() - t0) / a.loop_draws
    # scipy cannot permute within blocks; it permutes the whole sample (a different,
    # simpler scheme), with its vectorised statistic: a generous baseline.
    y1, y0 = y[t], y[~t]
    t0 = time.perf_counter()
    stats.permutation_test((y1, y0), lambda u, v, axis: u.mean(axis=axis) - v.mean(axis=axis),
                           permutation_type="independent", vectorized=True,
                           n_resamples=a.scipy_draws, random_state=1)
    scipy_per = (time.perf_counter() - t0) / a.scipy_draws
    n_units, n_blocks = len(y), len(np.unique(blocks))
    lines += ["", f"Randomisation inference, {a.draws:,} draws, {n_units:,} people with the outcome "
              f"in {n_blocks:,} re-randomisation groups (block × partner arm; 100,000 opened the link):", "",
              "| method | time for 10,000 draws (s) | how measured | ratio to vectorised |",
              "|---|---:|---|---:|",
              f"| `analysis.inference.randomisation_test` (vectorised, block tables) | {vmed:.2f} | "
              f"median of {a.runs} runs ({', '.join(f'{v:.2f}' for v in vec)}) | 1 |",
              f"| plain Python loop (shuffle each block, draw by draw) | {loop_per * a.draws:.0f} | "
              f"{a.loop_draws} draws timed, extrapolated ({loop_per * 1000:.1f} ms/draw) | "
              f"{loop_per * a.draws / vmed:.0f}x |",
              f"| `scipy.stats.permutation_test` (unblocked, vectorized=True) | {scipy_per * a.draws:.0f} | "
              f"{a.scipy_draws} draws timed, extrapolated ({scipy_per * 1000:.1f} ms/draw) | "
              f"{scipy_per * a.draws / vmed:.0f}x |"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
