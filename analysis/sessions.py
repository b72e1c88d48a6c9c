"""Sessions (classes): a robustness row with session × programme fixed effects for each
confirmatory hypothesis, and a test of whether the effect differs across sessions.

* ``session_fixed_effects`` (effects.csv, robustness, ``adjustment = robustness``): OLS of
  the outcome on the treatment indicator and one dummy per session × programme cell
  (the unit within which the assignment randomised), HC2 standard error, df n − k.
* Heterogeneity across sessions (heterogeneity.csv, ``across = sessions``): the outcome on
  one intercept and one treatment effect per session × programme cell, against one effect
  per programme; H0: within each programme, every session has the same effect (sum over
  programmes of S_j − 1 restrictions). **Classical F** (nested models, on (q, n − 2C) df,
  C cells), not HC2: with a class split into arms and programmes, cells hold a handful of
  people, and the HC2 Wald test (Cochran's Q within programme) gave p < 0.01 for every
  confirmatory pair of a simulated study (1,500 students) without session heterogeneity. Cells without both arms are left out.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .contract import EFFECT_PROGRAMMES, INTERACTION
from .estimators import analysis_sample, make_row, rows_to_frame, treatment
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
        # Frisch-Waugh-Lovell: demean within session x programme (no dense dummies, so a
        # study of 100,000 students with thousands of cells stays cheap); the full model's
        # HC2 leverage is 1/n_cell + t~_i^2 / sum t~^2. Cells of one person carry nothing
        # (leverage 1) and are left out.
        cell = pd.factorize(_cell(d))[0]
        size = np.bincount(cell)
        keep = size[cell] > 1
        single = int((size == 1).sum())
        cell, t, y = pd.factorize(cell[keep])[0], t[keep], d[outcome].to_numpy(dtype=float)[keep]
        size = np.bincount(cell)
        tt = t - (np.bincount(cell, t) / size)[cell]
        yt = y - (np.bincount(cell, y) / size)[cell]
        S_ = float(tt @ tt)
        note = f"{single} session × programme cell(s) of one person left out" if single else ""
        if S_ <= 1e-12:
            row = make_row(outcome, factor, "pooled", ESTIMATOR, np.nan, np.nan, np.nan, n1, n0,
                           alpha, note="not estimable: no cell has both arms")
        else:
            beta = float(tt @ yt) / S_
            e = yt - beta * tt
            h = 1 / size[cell] + tt**2 / S_
            if (h > 1 - 1e-10).any():
                se, note = np.nan, "not estimable: leverage 1 (HC2 undefined)"
            else:
                se = float(np.sqrt((tt**2 * e**2 / (1 - h)).sum()) / S_)
            dfr = len(y) - 1 - len(size)
            row = make_row(outcome, factor, "pooled", ESTIMATOR, beta, se, float(dfr), n1, n0,
                           alpha, note=note)
    row["adjustment"] = ADJUSTMENT
    return rows_to_frame([row])


def session_heterogeneity(tidy: pd.DataFrame, outcome: str, factor: str) -> dict:
    """Classical F test that the effect is the same in every session of a programme.

    Unrestricted model: one intercept and one treatment effect per session × programme
    cell; restricted: one intercept per cell and one effect per programme. F =
    ((RSS_r − RSS_u) / q) / (RSS_u / (n − 2C)), q = Σ_j (S_j − 1) (C cells, S_j sessions
    of programme j). Classical, not HC2: session cells are small (a class splits into
    four arms and several programmes), and the HC2 Wald test over-rejects badly there
    (p < 0.01 on a simulated study with no session heterogeneity at all); the F test is
    exact under normal, homoskedastic errors (its size is tested). Cells without both arms are left out.

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
        outcome, factor, programmes, Q (= q F, comparable with the programme rows), F,
        df1, df2, p_value, note, across ('sessions'), test (names the test).
    """
    s = analysis_sample(tidy)
    d = s[s[outcome].notna() & s[factor].notna() & s["programme"].isin(EFFECT_PROGRAMMES)]
    res = dict(outcome=outcome, factor=factor, programmes="", Q=np.nan, F=np.nan, df1=np.nan,
               df2=np.nan, p_value=np.nan, note="", across="sessions",
               test="classical F: same effect in every session within programme")
    t = treatment(d, factor)
    cell = pd.factorize(_cell(d))[0]
    n_t = np.bincount(cell, t, minlength=cell.max(initial=-1) + 1)
    n_all = np.bincount(cell, minlength=cell.max(initial=-1) + 1)
    ok = (n_t > 0) & (n_t < n_all)  # both arms present
    keep = ok[cell]
    dropped = int((~ok & (n_all > 0)).sum())
    d, t, cell = d[keep], t[keep], cell[keep]
    prog = d["programme"].to_numpy()
    per_prog = {p: len(np.unique(cell[prog == p])) for p in EFFECT_PROGRAMMES if (prog == p).any()}
    q = sum(n - 1 for n in per_prog.values())
    res["programmes"] = ", ".join(f"{p} ({n} sessions)" for p, n in per_prog.items() if n > 1)
    if dropped:
        res["note"] = f"{dropped} session × programme cell(s) left out (not both arms)"
    if q == 0:
        res["note"] = "not estimable: no programme with two sessions having both arms"
        return res
    # Both models by group means (no dense dummies): unrestricted = each cell x arm its own
    # mean; restricted = within-cell demeaning and one slope per programme (Frisch-Waugh).
    y = d[outcome].to_numpy(dtype=float)
    g = pd.factorize(cell)[0]
    ga = 2 * g + t.astype(np.int64)
    fit_u = (np.bincount(ga, y) / np.bincount(ga))[ga]
    rss_u = float(((y - fit_u) ** 2).sum())
    size = np.bincount(g)
    tt = t - (np.bincount(g, t) / size)[g]
    yt = y - (np.bincount(g, y) / size)[g]
    pc = pd.factorize(prog)[0]
    slope = np.bincount(pc, tt * yt) / np.bincount(pc, tt * tt)
    rss_r = float(((yt - slope[pc] * tt) ** 2).sum())
    k_u, k_r = 2 * len(size), len(size) + len(slope)
    df2 = len(y) - k_u
    if df2 < 1 or rss_u <= 0:
        res["note"] = "not estimable: no residual degrees of freedom"
        return res
    F = ((rss_r - rss_u) / (k_u - k_r)) / (rss_u / df2)
    res.update(Q=F * (k_u - k_r), F=F, df1=k_u - k_r, df2=df2,
               p_value=float(stats.f.sf(F, k_u - k_r, df2)))
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


def prereg_lines() -> list[str]:
    """What the pre-registration says about sessions (Markdown bullet lines)."""
    return ["- Sessions (classes): a robustness row `session_fixed_effects` for each confirmatory "
            "main effect (OLS with session × programme dummies, HC2, df n − k; in no family), and "
            "a classical F test that the effect is the same in every session of a programme "
            "(nested OLS models, one effect per session × programme against one per programme; "
            "`heterogeneity.csv`, `across = sessions`)."]


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
    hs = het[het["across"] == "sessions"] if "across" in het else het.iloc[:0]
    return "\n".join([
        "<h2>Sessions (classes): robustness and heterogeneity</h2>",
        "<p><code>session_fixed_effects</code>: OLS with one dummy per session × programme "
        "(the unit the assignment randomised within), HC2, df n − k; a robustness row "
        "(<code>adjustment = robustness</code>, in no family), next to the confirmatory "
        "block-weighted estimate.</p>",
        table(fe[["outcome", "factor", "estimate", "block_weighted", "std_error", "df", "ci_low",
                  "ci_high", "p_value", "n_treated", "n_control", "note"]]),
        "<p>Does the effect differ across sessions? Classical F test (nested OLS models; not "
        "HC2, which over-rejects with the few people per session cell) that every session of "
        "a programme has the same effect, programmes' own effects allowed "
        "(rows <code>across = sessions</code> of <code>heterogeneity.csv</code>).</p>",
        table(hs[["outcome", "factor", "programmes", "Q", "F", "df1", "df2", "p_value", "note"]]),
    ])
