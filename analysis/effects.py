"""The plan applied to the tidy table: every estimator, multiplicity, equivalence,
randomisation inference, manipulation checks and sensitivity analyses.

The report and a power simulation call the same functions.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd

from . import estimators as est
from . import registry
from .contract import (CHECK_SCALE_FACTORS, EFFECT_OUTCOMES, EFFECT_PROGRAMMES, FACTORS,
                       INTERACTION, MANIPULATION_CHECKS, OUTCOME_SCALES)
from .inference import benjamini_hochberg, difference_coefficients, holm, randomisation_test, tost
from .plan import Plan

#: Manipulation checks analysed as outcomes: (outcome column, factor, answer that
#: signals the treated arm). A large effect means the manipulation was noticed.
CHECK_OUTCOMES = (("mc_says_trust", "manager", "trust"), ("mc_says_other", "partner", "other"))

Progress = Callable[[str], None]
#: ``adjustment`` of rows that are not their hypothesis's primary row (never adjusted).
ROBUSTNESS_ADJUSTMENT = "robustness"
#: ``adjustment`` of the manipulation-check rows (perceived autonomy, the checks).
CHECK_ADJUSTMENT = "check"


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


def _row_roles(eff: pd.DataFrame, plan: Plan) -> np.ndarray:
    """True where a row is its hypothesis's primary row (the plan's primary estimator)."""
    cache: dict[tuple[str, str], str] = {}
    out = np.zeros(len(eff), dtype=bool)
    for i, (prog, factor, name) in enumerate(zip(eff.programme, eff.factor, eff.estimator)):
        key = (prog if prog == registry.POOLED else "", factor)
        if key not in cache:
            cache[key] = plan.primary_estimator(prog, factor)
        out[i] = name == cache[key]
    return out


def estimate_effects(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """All effects rows (the contract's effects schema) with the families' adjustments.

    Every registered estimator (:mod:`analysis.registry`) runs on every rated scale. A
    hypothesis (outcome x factor x programme) is counted once, by its primary
    estimator's row (the plan's ``[families]``); the other estimators' rows of the same
    hypothesis are robustness rows (``adjustment = robustness``, unadjusted), so they
    never inflate a family. Confirmatory family (Holm): the plan's outcome x factor
    pairs, pooled primary rows. Exploratory (BH, together): every other primary row on
    the outcome scales. The primary rows of the checks (perceived autonomy, the
    manipulation checks as outcomes): ``adjustment = check``, unadjusted; their other
    estimators' rows are robustness rows too.

    Parameters
    ----------
    tidy : DataFrame
        The tidy participant table.
    plan : Plan
        Gives alpha, the covariates, the confirmatory family and the primary estimators.
    """
    s = _sample(tidy, plan)
    frames = []
    for outcome in EFFECT_OUTCOMES:
        for e in registry.ESTIMATORS.values():
            frames.append(e.run(s, outcome, plan))
    for col, factor, _ in CHECK_OUTCOMES:
        for prog in (EFFECT_PROGRAMMES[0], registry.POOLED):
            frames.append(registry.get(plan.primary_estimator(prog, factor)).run(s, col, plan, (factor,)))
    eff = pd.concat([f for f in frames if len(f)], ignore_index=True)
    primary = _row_roles(eff, plan)
    is_outcome = eff["outcome"].isin(OUTCOME_SCALES).to_numpy()
    conf = np.array([plan.is_confirmatory(o, f) and p == registry.POOLED
                     for o, f, p in zip(eff.outcome, eff.factor, eff.programme)]) & primary & is_outcome
    expl = primary & ~conf & is_outcome
    eff.loc[conf, "p_adjusted"] = holm(eff.loc[conf, "p_value"].to_numpy())
    eff.loc[conf, "adjustment"] = "holm"
    eff.loc[expl, "p_adjusted"] = benjamini_hochberg(eff.loc[expl, "p_value"].to_numpy())
    eff.loc[expl, "adjustment"] = "bh"
    eff.loc[primary & ~is_outcome, "adjustment"] = CHECK_ADJUSTMENT
    eff.loc[~primary, "adjustment"] = ROBUSTNESS_ADJUSTMENT
    return eff


def pooled_sd(tidy: pd.DataFrame, outcome: str) -> tuple[float, int]:
    """The observed pooled within-cell SD of an outcome (programme x cell), and its df.

    sqrt(sum_c (n_c - 1) s_c^2 / sum_c (n_c - 1)) over the programmes with effects and
    the four cells: the SD the treatment does not explain, the unit of the SESOI.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (or the analysis sample).
    outcome : str
        A scale score column.
    """
    s = est.analysis_sample(tidy)
    d = s[s[outcome].notna() & s["programme"].isin(EFFECT_PROGRAMMES)]
    g = d.groupby(["programme", "manager", "partner"], observed=True)[outcome]
    n = g.count().to_numpy(dtype=float)
    v = g.var(ddof=1).to_numpy(dtype=float)
    ok = n > 1
    dof = float((n[ok] - 1).sum())
    if dof <= 0:
        return float("nan"), 0
    return float(np.sqrt(((n[ok] - 1) * v[ok]).sum() / dof)), int(dof)


def sesoi_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The plan's SESOI (outcome SDs) in scale points, per rated scale.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        Gives ``sesoi_sd``.
    """
    rows = []
    for outcome in EFFECT_OUTCOMES:
        sd, dof = pooled_sd(tidy, outcome)
        rows.append(dict(outcome=outcome, sesoi_sd=plan.sesoi_sd, pooled_sd=sd, sd_df=dof,
                         sesoi_points=plan.sesoi_sd * sd))
    return pd.DataFrame(rows)


