"""Attrition bounds: Lee (2009) trimming bounds for the pooled effect of each confirmatory
hypothesis, with Imbens & Manski (2004) confidence intervals, next to the test of
differential attrition.

Within each programme (the randomisation stratum), the arm with the higher share of
assigned students whose outcome is observed is trimmed by p = (q_hi − q_lo) / q_hi of its
observed outcomes, from the top (lower bound) or from the bottom (upper bound); under
monotone selection (assignment moves response in one direction only) the two differences
in means bound the effect among students who would answer in either arm. Ties (the
scales are discrete) are trimmed fractionally: the boundary value keeps the fraction of
its weight that makes the kept mass exactly (1 − p) of the arm, which is the sharp bound.

Pooled bounds weight the programmes as the ``block_weighted`` estimator does (observed
N_j / N), so with the same response share in both arms of every programme (p = 0) they
equal the pooled estimate and its interval. Programmes are independent, so the variances
add with squared weights.

Variance of a trimmed mean (Lee 2009, Proposition 3), for kept mass k = (1 − p) m of an
arm with m observed outcomes, kept mean μ, kept variance σ² and boundary quantile y_q:
    Var(μ̂) = [σ² + p (y_q − μ)²] / k + ((y_q − μ) / (1 − p))² Var(p̂),
    Var(p̂) = (1 − p)² [(1 − q_lo) / (q_lo n_lo) + (1 − q_hi) / (q_hi n_hi)]
(delta method for p̂ = 1 − q̂_lo / q̂_hi, n = assigned per arm); the untrimmed arm adds s²/m.

Imbens–Manski interval: [LB − c σ_LB, UB + c σ_UB], c solving
Φ(c + (UB − LB) / max(σ_LB, σ_UB)) − Φ(−c) = 1 − α (normal, as in both papers).

References
----------
Lee, D. S. (2009). Training, wages, and sample selection: estimating sharp bounds on
  treatment effects. Review of Economic Studies 76, 1071-1102.
Imbens, G. W. & Manski, C. F. (2004). Confidence intervals for partially identified
  parameters. Econometrica 72, 1845-1857.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .contract import EFFECT_PROGRAMMES, INTERACTION
from .estimators import analysis_sample, treatment
from .plan import Plan

BOUNDS_COLUMNS = ("hypothesis", "outcome", "factor", "programme", "estimate", "lower", "upper",
                  "se_lower", "se_upper", "ci_low", "ci_high", "trim_share", "trimmed_arm",
                  "observed_treated", "assigned_treated", "observed_control", "assigned_control",
                  "attrition_chi2", "attrition_df", "attrition_p", "note")


def trimmed_mean(y: np.ndarray, p: float, keep: str) -> tuple[float, float, float]:
    """Mean of the lowest (``keep='lower'``) or highest (``'upper'``) (1 − p) share of y.

    Parameters
    ----------
    y : array
        Observed outcomes of one arm.
    p : float
        Share to trim, 0 <= p < 1; the boundary value is kept fractionally (ties).
    keep : {'lower', 'upper'}
        Which end of the distribution is kept.

    Returns
    -------
    mean, variance, quantile
        Weighted mean and (population) variance of the kept mass, and the boundary
        value y_q (the (1 − p) quantile when keeping the lower part, the p quantile
        when keeping the upper part).
    """
    y = np.sort(np.asarray(y, dtype=float))
    if keep == "upper":
        y = y[::-1]
    m = len(y)
    k = (1.0 - p) * m
    cum = np.arange(1, m + 1, dtype=float)
    w = np.clip(k - (cum - 1), 0.0, 1.0)  # 1 for whole units inside k, a fraction at the edge
    mu = float((w * y).sum() / w.sum())
    var = float((w * (y - mu) ** 2).sum() / w.sum())
    q = float(y[max(0, int(np.ceil(k - 1e-12)) - 1)])
    return mu, var, q


def lee_bounds_arm(y1: np.ndarray, n1: int, y0: np.ndarray, n0: int) -> dict:
    """Lee bounds for one stratum: treated vs control, with assigned counts.

    Parameters
    ----------
    y1, y0 : arrays
        Observed outcomes of the treated and control arms.
    n1, n0 : int
        Students assigned to each arm (observed or not).

    Returns
    -------
    dict
        estimate (difference in means), lower, upper, var_lower, var_upper, trim_share,
        trimmed_arm ('treated', 'control' or '' when p = 0).
    """
    y1, y0 = np.asarray(y1, dtype=float), np.asarray(y0, dtype=float)
    m1, m0 = len(y1), len(y0)
    q1, q0 = m1 / n1, m0 / n0
    est = float(y1.mean() - y0.mean())
    if q1 >= q0:
        hi, lo, n_hi, n_lo, y_hi, y_lo, arm = q1, q0, n1, n0, y1, y0, "treated"
    else:
        hi, lo, n_hi, n_lo, y_hi, y_lo, arm = q0, q1, n0, n1, y0, y1, "control"
    p = (hi - lo) / hi
    var_p = (1 - p) ** 2 * ((1 - lo) / (lo * n_lo) + (1 - hi) / (hi * n_hi))
    var_other = float(y_lo.var(ddof=1)) / len(y_lo)
    k = (1 - p) * len(y_hi)
    out = {}
    for keep in ("lower", "upper"):
        mu, s2, q = trimmed_mean(y_hi, p, keep)
        v = (s2 + p * (q - mu) ** 2) / k + ((q - mu) / (1 - p)) ** 2 * var_p
        out[keep] = (mu, v + var_other)
    other_mean = float(y_lo.mean())
    if arm == "treated":  # trimmed treated mean minus the control mean
        lower, var_lower = out["lower"][0] - other_mean, out["lower"][1]
        upper, var_upper = out["upper"][0] - other_mean, out["upper"][1]
    else:  # the treated mean minus the trimmed control mean: keeping the top lowers it
        lower, var_lower = other_mean - out["upper"][0], out["upper"][1]
        upper, var_upper = other_mean - out["lower"][0], out["lower"][1]
    return dict(estimate=est, lower=float(lower), upper=float(upper), var_lower=float(var_lower),
                var_upper=float(var_upper), trim_share=float(p), trimmed_arm=arm if p > 0 else "")


def imbens_manski(lower: float, upper: float, se_lower: float, se_upper: float,
                  alpha: float = 0.05) -> tuple[float, float, float]:
    """Imbens & Manski (2004) interval for a partially identified effect.

    Parameters
    ----------
    lower, upper : float
        Estimated bounds.
    se_lower, se_upper : float
        Their standard errors.
    alpha : float
        1 − coverage of the effect (not of the identified set).

    Returns
    -------
    ci_low, ci_high, c
        The interval and the critical value c (1.96 > c >= 1.645 at alpha 0.05).
    """
    s = max(se_lower, se_upper)
    width = max(upper - lower, 0.0) / s if s > 0 else 0.0
    f = lambda c: stats.norm.cdf(c + width) - stats.norm.cdf(-c) - (1 - alpha)  # noqa: E731
    c = float(optimize.brentq(f, 0.0, 10.0))
    return lower - c * se_lower, upper + c * se_upper, c


def _attrition_test(tables: list[np.ndarray]) -> tuple[float, float, float, str]:
    """Observed vs missing outcome by arm: sum of the programmes' Pearson chi-squares."""
    chi2 = dof = 0.0
    for tab in tables:  # rows: arm; columns: observed, missing
        if (tab.sum(axis=0) > 0).all() and (tab.sum(axis=1) > 0).all():
            c, _, d, _ = stats.chi2_contingency(tab, correction=False)
            chi2 += c
            dof += d
    if dof == 0:
        return 0.0, 0.0, 1.0, "no attrition in any programme"
    return float(chi2), float(dof), float(stats.chi2.sf(chi2, dof)), ""


