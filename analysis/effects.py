"""The plan applied to the tidy table: every estimator, multiplicity, equivalence,
randomisation inference, manipulation checks and sensitivity analyses.

The report and a power simulation call the same functions.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from . import estimators as est
from . import lin_rule  # issue 11, item 8: the plan's covariate rule for Lin
from .contract import EFFECT_PROGRAMMES, FACTORS, INTERACTION, EFFECT_OUTCOMES
from .inference import benjamini_hochberg, difference_coefficients, holm, randomisation_test, tost
from .plan import Plan

#: Manipulation checks analysed as outcomes: (outcome column, factor, answer that
#: signals the treated arm). A large effect means the manipulation was noticed.
CHECK_OUTCOMES = (("mc_says_trust", "manager", "trust"), ("mc_says_other", "partner", "other"))

Progress = Callable[[str], None]


def _check_outcomes(s: pd.DataFrame) -> pd.DataFrame:
    s = s.copy()
    for col, factor, answer in CHECK_OUTCOMES:
        ans = s[f"mc_{factor}"]
        s[col] = (ans == answer).astype(float).where(ans.notna())
    return s


def _needed(plan: Plan) -> set[str]:
    return {"programme", "manager", "partner", "session_code", "stratum", "block",
            *EFFECT_OUTCOMES, *plan.numeric_covariates, *plan.categorical_covariates,
            *(c for c, _, _ in CHECK_OUTCOMES), *plan.sensitivity_exclusions}


def _sample(tidy: pd.DataFrame, plan: Plan | None = None) -> pd.DataFrame:
    """The analysis sample, narrowed to the columns estimation uses (faster subsetting)."""
    s = _check_outcomes(est.analysis_sample(tidy))
    needed = _needed(plan) if plan is not None else {
        "programme", "manager", "partner", "session_code", "stratum", "block", *EFFECT_OUTCOMES}
    return s[[c for c in s.columns if c in needed]]


def estimate_effects(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """All effects rows (DESIGN.md schema) with Holm and BH adjustments.

    Confirmatory family (Holm): the plan's outcome x factor pairs, pooled
    ``block_weighted`` rows. Exploratory (BH, together): every other row of the plan's
    exploratory estimators on the outcome scales. ``lin`` and ``fixed_effects`` rows
    (robustness) and manipulation-check rows keep ``adjustment = none``.
    """
    s = _sample(tidy, plan)
    a = plan.alpha
    frames = []
    for outcome in EFFECT_OUTCOMES:
        for factor in FACTORS:
            frames.append(est.difference_in_means(s, outcome, factor, alpha=a))
            frames.append(lin_rule.lin(s, outcome, factor, plan.numeric_covariates,  # issue 11, item 8
                                       plan.categorical_covariates, alpha=a, rule=lin_rule.rule_of(plan)))
            frames.append(est.block_weighted(s, outcome, factor, alpha=a))
            frames.append(est.fixed_effects(s, outcome, factor, alpha=a))
        frames.append(est.factorial(s, outcome, alpha=a))
        frames.append(est.block_weighted(s, outcome, INTERACTION, alpha=a))
    for col, factor, _ in CHECK_OUTCOMES:
        frames.append(est.difference_in_means(s, col, factor, alpha=a))
        frames.append(est.block_weighted(s, col, factor, alpha=a))
    eff = pd.concat(frames, ignore_index=True)
    conf = np.array([plan.is_confirmatory(o, f) and e == "block_weighted" and p == "pooled"
                     for o, f, e, p in zip(eff.outcome, eff.factor, eff.estimator, eff.programme)])
    expl = (~conf & eff["estimator"].isin(plan.exploratory_estimators).to_numpy()
            & eff["outcome"].isin(EFFECT_OUTCOMES).to_numpy())
    eff.loc[conf, "p_adjusted"] = holm(eff.loc[conf, "p_value"].to_numpy())
    eff.loc[conf, "adjustment"] = "holm"
    eff.loc[expl, "p_adjusted"] = benjamini_hochberg(eff.loc[expl, "p_value"].to_numpy())
    eff.loc[expl, "adjustment"] = "bh"
    return eff


def heterogeneity_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Treatment x programme Wald tests (HC2) for every outcome and factor."""
    s = _sample(tidy)
    return pd.DataFrame([est.heterogeneity(s, o, f) for o in EFFECT_OUTCOMES
                         for f in (*FACTORS, INTERACTION)])