def heterogeneity_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Treatment x programme Wald tests (HC2) for every outcome and factor.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    """
    s = _sample(tidy)
    return pd.DataFrame([est.heterogeneity(s, o, f) for o in EFFECT_OUTCOMES
                         for f in (*FACTORS, INTERACTION)])


def equivalence_table(effects: pd.DataFrame, plan: Plan, sesoi: pd.DataFrame) -> pd.DataFrame:
    """TOST against the plan's smallest effect of interest, for every outcome-scale row.

    Parameters
    ----------
    effects : DataFrame
        :func:`estimate_effects` rows.
    plan : Plan
        Gives alpha.
    sesoi : DataFrame
        :func:`sesoi_table`: the SESOI in scale points per outcome.
    """
    bound = dict(zip(sesoi.outcome, sesoi.sesoi_points))
    rows = []
    for r in effects[effects["outcome"].isin(EFFECT_OUTCOMES)].itertuples():
        b = float(bound.get(r.outcome, np.nan))
        t = tost(r.estimate, r.std_error, r.df, b, plan.alpha)
        rows.append(dict(outcome=r.outcome, factor=r.factor, programme=r.programme,
                         estimator=r.estimator, estimate=r.estimate, sesoi_sd=plan.sesoi_sd,
                         sesoi=b, **t))
    return pd.DataFrame(rows)


def block_ids(df: pd.DataFrame) -> np.ndarray:
    """Randomisation block of each person: session x stratum x block number.

    Parameters
    ----------
    df : DataFrame
        Tidy rows with ``session_code``, ``stratum``, ``programme`` and ``block``.
    """
    stratum = df["stratum"].fillna(df["programme"]).astype("str")
    key = (df["session_code"].astype("str") + "|" + stratum + "|"
           + df["block"].astype("str").fillna("?"))
    codes, _ = pd.factorize(key)
    # People without a recorded block cannot be re-randomised: each is its own block.
    missing = df["block"].isna().to_numpy()
    codes = codes.astype(np.int64)
    codes[missing] = codes.max(initial=0) + 1 + np.arange(missing.sum())
    return codes


#: Re-randomisation schemes of :func:`ri_table`: ``conditional`` re-randomises a main
#: effect's labels within block x the other factor's arm (the 2x2 permuted blocks hold
#: every cell once, so this is the assignment given the other factor's labels);
#: ``block`` permutes them across the whole block (exact only for the joint null).
RI_SCHEMES = ("conditional", "block")


def ri_null(factor: str, scheme: str = "conditional") -> str:
    """The null hypothesis a randomisation p-value tests, in words.

    Parameters
    ----------
    factor : str
        ``manager`` or ``partner``.
    scheme : str
        One of :data:`RI_SCHEMES`.
    """
    other = next(f for f in FACTORS if f != factor)
    if scheme == "conditional":
        return (f"sharp null: the {factor} arm changes nobody's outcome, whatever the {other} "
                f"effect ({factor} labels re-randomised within block x {other} arm)")
    return ("sharp joint null: neither factor changes anybody's outcome "
            f"({factor} labels permuted within block)")


def ri_blocks(d: pd.DataFrame, factor: str, scheme: str = "conditional") -> np.ndarray:
    """Re-randomisation groups of each person for a main effect's test.

    Parameters
    ----------
    d : DataFrame
        People with the outcome observed (session, stratum, block, both factors).
    factor : str
        The factor whose labels are re-randomised.
    scheme : str
        ``conditional``: block x the other factor's arm; ``block``: the block.
    """
    b = block_ids(d)
    if scheme == "block":
        return b
    if scheme != "conditional":
        raise ValueError(f"unknown scheme {scheme!r} (expected one of {RI_SCHEMES})")
    other = next(f for f in FACTORS if f != factor)
    codes, _ = pd.factorize(pd.Series(b.astype(str)) + "|" + d[other].astype(str).to_numpy())
    return codes.astype(np.int64)


def ri_table(tidy: pd.DataFrame, effects: pd.DataFrame, plan: Plan,
             progress: Progress | None = None, scheme: str = "conditional") -> pd.DataFrame:
    """Randomisation inference for the confirmatory family (pooled primary rows), plus
    the per-programme differences in means when the plan lists ``by_programme``.

    Each main effect's sharp null is tested conditionally on the other factor's labels:
    its labels are re-randomised within session x stratum x block x the other factor's
    arm, which is how the permuted 2x2 blocks assigned them. The ``null`` column says
    what each p-value tests.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    effects : DataFrame
        :func:`estimate_effects` rows (their t-test p-values are shown beside).
    plan : Plan
        Confirmatory family, draws, seed.
    progress : callable, optional
        Receives one line per test.
    scheme : str
        ``conditional`` (default) or ``block`` (:data:`RI_SCHEMES`).
    """
    s = _sample(tidy, plan)
    families = plan.raw.get("randomisation_inference", {}).get("families", ["confirmatory"])
    jobs = []
    for _, outcome, factor in plan.confirmatory:
        if factor == INTERACTION:
            continue
        jobs.append((outcome, factor, registry.POOLED))
        if "by_programme" in families:
            jobs += [(outcome, factor, p) for p in EFFECT_PROGRAMMES]
    rows = []
    for k, (outcome, factor, prog) in enumerate(jobs, start=1):
        d = s[s[outcome].notna() & s[factor].notna()]
        if prog != registry.POOLED:
            d = d[d["programme"] == prog]
        t = est.treatment(d, factor).astype(bool)
        groups = d["programme"].to_numpy()
        sizes = {p: int((groups == p).sum()) for p in EFFECT_PROGRAMMES}
        ok = {p for p in sizes if ((groups == p) & t).sum() >= 2 and ((groups == p) & ~t).sum() >= 2}
        keep = np.isin(groups, list(ok))
        N = sum(sizes[p] for p in ok)
        weights = {p: sizes[p] / N for p in ok}
        d, t, groups = d[keep], t[keep], groups[keep]
        estimator = plan.primary_estimator(prog, factor)  # the statistic: (weighted) difference in means
        match = effects[(effects.outcome == outcome) & (effects.factor == factor)
                        & (effects.programme == prog) & (effects.estimator == estimator)]
        row = dict(outcome=outcome, factor=factor, programme=prog, estimator=estimator,
                   statistic=np.nan, p_value_ri=np.nan, method="", draws=0, seed=plan.ri_seed,
                   p_value_t=float(match.p_value.iloc[0]) if len(match) else np.nan,
                   scheme=scheme, null=ri_null(factor, scheme), note="")
        if not ok:
            row["note"] = "not estimable: an arm has fewer than two people"
            rows.append(row)
            continue
        c = difference_coefficients(t, groups, weights)
        if progress:
            progress(f"randomisation inference {k}/{len(jobs)}: {outcome} by {factor} "
                     f"({prog}, {plan.ri_draws} draws)")
        res = randomisation_test(d[outcome].to_numpy(dtype=float), c, ri_blocks(d, factor, scheme),
                                 draws=plan.ri_draws, seed=plan.ri_seed + k)
        row.update(statistic=res["statistic"], p_value_ri=res["p_value"], method=res["method"],
                   draws=res["draws"], seed=plan.ri_seed + k)
        rows.append(row)
    return pd.DataFrame(rows)


def checks_table(tidy: pd.DataFrame, effects: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The manipulation checks: each check scale's effect of its factor (perceived
    autonomy by manager, per programme and pooled) and the pass rates of the checks
    (``mc_manager_correct``, ``mc_partner_correct``) by arm, with Wilson intervals.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    effects : DataFrame
        :func:`estimate_effects` rows (the check scales' primary rows are taken from it).
    plan : Plan
        Alpha (1 - confidence of the intervals).
    """
    alpha = plan.alpha
    from statsmodels.stats.proportion import proportion_confint
    cols = ["check", "factor", "programme", "arm", "n", "estimate", "ci_low", "ci_high",
            "p_value", "estimator"]
    rows = []
    for scale, factor in CHECK_SCALE_FACTORS.items():
        r = effects[(effects.outcome == scale) & (effects.factor == factor)
                    & (effects.adjustment == CHECK_ADJUSTMENT)]
        for x in r.itertuples():
            treated, control = FACTORS[factor]
            rows.append(dict(check=f"{scale}: {factor} effect", factor=factor, programme=x.programme,
                             arm=f"{treated} − {control}", n=x.n_treated + x.n_control,
                             estimate=x.estimate, ci_low=x.ci_low, ci_high=x.ci_high,
                             p_value=x.p_value, estimator=x.estimator))
    s = est.analysis_sample(tidy)
    s = s[s["programme"].isin(EFFECT_PROGRAMMES)]
    for _, (factor, col) in MANIPULATION_CHECKS.items():
        for prog in (*EFFECT_PROGRAMMES, "all"):
            d = s if prog == "all" else s[s["programme"] == prog]
            for arm in FACTORS[factor]:
                v = d.loc[d[factor] == arm, col].dropna().astype(bool)
                n, k = len(v), int(v.sum())
                lo, hi = (proportion_confint(k, n, alpha, method="wilson") if n else (np.nan, np.nan))
                rows.append(dict(check=f"{col}: pass rate", factor=factor, programme=prog, arm=arm,
                                 n=n, estimate=k / n if n else np.nan, ci_low=lo, ci_high=hi,
                                 p_value=np.nan, estimator="share (Wilson interval)"))
    return pd.DataFrame(rows, columns=cols)


