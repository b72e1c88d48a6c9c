"""Measurement, balance and flow: reliability per scale, covariate balance by arm,
and a CONSORT-style flow with a test for differential attrition.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
  Psychometrika 16, 297-334.
Feldt, L. S. (1965). The approximate sampling distribution of Kuder-Richardson
  reliability coefficient twenty. Psychometrika 30, 357-370 (interval for alpha).
McDonald, R. P. (1999). Test Theory: A Unified Treatment, ch. 6 (omega).
Imbens, G. W. & Rubin, D. B. (2015). Causal Inference, ch. 14 (standardised differences).
Schulz, K. F. et al. (2010). CONSORT 2010 statement. BMJ 340, c332.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .contract import EFFECT_PROGRAMMES, FACTORS, PROGRAMMES, SCALES
from .estimators import covariate_matrix, ols_hc2, treatment


def cronbach_alpha(items: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Cronbach's alpha with Feldt's F-based interval (complete rows only, unrounded).

    alpha = k / (k - 1) * (1 - sum of item variances / variance of the sum).

    Parameters
    ----------
    items : array (n, k)
        One column per item, one row per person.
    confidence : float
        Coverage of the interval.
    """
    X = np.asarray(items, dtype=float)
    X = X[np.isfinite(X).all(axis=1)]
    n, k = X.shape
    if n < 3 or k < 2:
        return np.nan, np.nan, np.nan
    total = X.sum(axis=1).var(ddof=1)
    if total == 0:
        return np.nan, np.nan, np.nan
    a = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / total)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - a) * stats.f.isf((1 - confidence) / 2, df1, df2)
    hi = 1 - (1 - a) * stats.f.isf((1 + confidence) / 2, df1, df2)
    return float(a), float(lo), float(hi)