def equivalence_table(effects: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """TOST against the plan's smallest effect of interest, for every outcome-scale row."""
    rows = []
    for r in effects[effects["outcome"].isin(EFFECT_OUTCOMES)].itertuples():
        t = tost(r.estimate, r.std_error, r.df, plan.sesoi, plan.alpha)
        rows.append(dict(outcome=r.outcome, factor=r.factor, programme=r.programme,
                         estimator=r.estimator, estimate=r.estimate, sesoi=plan.sesoi, **t))
    return pd.DataFrame(rows)


def block_ids(df: pd.DataFrame) -> np.ndarray:
    """Randomisation block of each person: session x stratum x block number."""
    stratum = df["stratum"].fillna(df["programme"]).astype("str")
    key = (df["session_code"].astype("str") + "|" + stratum + "|"
           + df["block"].astype("str").fillna("?"))
    codes, _ = pd.factorize(key)
    # People without a recorded block cannot be re-randomised: each is its own block.
    missing = df["block"].isna().to_numpy()
    codes = codes.astype(np.int64)
    codes[missing] = codes.max(initial=0) + 1 + np.arange(missing.sum())
    return codes


def ri_table(tidy: pd.DataFrame, effects: pd.DataFrame, plan: Plan,
             progress: Progress | None = None) -> pd.DataFrame:
    """Randomisation inference for the confirmatory family (pooled, block-weighted),
    plus the per-programme differences in means when the plan lists ``by_programme``.

    The sharp null: the assigned cell affects nobody's outcome. Labels are permuted
    within session x stratum x block, as the assignment did.
    """
    s = _sample(tidy, plan)
    families = plan.raw.get("randomisation_inference", {}).get("families", ["confirmatory"])
    jobs = []
    for _, outcome, factor in plan.confirmatory:
        if factor == INTERACTION:
            continue
        jobs.append((outcome, factor, "pooled"))
        if "by_programme" in families:
            jobs += [(outcome, factor, p) for p in EFFECT_PROGRAMMES]
    rows = []
    for k, (outcome, factor, prog) in enumerate(jobs, start=1):
        d = s[s[outcome].notna() & s[factor].notna()]
        if prog != "pooled":
            d = d[d["programme"] == prog]
        t = est.treatment(d, factor).astype(bool)
        groups = d["programme"].to_numpy()
        sizes = {p: int((groups == p).sum()) for p in EFFECT_PROGRAMMES}
        ok = {p for p in sizes if ((groups == p) & t).sum() >= 2 and ((groups == p) & ~t).sum() >= 2}
        keep = np.isin(groups, list(ok))
        N = sum(sizes[p] for p in ok)
        weights = {p: sizes[p] / N for p in ok}
        d, t, groups = d[keep], t[keep], groups[keep]
        estimator = "block_weighted" if prog == "pooled" else "difference_in_means"
        match = effects[(effects.outcome == outcome) & (effects.factor == factor)
                        & (effects.programme == prog) & (effects.estimator == estimator)]
        row = dict(outcome=outcome, factor=factor, programme=prog, estimator=estimator,
                   statistic=np.nan, p_value_ri=np.nan, method="", draws=0, seed=plan.ri_seed,
                   p_value_t=float(match.p_value.iloc[0]) if len(match) else np.nan, note="")
        if not ok:
            row["note"] = "not estimable: an arm has fewer than two people"
            rows.append(row)
            continue
        c = difference_coefficients(t, groups, weights)
        if progress:
            progress(f"randomisation inference {k}/{len(jobs)}: {outcome} by {factor} "
                     f"({prog}, {plan.ri_draws} draws)")
        res = randomisation_test(d[outcome].to_numpy(dtype=float), c, block_ids(d),
                                 draws=plan.ri_draws, seed=plan.ri_seed + k)
        row.update(statistic=res["statistic"], p_value_ri=res["p_value"], method=res["method"],
                   draws=res["draws"], seed=plan.ri_seed + k)
        rows.append(row)
    return pd.DataFrame(rows)


def sensitivity_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Confirmatory effects re-estimated excluding people who failed each check.

    Sensitivity only: the checks come after treatment, so excluding on them can
    unbalance the arms. ``sample`` names the exclusion.
    """
    s = _sample(tidy, plan)
    frames = []
    for var in plan.sensitivity_exclusions:
        if var not in s:
            continue
        sub = s[s[var].fillna(False).astype(bool).to_numpy()]
        for _, outcome, factor in plan.confirmatory:
            if factor == INTERACTION:
                f = est.factorial(sub, outcome, alpha=plan.alpha)
                f = f[f.factor == INTERACTION]
            else:
                f = est.difference_in_means(sub, outcome, factor, alpha=plan.alpha)
            b = est.block_weighted(sub, outcome, factor, alpha=plan.alpha)
            frames.append(pd.concat([f, b]).assign(sample=f"excluding failed {var}"))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def cell_means(tidy: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Mean of each outcome per programme and cell, with a t interval."""
    from scipy import stats
    base = tidy[tidy["assigned"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]
    rows = []
    for (prog, m, p), d in base.groupby(["programme", "manager", "partner"], observed=True):
        for outcome in EFFECT_OUTCOMES:
            y = d[outcome].dropna().to_numpy(dtype=float)
            n = len(y)
            mean = y.mean() if n else np.nan
            se = y.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            crit = stats.t.ppf(1 - alpha / 2, n - 1) if n > 1 else np.nan
            rows.append(dict(programme=prog, manager=m, partner=p, outcome=outcome, n=n,
                             mean=mean, std_error=se, ci_low=mean - crit * se,
                             ci_high=mean + crit * se))
    return pd.DataFrame(rows, columns=["programme", "manager", "partner", "outcome", "n", "mean",
                                       "std_error", "ci_low", "ci_high"])
