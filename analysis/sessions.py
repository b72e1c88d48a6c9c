"""Sessions (classes): a robustness row with session × programme fixed effects for each
confirmatory hypothesis, and a test of whether the effect differs across sessions.

* ``session_fixed_effects`` (effects.csv, robustness, ``adjustment = robustness``): OLS of
  the outcome on the treatment indicator and one dummy per session × programme cell
  (the unit within which the assignment randomised), HC2 standard error, df n − k.
* Heterogeneity across sessions (heterogeneity.csv, ``across = sessions``): the outcome on
  one intercept and one treatment effect per session × programme cell; H0: within each
  programme, every session has the same effect (sum over programmes of S_j − 1
  restrictions). **HC2 Wald F** = W / q on (q, n − 2C) df (C cells). With a separate
  effect per cell the HC2 covariance of the effects is diagonal with the Neyman variances,
  so W = Σ_j Σ_s (τ_sj − τ̄_j)² / V_sj with τ̄_j inverse-variance weighted (Cochran's Q
  within programme). Cells with an arm of fewer than two people are left out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .contract import EFFECT_PROGRAMMES, INTERACTION
from .estimators import analysis_sample, full_rank_columns, make_row, ols_hc2, rows_to_frame, treatment, welch
from .plan import Plan

ESTIMATOR = "session_fixed_effects"
ADJUSTMENT = "robustness"


def _cell(d: pd.DataFrame) -> pd.Series:
    return d["session_code"].astype("str") + "|" + d["programme"].astype("str")


def session_fixed_effects(tidy: pd.DataFrame, outcome: str, factor: str,
                          alpha: float = 0.05) -> pd.DataFrame:
    """Pooled effect with session × programme fixed effects (OLS, HC2, df n − k).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (the intention-to-treat sample is taken from it).
    outcome : str
        An outcome scale.
    factor : {'manager', 'partner'}
    alpha : float
        1 − coverage of the interval.

    Returns
    -------
    DataFrame
        One effects-schema row (programme ``pooled``, estimator ``session_fixed_effects``).
    """
    s = analysis_sample(tidy)
    d = s[s[outcome].notna() & s[factor].notna()]
    t = treatment(d, factor)
    n1, n0 = int(t.sum()), int(len(t) - t.sum())
    if n1 < 2 or n0 < 2:
        row = make_row(outcome, factor, "pooled", ESTIMATOR, np.nan, np.nan, np.nan, n1, n0, alpha,
                       note=f"not estimable: an arm has fewer than two people (treated {n1}, control {n0})")
    else:
        cells = pd.get_dummies(_cell(d)).to_numpy(dtype=float)
        X = np.column_stack([t, cells])
        X = X[:, full_rank_columns(X)]
        beta, cov, dfr = ols_hc2(X, d[outcome].to_numpy(dtype=float))
        note = "" if np.isfinite(cov[0, 0]) else "not estimable: leverage 1 (a cell of one person)"
        row = make_row(outcome, factor, "pooled", ESTIMATOR, float(beta[0]), float(np.sqrt(cov[0, 0])),
                       float(dfr), n1, n0, alpha, note=note)
    row["adjustment"] = ADJUSTMENT
    return rows_to_frame([row])


def session_heterogeneity(tidy: pd.DataFrame, outcome: str, factor: str) -> dict:
    """HC2 Wald F test that the effect is the same in every session of a programme.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table.
    outcome : str
        An outcome scale.
    factor : {'manager', 'partner'}

    Returns
    -------
    dict
        outcome, factor, programmes, Q (the Wald statistic), F, df1, df2, p_value, note,
        across ('sessions'), test (names the test).
    """
    s = analysis_sample(tidy)
    d = s[s[outcome].notna() & s[factor].notna()]
    res = dict(outcome=outcome, factor=factor, programmes="", Q=np.nan, F=np.nan, df1=np.nan,
               df2=np.nan, p_value=np.nan, note="", across="sessions",
               test="HC2 Wald F: same effect in every session within programme")
    t = treatment(d, factor).astype(bool)
    y = d[outcome].to_numpy(dtype=float)
    prog = d["programme"].to_numpy()
    sess = d["session_code"].astype("str").to_numpy()
    Q, q, N, C, used, dropped = 0.0, 0, 0, 0, [], 0
    for p in EFFECT_PROGRAMMES:
        taus, vs = [], []
        for code in pd.unique(sess[prog == p]):
            m = (prog == p) & (sess == code)
            y1, y0 = y[m & t], y[m & ~t]
            est, se, _ = welch(y1, y0)
            if not np.isfinite(se) or se <= 0:
                dropped += 1
                continue
            taus.append(est)
            vs.append(se**2)
            N += len(y1) + len(y0)
        if len(taus) >= 2:
            tau, w = np.array(taus), 1 / np.array(vs)
            Q += float((w * (tau - (w * tau).sum() / w.sum()) ** 2).sum())
            q += len(taus) - 1
            used.append(f"{p} ({len(taus)} sessions)")
        C += len(taus)
    res["programmes"] = ", ".join(used)
    if dropped:
        res["note"] = f"{dropped} session × programme cell(s) left out (an arm with fewer than two people)"
    if q == 0:
        res["note"] = "not estimable: no programme with two sessions having both arms"
        return res
    F = Q / q
    res.update(Q=Q, F=F, df1=q, df2=N - 2 * C, p_value=float(stats.f.sf(F, q, N - 2 * C)))
    return res


def _pairs(plan: Plan) -> list[tuple[str, str]]:
    out = []
    for _, outcome, factor in plan.confirmatory:
        if factor != INTERACTION and (outcome, factor) not in out:
            out.append((outcome, factor))
    return out


def add_session_rows(effects: pd.DataFrame, tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """effects.csv plus one ``session_fixed_effects`` robustness row per confirmatory pair.

    Parameters
    ----------
    effects : DataFrame
        The effects table so far.
    tidy : DataFrame
        The tidy table.
    plan : Plan
        Its confirmatory (outcome, factor) pairs and alpha.
    """
    rows = [session_fixed_effects(tidy, o, f, plan.alpha) for o, f in _pairs(plan)]
    return pd.concat([effects, *rows], ignore_index=True) if rows else effects


def add_session_heterogeneity(het: pd.DataFrame, tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """heterogeneity.csv plus one across-sessions test per confirmatory pair.

    Adds the columns ``across`` (programmes / sessions) and ``test``; the existing rows
    get ``programmes`` and the programme test's name.

    Parameters
    ----------
    het : DataFrame
        The heterogeneity table so far (across programmes).
    tidy : DataFrame
        The tidy table.
    plan : Plan
        Its confirmatory (outcome, factor) pairs.
    """
    het = het.copy()
    if "across" not in het:
        het["across"] = "programmes"
    if "test" not in het:
        het["test"] = "HC2 Wald F: same effect in every programme"
    new = pd.DataFrame([session_heterogeneity(tidy, o, f) for o, f in _pairs(plan)])
    return pd.concat([het, new], ignore_index=True)


def sessions_section(effects: pd.DataFrame, het: pd.DataFrame, table) -> str:
    """The report section (HTML).

    Parameters
    ----------
    effects, het : DataFrame
        The effects and heterogeneity tables with the session rows added.
    table : callable
        The report's DataFrame-to-HTML function.
    """
    fe = effects[effects.estimator == ESTIMATOR]
    bw = effects[(effects.estimator == "block_weighted") & (effects.programme == "pooled")]
    fe = fe.merge(bw[["outcome", "factor", "estimate"]].rename(columns={"estimate": "block_weighted"}),
                  on=["outcome", "factor"], how="left")
    hs = het[het.get("across", pd.Series(dtype=str)) == "sessions"] if "across" in het else het.iloc[:0]
    return "\n".join([
        "<h2>Sessions (classes): robustness and heterogeneity</h2>",
        "<p><code>session_fixed_effects</code>: OLS with one dummy per session × programme "
        "(the unit the assignment randomised within), HC2, df n − k; a robustness row "
        "(<code>adjustment = robustness</code>, in no family), next to the confirmatory "
        "block-weighted estimate.</p>",
        table(fe[["outcome", "factor", "estimate", "block_weighted", "std_error", "df", "ci_low",
                  "ci_high", "p_value", "n_treated", "n_control", "note"]]),
        "<p>Does the effect differ across sessions? HC2 Wald F test (not the classical F) that "
        "every session of a programme has the same effect, programmes' own effects allowed "
        "(rows <code>across = sessions</code> of <code>heterogeneity.csv</code>).</p>",
        table(hs[["outcome", "factor", "programmes", "Q", "F", "df1", "df2", "p_value", "note"]]),
    ])