def one_factor_ml(corr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood one-factor fit to a correlation matrix.

    Minimises log|S| + tr(R S^-1) with S = l l' + diag(psi).

    Parameters
    ----------
    corr : array (k, k)
        The items' correlation matrix.

    Returns
    -------
    loadings, uniquenesses : ndarray
    """
    R = np.asarray(corr, dtype=float)
    k = R.shape[0]
    w, v = np.linalg.eigh(R)
    start = np.r_[np.abs(v[:, -1]) * np.sqrt(max(w[-1] - 1e-3, 1e-3)), np.zeros(k)]

    def objective(theta):
        lam, psi = theta[:k], np.exp(theta[k:])
        S = np.outer(lam, lam) + np.diag(psi)
        sign, logdet = np.linalg.slogdet(S)
        if sign <= 0:
            return 1e10
        return logdet + np.trace(np.linalg.solve(S, R))

    start[k:] = np.log(np.clip(1 - start[:k] ** 2, 0.05, 1))
    res = optimize.minimize(objective, start, method="L-BFGS-B",
                            bounds=[(-1, 1)] * k + [(np.log(1e-4), 0)] * k)
    lam = res.x[:k]
    return lam, np.exp(res.x[k:])


def mcdonald_omega(items: np.ndarray) -> float:
    """McDonald's omega (total) from a one-factor ML fit to the item correlations.

    omega = (sum l)^2 / ((sum l)^2 + sum psi), standardised solution.

    Parameters
    ----------
    items : array (n, k)
        One column per item, one row per person.
    """
    X = np.asarray(items, dtype=float)
    X = X[np.isfinite(X).all(axis=1)]
    if X.shape[0] < 3 or X.shape[1] < 2 or (X.std(axis=0) == 0).any():
        return np.nan
    lam, psi = one_factor_ml(np.corrcoef(X, rowvar=False))
    s = abs(lam.sum())
    return float(s**2 / (s**2 + psi.sum()))


def reliability(tidy: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """Cronbach's alpha (with interval) and McDonald's omega per scale and programme.

    Uses everyone who consented and did not withdraw, with all items of the scale
    answered; ``programme`` ``all`` pools programmes.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    confidence : float
        Coverage of alpha's interval.
    """
    base = tidy[tidy["consented"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]
    rows = []
    for scale, items in SCALES.items():
        for prog in ("all", *PROGRAMMES):
            d = base if prog == "all" else base[base["programme"] == prog]
            X = d[list(items)].to_numpy(dtype=float)
            X = X[np.isfinite(X).all(axis=1)]
            a, lo, hi = cronbach_alpha(X, confidence)
            om = mcdonald_omega(X)
            note = "" if np.isfinite(a) else "not estimable: fewer than 3 complete answers or no variation"
            rows.append(dict(scale=scale, programme=prog, items=" ".join(items), n=len(X),
                             alpha=a, alpha_ci_low=lo, alpha_ci_high=hi, omega=om, note=note))
    return pd.DataFrame(rows)


def _wald_all_zero(X: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """HC2 Wald F test that every slope in y ~ 1 + X is zero."""
    from .estimators import full_rank_columns
    Z = np.column_stack([np.ones(len(y)), X])
    keep = full_rank_columns(Z)
    Z = Z[:, keep]
    q = Z.shape[1] - 1
    if q < 1 or len(y) - Z.shape[1] < 1:
        return np.nan, np.nan, np.nan, np.nan
    beta, cov, dfr = ols_hc2(Z, y)
    b, V = beta[1:], cov[1:, 1:]
    try:
        W = float(b @ np.linalg.solve(V, b))
    except np.linalg.LinAlgError:
        return np.nan, q, dfr, np.nan
    F = W / q
    return F, q, dfr, float(stats.f.sf(F, q, dfr))


def balance(tidy: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...]
            ) -> pd.DataFrame:
    """Pre-treatment covariates by arm within programme.

    One row per programme x factor x covariate (categorical covariates: one row per
    level, as a proportion) with means by arm and the standardised difference
    (m1 - m0) / sqrt((s1^2 + s0^2) / 2); then one omnibus row per programme x factor:
    an HC2 Wald F test that the covariates do not predict assignment.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    numeric : tuple of str
        Numeric pre-treatment covariates.
    categorical : tuple of str
        Categorical pre-treatment covariates.
    """
    base = tidy[tidy["assigned"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]
    rows = []
    for prog in ("pooled", *EFFECT_PROGRAMMES):
        d = base[base["programme"].isin(EFFECT_PROGRAMMES)] if prog == "pooled" else base[base["programme"] == prog]
        for factor in FACTORS:
            t = treatment(d, factor).astype(bool)
            cols: list[tuple[str, str, np.ndarray]] = []
            for c in numeric:
                cols.append((c, "", d[c].to_numpy(dtype=float)))
            for c in categorical:
                s = d[c].astype("str").fillna("(missing)")
                for lev in sorted(s.unique()):
                    cols.append((c, lev, (s == lev).to_numpy(dtype=float)))
            for name, level, x in cols:
                x1, x0 = x[t & np.isfinite(x)], x[~t & np.isfinite(x)]
                m1 = x1.mean() if len(x1) else np.nan
                m0 = x0.mean() if len(x0) else np.nan
                v1 = x1.var(ddof=1) if len(x1) > 1 else np.nan
                v0 = x0.var(ddof=1) if len(x0) > 1 else np.nan
                sd = np.sqrt((v1 + v0) / 2)
                std = (m1 - m0) / sd if np.isfinite(sd) and sd > 0 else np.nan
                rows.append(dict(programme=prog, factor=factor, covariate=name, level=level,
                                 mean_treated=m1, mean_control=m0, std_diff=std,
                                 n_treated=len(x1), n_control=len(x0), statistic=np.nan,
                                 df1=np.nan, df2=np.nan, p_value=np.nan, note=""))
            X = covariate_matrix(d, numeric, categorical)
            if prog == "pooled":  # within-programme comparison: programme indicators too
                X = np.column_stack([X, covariate_matrix(d, (), ("programme",))])
            F, q, dfr, p = _wald_all_zero(X, t.astype(float)) if len(d) > 2 else (np.nan,) * 4
            rows.append(dict(programme=prog, factor=factor, covariate="omnibus", level="HC2 Wald F",
                             mean_treated=np.nan, mean_control=np.nan, std_diff=np.nan,
                             n_treated=int(t.sum()), n_control=int((~t).sum()), statistic=F,
                             df1=q, df2=dfr, p_value=p,
                             note="" if np.isfinite(p) else "not estimable: too few people"))
    return pd.DataFrame(rows)


def flow(tidy: pd.DataFrame) -> pd.DataFrame:
    """CONSORT-style flow: opened -> consented -> assigned -> completed, by programme and arm.

    The first row (``programme`` = ``all``) counts everyone who opened the link,
    including withdrawn people (counted, nothing else). Per programme, one row per
    arm (manager x partner) and one ``all arms`` row carrying a chi-square test of
    differential attrition (completion by arm). ``left_at`` lists the last page
    reached by those who were assigned and did not complete.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    """
    wd = tidy["withdrawn"].fillna(False).astype(bool)
    d = tidy[~wd]
    consented = d["consented"].fillna(False).astype(bool)
    assigned = d["assigned"].fillna(False).astype(bool)
    completed = d["completed"].fillna(False).astype(bool)

    def left_at(sel) -> str:
        lp = d.loc[sel, "last_page"].fillna("(unknown)").value_counts()
        return "; ".join(f"{k}: {v}" for k, v in lp.items())

    empty = dict(attrition_chi2=np.nan, attrition_df=np.nan, attrition_p=np.nan, note="")
    rows = [dict(programme="all", manager="", partner="", opened=len(tidy),
                 consented=int(consented.sum()), assigned=int(assigned.sum()),
                 completed=int(completed.sum()), withdrawn=int(wd.sum()),
                 attrition_rate=np.nan, left_at=left_at(consented & ~assigned), **empty)]
    rows[0]["note"] = "left_at: consented but left before assignment"
    for prog in PROGRAMMES:
        sel = assigned & (d["programme"] == prog)
        if not sel.any():
            continue
        table = []
        for m in ("trust", "control"):
            for p in ("same", "other"):
                cell = sel & (d["manager"] == m) & (d["partner"] == p)
                n, c = int(cell.sum()), int((cell & completed).sum())
                table.append([c, n - c])
                rows.append(dict(programme=prog, manager=m, partner=p, opened=np.nan,
                                 consented=np.nan, assigned=n, completed=c, withdrawn=np.nan,
                                 attrition_rate=(n - c) / n if n else np.nan,
                                 left_at=left_at(cell & ~completed), **empty))
        tab = np.array(table)
        tab = tab[tab.sum(axis=1) > 0]
        res = dict(empty)
        if tab.shape[0] >= 2 and (tab.sum(axis=0) > 0).all():
            chi2, p, dof, expected = stats.chi2_contingency(tab, correction=False)
            res.update(attrition_chi2=float(chi2), attrition_df=int(dof), attrition_p=float(p))
            if (expected < 5).any():
                res["note"] = "some expected counts < 5: chi-square approximate"
        elif tab.shape[0] >= 2:
            res.update(attrition_chi2=0.0, attrition_df=tab.shape[0] - 1, attrition_p=1.0,
                       note="no attrition" if tab[:, 1].sum() == 0 else "nobody completed")
        n_all = int(sel.sum())
        c_all = int((sel & completed).sum())
        rows.append(dict(programme=prog, manager="all arms", partner="", opened=np.nan,
                         consented=np.nan, assigned=n_all, completed=c_all, withdrawn=np.nan,
                         attrition_rate=(n_all - c_all) / n_all, left_at=left_at(sel & ~completed),
                         **res))
    return pd.DataFrame(rows)
