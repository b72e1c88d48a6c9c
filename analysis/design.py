"""Design diagnosis: simulate the whole study many times and see what the design can answer.

Each simulated study draws the class (students per programme), assigns every student
with the project's real assignment module (:mod:`analysis.assignment`, stratified
permuted blocks; the experiment imports the same module), lets some
students drop out before the outcome and some miss the manipulation, draws the
outcome, and estimates with the very cores the report uses
(:func:`analysis.estimators.arm_moments`, :func:`~analysis.estimators.welch_arrays`,
:func:`~analysis.estimators.cell_contrast`, :func:`~analysis.estimators.pooled`,
:func:`~analysis.estimators.t_inference`), vectorised over all simulations at once.

The diagnosands per factor x programme x estimator (DeclareDesign's names):
power, bias, RMSE, coverage of the 95% interval, type S (share of significant
estimates with the wrong sign), type M (exaggeration ratio among significant
estimates; Gelman & Carlin 2014) and the minimum detectable effect at 80% power,
read off the simulated power curve.

The power curve and the MDE use one set of simulations: under a constant additive
effect, shifting the effect by delta shifts every estimate by delta and leaves the
standard errors unchanged (the arms' variances do not depend on the effect), so
power(delta) is the share of simulations with |est - tau + delta| / se > t_crit.

References
----------
Blair, G., Cooper, J., Coppock, A. & Humphreys, M. (2019). Declaring and diagnosing
  research designs. American Political Science Review 113(3), 838-859.
Gelman, A. & Carlin, J. (2014). Beyond power calculations: assessing type S (sign) and
  type M (magnitude) errors. Perspectives on Psychological Science 9(6), 641-651.
"""
from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from . import assignment as _assignment
from . import estimators as est
from . import registry
from .contract import EFFECT_PROGRAMMES, INTERACTION
from .errors import AnalysisInputError
from .plan import Plan

DESIGN_FACTORS = ("manager", "partner", INTERACTION)
_NOW = _dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)  # assignment time is not diagnosed
#: CSV columns (the issue's schema first, then extras).
DIAGNOSIS_COLUMNS = ("factor", "programme", "estimator", "n", "effect", "power", "bias", "rmse",
                     "coverage", "type_s", "type_m", "mde_80", "effect_sd", "mde_80_sd",
                     "n_observed", "mean_se", "power_mcse", "sims", "estimable", "family_size",
                     "power_family", "mde_80_family", "sesoi_sd", "sesoi", "power_equivalence")


def load_assignment():
    """The experiment's assignment module (plain Python: importing it imports no oTree)."""
    return _assignment


@dataclass(frozen=True)
class Design:
    """What the diagnosis assumes about the study.

    Effects are standardised (in outcome SDs) per factor and programme; ``outcome_sd``
    turns them into scale points, the unit of every effect column in ``diagnosis.csv``.
    """

    n: Mapping[str, int]  # students assigned per programme
    effect_sd: Mapping[str, Mapping[str, float]]  # factor -> programme -> effect in SDs
    outcome_sd: float = 1.0
    attrition: float = 0.0  # assigned students who leave before the outcome
    check_failure: float = 0.0  # students who miss the manipulation (their effect is 0)
    classes: int = 1  # sessions the students are split into (each assigns afresh)
    block_size: int = 4
    alpha: float = 0.05
    sims: int = 1000
    seed: int = 1
    family_size: int = 1  # confirmatory tests: power_family / mde_80_family use alpha / family_size
    sesoi_sd: float = 0.4  # the plan's smallest effect of interest, in outcome SDs
    programmes: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self):
        progs = tuple(p for p in EFFECT_PROGRAMMES if int(self.n.get(p, 0)) > 0)
        object.__setattr__(self, "programmes", progs)
        bad = [p for p in self.n if p not in EFFECT_PROGRAMMES]
        if bad:
            raise AnalysisInputError("design", f"unknown programme {bad[0]!r} "
                                     f"(expected {', '.join(EFFECT_PROGRAMMES)})")
        if not progs:
            raise AnalysisInputError("design", "no programme has students (--n)")
        if not (0 <= self.attrition < 1 and 0 <= self.check_failure < 1):
            raise AnalysisInputError("design", "attrition and check failure must be in [0, 1)")
        if self.sims < 2 or self.outcome_sd <= 0 or self.classes < 1:
            raise AnalysisInputError("design", "sims >= 2, outcome_sd > 0 and classes >= 1 needed")

    @property
    def sesoi(self) -> float:
        """The smallest effect of interest in scale points (``sesoi_sd`` x ``outcome_sd``)."""
        return self.sesoi_sd * self.outcome_sd

    def effect(self, factor: str, programme: str) -> float:
        """The estimand in scale points: the assumed effect, diluted by check failures.

        Parameters
        ----------
        factor : str
            ``manager``, ``partner`` or ``manager:partner``.
        programme : str
            A programme code.
        """
        return (float(self.effect_sd.get(factor, {}).get(programme, 0.0)) * self.outcome_sd
                * (1 - self.check_failure))


