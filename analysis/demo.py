"""The dry run: a simulated class through the real oTree apps, then the full report.

``python -m analysis demo --out DIR`` copies the project's apps into a temporary
folder, runs ``otree test dryrun N --export`` there (oTree in a subprocess: the
analysis imports no oTree), where the bots of ``collab_experiment/tests.py`` answer
from a data-generating process with the chosen effects for the cell the real
assignment gave them, and then writes the full report of the exported data, with
the injected effects beside the estimates. Bots are kept by the loader here only
(``include_bots=True``); real exports never contain them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import pandas as pd

from . import registry
from .contract import CHECK_SCALE_FACTORS, INTERACTION
from .errors import AnalysisInputError

REPO = Path(__file__).resolve().parents[1]
PROJECT_PARTS = ("settings.py", "consent", "collab_experiment", "analysis", "_static", "_templates", "requirements.txt")
CONFIG = "dryrun"
#: The data-generating process's parameter of each factor's injected effect.
DGP_KEYS = {"manager": "dgp_effect_manager", "partner": "dgp_effect_partner",
            INTERACTION: "dgp_effect_interaction"}


def targets(plan) -> list[tuple[str, str, str]]:
    """(outcome, factor, role) of every row an injected effect should show up in: the
    plan's confirmatory pairs, then each check scale with the factor it checks.

    Parameters
    ----------
    plan : Plan
        The analysis plan.
    """
    rows = [(o, f, "confirmatory") for _, o, f in plan.confirmatory]
    return rows + [(o, f, "check") for o, f in CHECK_SCALE_FACTORS.items()]


def otree_executable() -> Path:
    """oTree's command beside the running Python (the project's virtual environment)."""
    exe = Path(sys.executable).with_name("otree")
    if not exe.exists():
        found = shutil.which("otree")
        if not found:
            raise AnalysisInputError("otree", "the otree command was not found beside this Python; "
                                     "install the project's requirements (README quick start)")
        exe = Path(found)
    return exe


def prepare_project(dest: Path, dgp: dict) -> Path:
    """A throw-away copy of the apps whose ``dryrun`` session config carries ``dgp``.

    ``otree test`` takes no config overrides on the command line, so they are appended
    to the copy's ``settings.py``; the repository is never changed.

    Parameters
    ----------
    dest : Path
        Folder for the copy (created if missing).
    """
    dest.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
        else:
            shutil.copy2(src, dest / part)
    with open(dest / "settings.py", "a", encoding="utf-8") as f:
        f.write("\n\n# Written by python -m analysis demo (dry run).\n"
                "for _c in SESSION_CONFIGS:\n"
                f"    if _c['name'] == {CONFIG!r}:\n"
                f"        _c.update({dgp!r})\n")
    return dest


def run_bots(project: Path, n: int, export_dir: Path, log_path: Path,
             progress: Callable[[str], None]) -> None:
    """``otree test dryrun n --export`` in ``project``; progress from the bots' submissions.

    Parameters
    ----------
    export_dir : Path
        Where ``otree test --export`` writes its CSVs.
    log_path : Path
        File receiving the bots' output.
    """
    exe = otree_executable()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "OTREE_PRODUCTION", "OTREE_AUTH_LEVEL")}  # never a real database
    env["PATH"] = str(exe.parent) + os.pathsep + env.get("PATH", "")
    env["OTREE_DRYRUN"] = "1"  # the bots-only session config exists only with this (settings.py)
    pages_per_bot = 11
    t0 = time.perf_counter()
    last = t0
    submitted = 0
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([str(exe), "test", CONFIG, str(n), "--export", str(export_dir)],
                                cwd=project, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)
        for line in proc.stdout:
            log.write(line)
            if line.startswith("Submit "):
                submitted += 1
                if time.perf_counter() - last > 5:
                    last = time.perf_counter()
                    progress(f"      bots: {submitted} of about {n * pages_per_bot} pages submitted "
                             f"({last - t0:.0f} s)")
        code = proc.wait()
    if code != 0 or not (export_dir / "collab_experiment_custom.csv").exists():
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
        raise AnalysisInputError("otree test", f"the bot run failed (exit {code}); log {log_path}:\n"
                                 + "\n".join(tail))


def injected_vs_estimated(effects: pd.DataFrame, dgp: dict, plan=None) -> pd.DataFrame:
    """The injected effects beside the pooled primary estimates and their intervals.

    Parameters
    ----------
    effects : DataFrame
        The report's effects table.
    dgp : dict
        The injected effects (``dgp_effect_manager``, ...).
    plan : Plan, optional
        Confirmatory pairs and primary estimator (default: the shipped plan).
    """
    from .plan import load_plan
    plan = plan or load_plan()
    rows = []
    for outcome, factor, role in targets(plan):
        estimator = plan.primary_estimator(registry.POOLED, factor)
        r = effects[(effects.outcome == outcome) & (effects.factor == factor)
                    & (effects.programme == registry.POOLED) & (effects.estimator == estimator)].iloc[0]
        injected = float(dgp[DGP_KEYS[factor]])
        rows.append(dict(outcome=outcome, factor=factor, role=role, estimator=estimator,
                         injected=injected, estimate=r.estimate, ci_low=r.ci_low, ci_high=r.ci_high,
                         inside=bool(r.ci_low <= injected <= r.ci_high)))
    return pd.DataFrame(rows)


def run_demo(out_dir: str | Path, n: int = 200, effect_manager: float = 0.5,
             effect_partner: float = -0.4, effect_interaction: float = 0.0, decline: float = 0.03,
             seed: int = 1, plan=None, draws: int | None = 2000,
             progress: Callable[[str], None] | None = None, keep_project: bool = False) -> dict:
    """Create a session of the real apps, send a simulated class through it, write the report.

    Parameters
    ----------
    out_dir : path
        Folder for the report and the export, created if missing.
    n : int
        Number of simulated students.
    effect_manager : float
        Injected manager effect (trust - control), in scale points.
    effect_partner : float
        Injected partner effect (other - same), in scale points.
    effect_interaction : float
        Injected manager x partner interaction, in scale points.
    decline : float
        Share of students who decline consent.
    seed : int
        Seed of the session (assignment) and of the simulated answers.
    plan : Plan, optional
        The analysis plan; default the project's default plan.
    draws : int or None
        Randomisation-inference draws; None keeps the plan's number.
    progress : callable, optional
        Called with a short message at each step; None for silence.
    keep_project : bool
        Keep the throw-away project copy (for debugging).

    Returns
    -------
    dict
        ``paths`` (the report's files, plus ``export`` and ``injected``), ``injected``
        (DataFrame: injected effect, estimate and interval per confirmatory row) and
        ``seconds`` (bots, report).
    """
    from dataclasses import replace

    from .plan import load_plan
    from .report import run_report
    say = progress or (lambda m: None)
    if n < 8:
        raise AnalysisInputError("--n", "a dry run needs at least 8 students")
    out = Path(out_dir).resolve()  # oTree runs in another folder: no relative paths
    out.mkdir(parents=True, exist_ok=True)
    dgp = dict(dgp_effect_manager=float(effect_manager), dgp_effect_partner=float(effect_partner),
               dgp_effect_interaction=float(effect_interaction), dgp_decline=float(decline),
               dgp_seed=int(seed), seed=f"dryrun-{seed}")
    plan = plan or load_plan()
    if draws is not None:
        plan = replace(plan, ri_draws=draws)
    work = Path(tempfile.mkdtemp(prefix="analysis-demo-"))
    try:
        say(f"dry run: {n} simulated students through the real apps (otree test {CONFIG} {n}), "
            f"injected effects: manager {effect_manager:+g}, partner {effect_partner:+g}")
        t0 = time.perf_counter()
        project = prepare_project(work / "project", dgp)
        export = out / "export"
        if export.exists():
            shutil.rmtree(export)
        run_bots(project, n, export, out / "otree_test.log", say)
        t1 = time.perf_counter()
        say(f"bots finished in {t1 - t0:.0f} s; exported to {export}")
        paths = run_report([export / "collab_experiment_custom.csv"], out, plan, progress=say,
                           include_bots=True, command="python -m analysis demo")
        t2 = time.perf_counter()
    finally:
        if not keep_project:
            shutil.rmtree(work, ignore_errors=True)
    eff = pd.read_csv(paths["effects"])
    table = injected_vs_estimated(eff, dgp, plan)
    paths["injected"] = out / "injected_effects.csv"
    table.to_csv(paths["injected"], index=False)
    (out / "dgp.json").write_text(json.dumps({**dgp, "n": n}, indent=2), encoding="utf-8")
    paths["export"] = export
    for r in table.itertuples():
        say(f"{r.outcome} by {r.factor} ({r.role}): injected {r.injected:+.2f}, estimated {r.estimate:+.2f} "
            f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}] {'inside' if r.inside else 'OUTSIDE'} the 95% interval")
    say(f"report: {paths['report']} (bots {t1 - t0:.0f} s, report {t2 - t1:.0f} s)")
    return dict(paths=paths, injected=table, seconds=dict(bots=t1 - t0, report=t2 - t1))