def lee_bounds(tidy: pd.DataFrame, outcome: str, factor: str, alpha: float = 0.05,
               hypothesis: str = "") -> list[dict]:
    """Lee bounds per programme and pooled for one outcome and factor.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table; the sample is every assigned, not withdrawn student of a
        programme with its own effects (intention to treat), observed or not.
    outcome : str
        An outcome scale.
    factor : {'manager', 'partner'}
    alpha : float
        1 − coverage of the Imbens–Manski intervals.
    hypothesis : str
        Label copied into the rows.

    Returns
    -------
    list of dict
        One row per programme and one ``pooled`` row (columns :data:`BOUNDS_COLUMNS`).
    """
    s = analysis_sample(tidy)
    s = s[s[factor].notna()]
    rows, parts, tables = [], [], []
    for prog in EFFECT_PROGRAMMES:
        d = s[s["programme"] == prog]
        t = treatment(d, factor).astype(bool)
        y = d[outcome].to_numpy(dtype=float)
        obs = np.isfinite(y)
        n1, n0 = int(t.sum()), int((~t).sum())
        m1, m0 = int((obs & t).sum()), int((obs & ~t).sum())
        row = dict(hypothesis=hypothesis, outcome=outcome, factor=factor, programme=prog,
                   observed_treated=m1, assigned_treated=n1, observed_control=m0,
                   assigned_control=n0, note="")
        if n1 and n0:
            tables.append(np.array([[m1, n1 - m1], [m0, n0 - m0]]))
        if m1 < 2 or m0 < 2:
            row["note"] = "not estimable: an arm has fewer than two observed outcomes"
            rows.append(row)
            continue
        b = lee_bounds_arm(y[obs & t], n1, y[obs & ~t], n0)
        kept = (1 - b["trim_share"]) * (m1 if b["trimmed_arm"] == "treated" else m0)
        if kept < 2:
            row["note"] = "not estimable: fewer than two observed outcomes left after trimming"
            rows.append(row)
            continue
        row.update(_finish(b, alpha))
        rows.append(row)
        parts.append((m1 + m0, b))
    chi2, dof, p_att, att_note = _attrition_test(tables)
    pooled = dict(hypothesis=hypothesis, outcome=outcome, factor=factor, programme="pooled",
                  observed_treated=sum(r["observed_treated"] for r in rows),
                  assigned_treated=sum(r["assigned_treated"] for r in rows),
                  observed_control=sum(r["observed_control"] for r in rows),
                  assigned_control=sum(r["assigned_control"] for r in rows),
                  attrition_chi2=chi2, attrition_df=dof, attrition_p=p_att, note=att_note)
    if parts:
        N = sum(n for n, _ in parts)
        w = np.array([n / N for n, _ in parts])
        agg = dict(estimate=float(sum(wi * b["estimate"] for wi, (_, b) in zip(w, parts))),
                   lower=float(sum(wi * b["lower"] for wi, (_, b) in zip(w, parts))),
                   upper=float(sum(wi * b["upper"] for wi, (_, b) in zip(w, parts))),
                   var_lower=float(sum(wi**2 * b["var_lower"] for wi, (_, b) in zip(w, parts))),
                   var_upper=float(sum(wi**2 * b["var_upper"] for wi, (_, b) in zip(w, parts))),
                   trim_share=np.nan, trimmed_arm="by programme")
        pooled.update(_finish(agg, alpha))
        left = [r["programme"] for r in rows if r["note"]]
        if left:
            pooled["note"] = "; ".join(x for x in (att_note, "left out: " + ", ".join(left)) if x)
    else:
        pooled["note"] = "not estimable in any programme"
    return [*rows, pooled]