def parse_n(text: str) -> dict[str, int]:
    """``nursing=120,teacher=120`` -> {'nursing': 120, 'teacher': 120}.

    Parameters
    ----------
    text : str
        Comma-separated ``programme=count`` pairs.
    """
    out = {}
    for part in filter(None, (x.strip() for x in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = int(value)
        except ValueError:
            raise AnalysisInputError("--n", f"{part!r} is not programme=number") from None
    return out


def design_from_plan(plan: Plan, **overrides) -> Design:
    """The plan's ``[design]`` section, with command-line overrides (None = keep)."""
    d = dict(plan.raw.get("design", {}))
    n = {k: int(v) for k, v in d.get("n", {p: 100 for p in EFFECT_PROGRAMMES}).items()}
    effects: dict[str, dict[str, float]] = {}
    raw_eff = d.get("effect_sd", {})
    for factor, key in (("manager", "manager"), ("partner", "partner"), (INTERACTION, "interaction")):
        v = raw_eff.get(key, 0.3 if factor != INTERACTION else 0.0)
        effects[factor] = ({p: float(v.get(p, 0.0)) for p in EFFECT_PROGRAMMES} if isinstance(v, dict)
                           else {p: float(v) for p in EFFECT_PROGRAMMES})
    kw = dict(n=n, effect_sd=effects, outcome_sd=float(d.get("outcome_sd", 1.0)),
              attrition=float(d.get("attrition", 0.0)),
              check_failure=float(d.get("check_failure", 0.0)),
              classes=int(d.get("classes", 1)), alpha=plan.alpha,
              sims=int(d.get("sims", 1000)), seed=int(d.get("seed", 1)),
              family_size=max(1, len(plan.confirmatory)), sesoi_sd=plan.sesoi_sd)
    o = {k: v for k, v in overrides.items() if v is not None}
    if "effect_sd_all" in o:  # --effect-sd: both factors, every programme
        v = o.pop("effect_sd_all")
        kw["effect_sd"] = {**kw["effect_sd"], "manager": {p: v for p in EFFECT_PROGRAMMES},
                           "partner": {p: v for p in EFFECT_PROGRAMMES}}
    if "n_per_programme" in o:
        v = o.pop("n_per_programme")
        kw["n"] = {p: v for p in EFFECT_PROGRAMMES}
    kw.update(o)
    try:
        return Design(**kw)
    except TypeError as exc:
        raise AnalysisInputError("design", str(exc)) from None


# ---------------------------------------------------------------- simulation
def assign_cells(design: Design, sim: int) -> np.ndarray:
    """Cell index (0-3 in :data:`analysis.estimators.CELL_ORDER`) of every student in one
    simulated study, from the real assignment module (programme-major order).

    Parameters
    ----------
    design : Design
        The assumed design (sizes, effects, attrition, simulations).
    sim : int
        Index of the simulated study (seeds its assignment).
    """
    asg = load_assignment()
    index = {c: k for k, c in enumerate(est.CELL_ORDER)}
    cells = []
    for prog in design.programmes:
        n = int(design.n[prog])
        sizes = np.full(design.classes, n // design.classes)
        sizes[: n % design.classes] += 1
        for k, size in enumerate(sizes):
            state = asg.new_state()
            seed = f"design:{design.seed}:{sim}:{k}"
            for _ in range(int(size)):
                state, a = asg.assign(state, prog, block_size=design.block_size, seed=seed,
                                      now=_NOW)
                cells.append(index[(a.manager, a.partner)])
    return np.array(cells, dtype=np.int8)



@dataclass
class Simulated:
    """All simulated studies: people along the last axis, simulations along the first."""

    programme: np.ndarray  # (n,) programme index into design.programmes
    cell: np.ndarray  # (S, n)
    observed: np.ndarray  # (S, n) outcome observed (did not drop out)
    y: np.ndarray  # (S, n) outcome, scale points


def simulate(design: Design, progress: Callable[[str], None] | None = None) -> Simulated:
    """Draw ``design.sims`` studies: assignment (real module), attrition, outcomes.

    Parameters
    ----------
    progress : callable, optional
        Called with a short message at each step; None for silence.
    """
    say = progress or (lambda m: None)
    S = design.sims
    prog = np.concatenate([np.full(int(design.n[p]), j) for j, p in enumerate(design.programmes)])
    n = len(prog)
    cell = np.empty((S, n), dtype=np.int8)
    t0 = time.perf_counter()
    step = max(1, S // 10)
    for s in range(S):
        cell[s] = assign_cells(design, s)
        if (s + 1) % step == 0 or s + 1 == S:
            say(f"assignment {s + 1}/{S} studies ({time.perf_counter() - t0:.1f} s)")
    rng = np.random.default_rng(design.seed)
    observed = rng.random((S, n)) >= design.attrition
    takes = rng.random((S, n)) >= design.check_failure  # noticed the manipulation
    m = np.isin(cell, (0, 1)).astype(float) - 0.5  # trust = +1/2
    q = np.isin(cell, (0, 2)).astype(float) - 0.5  # other = +1/2
    eff = {f: np.array([design.effect_sd.get(f, {}).get(p, 0.0) for p in design.programmes])[prog]
           for f in DESIGN_FACTORS}
    base = np.array([0.0, 0.2, -0.1, 0.1])[: len(design.programmes)][prog]  # programmes differ
    signal = takes * (eff["manager"] * m + eff["partner"] * q + eff[INTERACTION] * m * q)
    y = 4.0 + design.outcome_sd * (base + signal + rng.standard_normal((S, n)))
    return Simulated(programme=prog, cell=cell, observed=observed, y=y)


def estimate(sim: Simulated, design: Design) -> dict[tuple[str, str, str], dict[str, np.ndarray]]:
    """Estimates, SEs, dfs and intervals of every diagnosed row for every simulation.

    Parameters
    ----------
    sim : Simulated
        The simulated studies (:func:`simulate`).
    design : Design
        The assumed design (sizes, effects, attrition, simulations).

    Returns
    -------
    dict
        (factor, programme, estimator) -> dict of arrays (est, se, df, lo, hi, p, n).
    """
    # The keys name the registered estimators (analysis.registry) these arrays reproduce;
    # tests/test_analysis_design.py checks them against those functions to 1e-10.
    out = {}
    per_prog: dict[str, list] = {f: [] for f in DESIGN_FACTORS}
    for j, prog in enumerate(design.programmes):
        inprog = (sim.programme == j) & sim.observed  # (S, n)
        masks = np.stack([(sim.cell == k) & inprog for k in range(4)], axis=-2)  # (S, 4, n)
        ns, means, variances = est.arm_moments(sim.y[:, None, :], masks)  # (S, 4)
        for factor in ("manager", "partner"):
            c = est.CELL_CONTRASTS[factor] > 0  # cells in the treated arm
            treated = masks[:, c, :].any(axis=1)
            control = masks[:, ~c, :].any(axis=1)
            m1 = est.arm_moments(sim.y, treated)
            m0 = est.arm_moments(sim.y, control)
            e, se, df = est.welch_arrays(*m1, *m0)
            out[(factor, prog, "difference_in_means")] = _row(e, se, df, m1[0] + m0[0], design)
            per_prog[factor].append((e, se**2, m1[0] + m0[0]))
        nsum = ns.sum(axis=-1)
        for factor in DESIGN_FACTORS:
            e, v = est.cell_contrast(ns, means, variances, factor)
            out[(factor, prog, "factorial")] = _row(e, np.sqrt(v), nsum - 4.0, nsum, design)
        e, v = est.cell_contrast(ns, means, variances, INTERACTION)
        per_prog[INTERACTION].append((e, v, nsum))
    for factor in DESIGN_FACTORS:
        e, v, n = (np.stack(x, axis=-1) for x in zip(*per_prog[factor]))
        k = 4 if factor == INTERACTION else 2
        pe, pse, pdf = est.pooled(e, v, n, k)
        out[(factor, "pooled", "block_weighted")] = _row(pe, pse, pdf, n.sum(axis=-1), design)
    return out


def _row(e, se, df, n, design: Design) -> dict[str, np.ndarray]:
    df = np.where(np.isfinite(e) & np.isfinite(se), df, np.nan)  # as make_row: no df when not estimable
    lo, hi, p = est.t_inference(e, se, df, design.alpha)
    return dict(est=e, se=se, df=df, lo=lo, hi=hi, p=p, n=n)


def power_curve(r: dict[str, np.ndarray], truth: float, deltas: np.ndarray, alpha: float
                ) -> np.ndarray:
    """Simulated power at each effect in ``deltas`` (same units as the estimates).

    Parameters
    ----------
    r : dict of arrays
        One row's per-simulation results (``est``, ``se``, ``df``).
    truth : float
        The effect the simulations were drawn with.
    alpha : float
        Two-sided significance level.
    """
    ok = np.isfinite(r["est"]) & np.isfinite(r["se"]) & (r["se"] > 0)
    if not ok.any():
        return np.full(len(deltas), np.nan)
    z = (r["est"][ok] - truth)[None, :] + np.asarray(deltas)[:, None]
    crit = stats.t.ppf(1 - alpha / 2, r["df"][ok])[None, :]
    return (np.abs(z) / r["se"][ok][None, :] > crit).sum(axis=1) / len(r["est"])


def equivalence_power(r: dict[str, np.ndarray], truth: float, sesoi: float, alpha: float) -> float:
    """Simulated power of the equivalence test (TOST at ``alpha``) when the true effect is 0.

    The same shift as :func:`power_curve`: with the effect removed, each simulation's
    estimate is ``est - truth``; TOST rejects |effect| >= sesoi when the (1 - 2 alpha)
    interval lies inside (-sesoi, sesoi). Not estimable counts as not shown.

    Parameters
    ----------
    r : dict of arrays
        One diagnosed row's simulations (est, se, df).
    truth : float
        The effect the simulations were drawn with (removed).
    sesoi : float
        The equivalence bound in scale points.
    alpha : float
        Level of each one-sided test.
    """
    ok = np.isfinite(r["est"]) & np.isfinite(r["se"]) & (r["se"] > 0) & np.isfinite(r["df"])
    if not ok.any() or not np.isfinite(sesoi):
        return float("nan")
    e0 = r["est"][ok] - truth
    half = stats.t.ppf(1 - alpha, r["df"][ok]) * r["se"][ok]
    return float(((e0 - half > -sesoi) & (e0 + half < sesoi)).sum() / len(r["est"]))


def mde(r: dict[str, np.ndarray], truth: float, alpha: float, target: float = 0.8) -> float:
    """Smallest effect with simulated power >= target (linear interpolation on a fine grid).

    Parameters
    ----------
    r : dict of arrays
        One row's per-simulation results (``est``, ``se``, ``df``).
    truth : float
        The effect the simulations were drawn with.
    alpha : float
        Two-sided significance level.
    """
    se = np.nanmedian(r["se"]) if np.isfinite(r["se"]).any() else np.nan
    if not np.isfinite(se):
        return np.nan
    deltas = np.linspace(0, 6 * se, 601)
    pw = power_curve(r, truth, deltas, alpha)
    above = np.nonzero(pw >= target)[0]
    if not len(above):
        return np.nan
    i = above[0]
    if i == 0:
        return 0.0
    x0, x1, y0, y1 = deltas[i - 1], deltas[i], pw[i - 1], pw[i]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0)) if y1 > y0 else float(x1)


def diagnose(design: Design, progress: Callable[[str], None] | None = None
             ) -> tuple[pd.DataFrame, dict]:
    """Simulate and summarise: one row per factor x programme x estimator.

    Parameters
    ----------
    design : Design
        The assumed design (sizes, effects, attrition, simulations).
    progress : callable, optional
        Called with a short message at each step; None for silence.

    Returns
    -------
    diagnosis : DataFrame
        Columns :data:`DIAGNOSIS_COLUMNS`.
    raw : dict
        The per-simulation estimates (for plots and tests) and timings.
    """
    say = progress or (lambda m: None)
    t0 = time.perf_counter()
    sim = simulate(design, progress)
    t1 = time.perf_counter()
    say(f"estimating {len(DESIGN_FACTORS)} factors x {len(design.programmes)} programmes "
        f"for {design.sims} studies at once")
    res = estimate(sim, design)
    t2 = time.perf_counter()
    rows = []
    S = design.sims
    for (factor, prog, estimator), r in res.items():
        if prog == "pooled":
            ns = np.array([design.n[p] for p in design.programmes], dtype=float)
            truth = float(sum(w * design.effect(factor, p) for w, p in zip(ns / ns.sum(), design.programmes)))
            eff_sd = float(sum(w * design.effect_sd.get(factor, {}).get(p, 0.0)
                               for w, p in zip(ns / ns.sum(), design.programmes)))
            n_planned = int(ns.sum())
        else:
            truth, n_planned = design.effect(factor, prog), int(design.n[prog])
            eff_sd = float(design.effect_sd.get(factor, {}).get(prog, 0.0))
        ok = np.isfinite(r["est"]) & np.isfinite(r["se"])
        sig = ok & (r["p"] < design.alpha)
        power = sig.sum() / S
        e = r["est"][ok]
        bias = float(e.mean() - truth) if ok.any() else np.nan
        rmse = float(np.sqrt(((e - truth) ** 2).mean())) if ok.any() else np.nan
        cover = float(((r["lo"][ok] <= truth) & (truth <= r["hi"][ok])).mean()) if ok.any() else np.nan
        if truth != 0 and sig.any():
            type_s = float((np.sign(r["est"][sig]) != np.sign(truth)).mean())
            type_m = float(np.abs(r["est"][sig]).mean() / abs(truth))
        else:
            type_s = type_m = np.nan
        m80 = mde(r, truth, design.alpha)
        a_fam = design.alpha / design.family_size  # Bonferroni: a lower bound on Holm's power
        crit_fam = stats.t.ppf(1 - a_fam / 2, np.where(ok, r["df"], 1.0))
        sig_fam = ok & (np.abs(np.where(ok, r["est"], 0.0)) / np.where(ok, r["se"], 1.0) > crit_fam)
        rows.append(dict(factor=factor, programme=prog, estimator=estimator, n=n_planned,
                         effect=truth, power=power, bias=bias, rmse=rmse, coverage=cover,
                         type_s=type_s, type_m=type_m, mde_80=m80, effect_sd=eff_sd,
                         mde_80_sd=m80 / (design.outcome_sd * (1 - design.check_failure)),
                         n_observed=float(np.mean(r["n"])), mean_se=float(np.nanmean(r["se"])),
                         power_mcse=float(np.sqrt(power * (1 - power) / S)), sims=S,
                         estimable=float(ok.mean()), family_size=design.family_size,
                         power_family=sig_fam.sum() / S, mde_80_family=mde(r, truth, a_fam),
                         sesoi_sd=design.sesoi_sd, sesoi=design.sesoi,
                         power_equivalence=equivalence_power(r, truth, design.sesoi, design.alpha)))
    order = {f: i for i, f in enumerate(DESIGN_FACTORS)}
    df = pd.DataFrame(rows, columns=list(DIAGNOSIS_COLUMNS))
    df = df.sort_values(["factor", "estimator"], key=lambda c: c.map(order) if c.name == "factor"
                        else c, kind="stable").reset_index(drop=True)
    timings = dict(assignment_s=t1 - t0, estimation_s=t2 - t1, total_s=time.perf_counter() - t0)
    say(f"done: assignment {timings['assignment_s']:.1f} s, estimation {timings['estimation_s']:.1f} s")
    return df, dict(results=res, sim=sim, timings=timings)


# ---------------------------------------------------------------- output
def power_curve_plot(diag: pd.DataFrame, raw: dict, design: Design):
    """Simulated power against the effect (in SDs) for the pooled and per-programme rows.

    Parameters
    ----------
    diag : DataFrame
        The diagnosis (:func:`diagnose`).
    raw : dict
        The per-simulation results (:func:`diagnose`).
    design : Design
        The assumed design (sizes, effects, attrition, simulations).
    """
    from .htmlparts import plt
    fig, axes = plt.subplots(1, len(DESIGN_FACTORS), figsize=(4.2 * len(DESIGN_FACTORS), 3.4),
                             sharey=True, squeeze=False)
    scale = design.outcome_sd * (1 - design.check_failure)
    grid_sd = np.linspace(0, 1.2, 121)
    for ax, factor in zip(axes[0], DESIGN_FACTORS):
        estimator = registry.primary_for(design.programmes[0], factor=factor)
        pooled_estimator = registry.primary_for(registry.POOLED, factor=factor)
        for prog in (*design.programmes, registry.POOLED):
            key = (factor, prog, pooled_estimator if prog == registry.POOLED else estimator)
            if key not in raw["results"]:
                continue
            truth = float(diag[(diag.factor == factor) & (diag.programme == prog)
                               & (diag.estimator == key[2])].effect.iloc[0])
            pw = power_curve(raw["results"][key], truth, grid_sd * scale, design.alpha)
            ax.plot(grid_sd, pw, lw=2.2 if prog == "pooled" else 1.2,
                    color="black" if prog == "pooled" else None,
                    label=f"{prog} (n={design.n[prog] if prog != 'pooled' else sum(design.n.values())})")
        ax.axhline(0.8, color="#777", ls="--", lw=0.8)
        ax.set_title(f"{factor}\n{estimator} per programme; {pooled_estimator} pooled", fontsize=9)
        ax.set_xlabel("effect (outcome SDs, before check failures)")
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("simulated power")
    axes[0][0].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def design_summary_text(design: Design) -> list[str]:
    """The assumptions in words (for the HTML summary and the pre-registration).

    Parameters
    ----------
    design : Design
        The assumed design (sizes, effects, attrition, simulations).
    """
    n = ", ".join(f"{p} {design.n[p]}" for p in design.programmes)
    eff = "; ".join(f"{f}: " + ", ".join(f"{p} {design.effect_sd.get(f, {}).get(p, 0.0):g}"
                                         for p in design.programmes) for f in DESIGN_FACTORS)
    return [
        f"Students assigned per programme: {n} (total {sum(int(design.n[p]) for p in design.programmes)}), "
        f"in {design.classes} class(es); stratified permuted blocks of {design.block_size} "
        "(the experiment's own assignment module).",
        f"Assumed effects (outcome SDs): {eff}. Outcome SD {design.outcome_sd:g} scale points.",
        f"Attrition after assignment {design.attrition:.0%} (outcome missing, analysed as intention "
        f"to treat); manipulation missed by {design.check_failure:.0%} (no effect for them, so the "
        "estimand is diluted accordingly).",
        f"{design.sims} simulations, seed {design.seed}, alpha {design.alpha:g} (two-sided).",
        f"Smallest effect of interest {design.sesoi_sd:g} outcome SDs = {design.sesoi:.2f} scale points "
        "(the plan's sesoi_sd; the equivalence tests are diagnosed against it).",
    ]


def _lin_terms_html(plan, design, out, paths, table) -> str:
    """Lin's covariate rule at the design's sizes (``lin_terms.csv``; issue 11, item 8)."""
    if plan is None:
        return ""
    from .lin_rule import planned_terms
    pt = planned_terms(plan, design.n, design.attrition)
    paths["lin_terms"] = out / "lin_terms.csv"
    pt.to_csv(paths["lin_terms"], index=False)
    return ("<h2>Lin's estimator at these sizes</h2><p>The plan's covariate rule: at most "
            "floor(share × smaller arm) covariate columns, covariates entering whole in the plan's "
            "order (the report applies the same rule to the data).</p>" + table(pt))


def write_diagnosis(diag: pd.DataFrame, raw: dict, design: Design, out_dir: str | Path,
                    plan: Plan | None = None) -> dict[str, Path]:
    """``diagnosis.csv`` and a short self-contained ``diagnosis.html`` with the power curves.

    Parameters
    ----------
    diag : DataFrame
        :func:`diagnose`'s table.
    raw : dict
        :func:`diagnose`'s simulations and timings.
    design : Design
        The diagnosed design.
    out_dir : path
        Created if missing.
    plan : Plan, optional
        Named in the footer.
    """
    import html as _html

    from .htmlparts import page, png, table
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / "diagnosis.csv", "html": out / "diagnosis.html"}
    diag.to_csv(paths["csv"], index=False)
    t = raw["timings"]
    key = diag[diag.programme == "pooled"][["factor", "estimator", "n", "effect", "power", "bias",
                                             "coverage", "type_s", "type_m", "mde_80", "mde_80_sd",
                                             "sesoi", "power_equivalence"]]
    main = [c for c in DIAGNOSIS_COLUMNS[:12]]
    extra = ["factor", "programme", "estimator", *DIAGNOSIS_COLUMNS[12:]]
    body = [
        "<h1>Design diagnosis</h1>",
        "<ul>" + "".join(f"<li>{_html.escape(x)}</li>" for x in design_summary_text(design)) + "</ul>",
        "<p>Effects, bias, RMSE and minimum detectable effects (<code>mde_80</code>) in scale "
        f"points; <code>mde_80_sd</code> in outcome SDs. The smallest effect of interest is "
        f"{design.sesoi_sd:g} outcome SDs = {design.sesoi:.2f} scale points (<code>sesoi</code>); "
        "<code>power_equivalence</code> is the power of the equivalence test (TOST) against it "
        "when the true effect is 0. Power's Monte Carlo standard error is in "
        "<code>power_mcse</code>.</p>",
        "<h2>Pooled effects (block-weighted)</h2>", table(key),
        "<h2>Power curves</h2>", png(power_curve_plot(diag, raw, design)),
        "<h2>Every row</h2>", table(diag[main]),
        "<h3>Every row: further diagnosands</h3>", table(diag[extra]),
        _lin_terms_html(plan, design, out, paths, table),  # issue 11, item 8: Lin's rule at these sizes
        f"<footer><p>{design.sims} simulations in {t['total_s']:.1f} s (assignment "
        f"{t['assignment_s']:.1f} s, estimation {t['estimation_s']:.1f} s). "
        + (f"Plan {_html.escape(plan.name)}, SHA-256 {plan.sha256}. " if plan else "")
        + "Written by <code>python -m analysis design</code>.</p></footer>",
    ]
    paths["html"].write_text(page("Design diagnosis", "\n".join(body)), encoding="utf-8")
    return paths