def by_version_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The confirmatory effects by instrument version (for a tidy file mixing versions).

    One row per version x confirmatory outcome x factor: the pooled primary estimate
    among the participants assigned with that version.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (``instrument_version`` column; missing = ``unknown``).
    plan : Plan
        The confirmatory family and alpha.
    """
    assigned = tidy[tidy["assigned"].fillna(False).astype(bool).to_numpy()]
    version = assigned["instrument_version"].astype("string").fillna("unknown")
    rows = []
    for v in sorted(version.unique()):
        sub = assigned[(version == v).to_numpy()]
        s = _sample(sub, plan)
        for h, outcome, factor in plan.confirmatory:
            name = plan.primary_estimator(registry.POOLED, factor)
            r = registry.get(name).run(s, outcome, plan, (factor,))
            r = r.iloc[0] if len(r) else None
            rows.append(dict(instrument_version=v, assigned=len(sub),
                             hypothesis=h, outcome=outcome, factor=factor, estimator=name,
                             estimate=np.nan if r is None else r.estimate,
                             ci_low=np.nan if r is None else r.ci_low,
                             ci_high=np.nan if r is None else r.ci_high,
                             p_value=np.nan if r is None else r.p_value,
                             n_treated=np.nan if r is None else r.n_treated,
                             n_control=np.nan if r is None else r.n_control,
                             note="" if r is None else r.note))
    return pd.DataFrame(rows)


def sensitivity_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Confirmatory effects re-estimated excluding people who failed each check.

    Sensitivity only: the checks come after treatment, so excluding on them can
    unbalance the arms. ``sample`` names the exclusion. The primary estimators of both
    scopes (per programme and pooled) are re-run.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        The exclusions, the confirmatory family and the primary estimators.
    """
    s = _sample(tidy, plan)
    frames = []
    for var in plan.sensitivity_exclusions:
        if var not in s:
            continue
        sub = s[s[var].fillna(False).astype(bool).to_numpy()]
        for _, outcome, factor in plan.confirmatory:
            per = registry.get(plan.primary_estimator(EFFECT_PROGRAMMES[0], factor))
            f = per.run(sub, outcome, plan, (factor,))
            b = registry.get(plan.primary_estimator(registry.POOLED, factor)).run(sub, outcome, plan, (factor,))
            frames.append(pd.concat([f, b]).assign(sample=f"excluding failed {var}"))
    if not frames:
        return pd.DataFrame()
    return pd.concat(frames, ignore_index=True)


def cell_means(tidy: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Mean of each outcome per programme and cell, with a t interval.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
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