def _finish(b: dict, alpha: float) -> dict:
    se_l, se_u = np.sqrt(b["var_lower"]), np.sqrt(b["var_upper"])
    lo, hi, _ = imbens_manski(b["lower"], b["upper"], se_l, se_u, alpha)
    return dict(estimate=b["estimate"], lower=b["lower"], upper=b["upper"], se_lower=se_l,
                se_upper=se_u, ci_low=lo, ci_high=hi, trim_share=b["trim_share"],
                trimmed_arm=b["trimmed_arm"])


def bounds_table(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Lee bounds for every confirmatory hypothesis of the plan (main effects only).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    plan : Plan
        Its confirmatory entries (hypothesis, outcome, factor) and alpha are used.

    Returns
    -------
    DataFrame
        Columns :data:`BOUNDS_COLUMNS`; per programme and pooled.
    """
    rows = []
    for hyp, outcome, factor in plan.confirmatory:
        if factor == INTERACTION:
            continue
        rows += lee_bounds(tidy, outcome, factor, plan.alpha, hyp)
    return pd.DataFrame(rows, columns=list(BOUNDS_COLUMNS))


def prereg_lines(plan: Plan) -> list[str]:
    """What the pre-registration says about the bounds (Markdown bullet lines).

    Parameters
    ----------
    plan : Plan
        For alpha.
    """
    return [f"- Attrition bounds: for each confirmatory main effect, Lee (2009) trimming bounds "
            "(within each programme the arm with the higher response share is trimmed by the "
            "excess share, ties fractionally; pooled with the block-weighted estimator's "
            "weights), with the Imbens–Manski (2004) "
            f"{100 * (1 - plan.alpha):g}% interval for the effect (`bounds.csv`), reported beside "
            "the test of differential attrition (observed outcome by arm, Pearson chi-square "
            "summed over programmes). Assumption: assignment moves response in one direction only."]


def bounds_section(bounds: pd.DataFrame, table, plan: Plan) -> str:
    """The report section (HTML).

    Parameters
    ----------
    bounds : DataFrame
        :func:`bounds_table`'s output.
    table : callable
        The report's DataFrame-to-HTML function.
    plan : Plan
        For alpha.
    """
    pooled = bounds[bounds.programme == "pooled"] if not bounds.empty else bounds
    cols = ["hypothesis", "outcome", "factor", "estimate", "lower", "upper", "ci_low", "ci_high",
            "observed_treated", "assigned_treated", "observed_control", "assigned_control",
            "attrition_chi2", "attrition_df", "attrition_p", "note"]
    return "\n".join([
        "<h2>Attrition bounds (Lee 2009) for the confirmatory effects</h2>",
        "<p>If missing outcomes depend on the arm, the estimate among those who answered need "
        "not be the effect. Within each programme the arm with the higher response share is "
        "trimmed by the excess share, from the top (<code>lower</code>) or the bottom "
        "(<code>upper</code>); the pooled bounds weight programmes as the block-weighted "
        "estimate does. Assumption: assignment moves response in one direction only "
        "(monotonicity). <code>ci_low</code>–<code>ci_high</code> is the Imbens–Manski "
        f"{100 * (1 - plan.alpha):g}% interval for the effect. <code>attrition_p</code>: "
        "test of differential attrition (observed vs missing outcome by arm; Pearson "
        "chi-square summed over programmes). With no differential attrition the bounds "
        "collapse to the estimate. Per programme: <code>bounds.csv</code>.</p>",
        table(pooled[cols] if not pooled.empty else pooled),
    ])
