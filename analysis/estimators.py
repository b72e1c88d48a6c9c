"""Estimators of the effects table: each returns rows of the effects schema (``contract.EFFECT_COLUMNS``).

Degrees of freedom (documented because references differ):

* ``difference_in_means``: Welch-Satterthwaite df (as estimatr's ``difference_in_means``);
  its standard error is Neyman's, which equals HC2 for a difference in means.
* ``lin``, ``factorial``, ``fixed_effects``: HC2 standard errors with the classical
  residual df n - k (as estimatr's ``lm_robust`` / ``lm_lin``).
* ``block_weighted``: N - 2J for a two-arm factor and N - 4J for the interaction
  (J = programmes pooled), as estimatr's blocked ``difference_in_means``.

Intervals and p-values use the t distribution with that df. A row that cannot be
estimated (an arm with fewer than two people, too few people for the covariates) keeps
its place with NaN numbers and a reason in ``note``; it is never silently dropped.

References
----------
Lin, W. (2013). Agnostic notes on regression adjustments to experimental data.
  Annals of Applied Statistics 7(1), 295-318.
MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent covariance
  matrix estimators with improved finite sample properties. J. Econometrics 29, 305-325.
Gerber, A. S. & Green, D. P. (2012). Field Experiments, ch. 3-4 (blocked designs).
Hedges, L. V. & Olkin, I. (1985). Statistical Methods for Meta-Analysis, ch. 5.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import core
from .contract import EFFECT_COLUMNS, EFFECT_PROGRAMMES, FACTORS, INTERACTION
# The numeric core lives in `core` (no pandas: the app's class results page uses it too);
# these names stay importable from here.
from .core import ALPHA, arm_moments, t_inference, welch_arrays  # noqa: F401


# ---------------------------------------------------------------- small numeric cores
#: Cells in the order of :func:`cell_moments`: (manager, partner) with +-1/2 coding,
#: manager +1/2 = trust, partner +1/2 = other.
CELL_ORDER = (("trust", "other"), ("trust", "same"), ("control", "other"), ("control", "same"))
#: Contrast coefficients on the four cell means: the +-1/2-coded factorial coefficients.
CELL_CONTRASTS = {"manager": np.array([0.5, 0.5, -0.5, -0.5]),
                  "partner": np.array([0.5, -0.5, 0.5, -0.5]),
                  INTERACTION: np.array([1.0, -1.0, -1.0, 1.0])}


def cell_contrast(ns: np.ndarray, means: np.ndarray, variances: np.ndarray, factor: str
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A contrast of the four cell means and its HC2 variance (vectorised, last axis = cells).

    In the saturated 2x2 regression every person's leverage is 1/n_cell, so the HC2
    variance of a cell mean is s^2/n and that of the contrast sum_k c_k^2 s_k^2 / n_k:
    identical to the +-1/2-coded OLS with HC2 (MacKinnon & White 1985), without the
    matrix algebra, so thousands of simulated studies are estimated at once.

    Parameters
    ----------
    ns : array
        Cell sizes (last axis: the four cells of :data:`CELL_ORDER`).
    variances : array
        Cell variances (ddof=1), same shape.
    factor : {'manager', 'partner', 'manager:partner'}
        The factor (or the interaction) whose contrast is taken.
    """
    c = CELL_CONTRASTS[factor]
    est = (means * c).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (c**2 * variances / ns).sum(axis=-1)
    ok = (np.asarray(ns) >= 2).all(axis=-1)
    return np.where(ok, est, np.nan), np.where(ok, var, np.nan)


def pooled(est: np.ndarray, var: np.ndarray, n: np.ndarray, k: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Block-size-weighted pooled effect over the last axis (programmes), vectorised.

    estimate = sum_j (N_j/N) tau_j, SE = sqrt(sum_j (N_j/N)^2 V_j), df = N - k J over the
    programmes that are estimable (finite variance); NaN when none is.

    Parameters
    ----------
    est : array
        Per-programme estimates (last axis: programmes).
    var : array
        Their variances, same shape.
    n : array
        Their sample sizes, same shape.
    """
    ok = np.isfinite(var) & np.isfinite(est)
    n = np.where(ok, n, 0).astype(float)
    N = n.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = n / np.expand_dims(N, -1)
        e = np.where(ok, w * np.where(ok, est, 0.0), 0.0).sum(axis=-1)
        se = np.sqrt(np.where(ok, w**2 * np.where(ok, var, 0.0), 0.0).sum(axis=-1))
    J = ok.sum(axis=-1)
    any_ok = J > 0
    return (np.where(any_ok, e, np.nan), np.where(any_ok, se, np.nan),
            np.where(any_ok, N - k * J, np.nan))


def welch(y1: np.ndarray, y0: np.ndarray) -> tuple[float, float, float]:
    """Difference in means with Neyman (= HC2) standard error and Welch df.

    The one-study case of :func:`arm_moments` + :func:`welch_arrays` (the design
    diagnosis calls those on many simulated studies at once), computed by
    :func:`analysis.core.welch`, which the app's class results page calls too.

    Parameters
    ----------
    y1 : array
        Outcomes of the treated group.
    y0 : array
        Outcomes of the control group.

    Returns
    -------
    estimate, std_error, df : float
        NaN when either group has fewer than two observations.

    Examples
    --------
    >>> g1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
    >>> g2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
    >>> est, se, df = welch(np.array(g2), np.array(g1))
    >>> round(est, 2), round(se, 7)
    (1.58, 0.849091)
    """
    return core.welch(y1, y0)


def ols_hc2(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS coefficients with the HC2 covariance matrix.

    Parameters
    ----------
    y : array (n,)
        Outcome.

    Returns
    -------
    beta : ndarray
    cov : ndarray
        HC2: (X'X)^-1 X' diag(e_i^2 / (1 - h_ii)) X (X'X)^-1; all NaN when some
        observation has leverage 1 (HC2 undefined).
    df_resid : int
        n - k, the classical residual degrees of freedom.
    """
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)  # (X'X)^-1; callers drop collinear columns first
    beta = bread @ (X.T @ y)
    resid = y - X @ beta
    h = np.einsum("ij,jk,ik->i", X, bread, X)
    if (h > 1 - 1e-10).any():  # leverage 1: HC2 is undefined, never silently infinite
        return beta, np.full((k, k), np.nan), n - k
    w = resid**2 / (1.0 - h)
    meat = (X * w[:, None]).T @ X
    cov = bread @ meat @ bread
    return beta, cov, n - k


def full_rank_columns(X: np.ndarray, tol: float = 1e-10) -> list[int]:
    """Indices of a maximal set of linearly independent columns, left to right.

    Works on the Gram matrix of the unit-scaled columns: column j is kept when its
    squared residual on the kept columns exceeds ``tol`` (cheap for tall X).
    """
    norms = np.sqrt((X**2).sum(axis=0))
    Xn = X / np.where(norms > 0, norms, 1.0)
    G = Xn.T @ Xn
    keep: list[int] = []
    for j in range(X.shape[1]):
        if norms[j] == 0:
            continue
        if keep:
            g = G[np.ix_(keep, [j])]
            resid = G[j, j] - float((g.T @ np.linalg.solve(G[np.ix_(keep, keep)], g))[0, 0])
        else:
            resid = G[j, j]
        if resid > tol:
            keep.append(j)
    return keep


def hedges_g(y1: np.ndarray, y0: np.ndarray, alpha: float = ALPHA) -> tuple[float, float, float]:
    """Hedges' g with its interval (unrounded).

    g = J * (mean1 - mean0) / s_pooled, J = 1 - 3 / (4 (n1 + n0) - 9); the interval is
    g +- t_{n1+n0-2} * sqrt((n1 + n0) / (n1 n0) + g^2 / (2 (n1 + n0))) (Hedges & Olkin
    1985; the formula of pingouin's ``compute_esci``, without its rounding).

    Parameters
    ----------
    y1 : array
        Outcomes of the treated group.
    y0 : array
        Outcomes of the control group.
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
    n1, n0 = len(y1), len(y0)
    if n1 < 2 or n0 < 2:
        return np.nan, np.nan, np.nan
    sp = np.sqrt(((n1 - 1) * np.var(y1, ddof=1) + (n0 - 1) * np.var(y0, ddof=1)) / (n1 + n0 - 2))
    if sp == 0:
        return np.nan, np.nan, np.nan
    g = (1 - 3 / (4 * (n1 + n0) - 9)) * (np.mean(y1) - np.mean(y0)) / sp
    se = np.sqrt((n1 + n0) / (n1 * n0) + g**2 / (2 * (n1 + n0)))
    crit = stats.t.ppf(1 - alpha / 2, n1 + n0 - 2)
    return float(g), float(g - crit * se), float(g + crit * se)


def make_row(outcome: str, factor: str, programme: str, estimator: str, estimate: float,
             std_error: float, df: float, n_treated: int, n_control: int,
             alpha: float = ALPHA, g: tuple[float, float, float] = (np.nan,) * 3,
             note: str = "") -> dict:
    """One effects row: t interval and two-sided t p-value from estimate, SE and df.

    Parameters
    ----------
    outcome : str
        The outcome column.
    factor : str
        ``manager``, ``partner`` or ``manager:partner``.
    programme : str
        A programme code or ``pooled``.
    estimator : str
        The estimator's name.
    std_error : float
        Its standard error.
    n_treated : int
        People in the treated arm.
    n_control : int
        People in the control arm.
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    g : tuple of float
        Hedges' g and its interval (NaN when not computed).
    note : str
        Why a row is not estimable or was adapted; empty otherwise.
    """
    ok = np.isfinite(estimate) and np.isfinite(std_error) and np.isfinite(df) and std_error > 0
    if ok:
        lo, hi, p = (float(x) for x in t_inference(estimate, std_error, df, alpha))
    else:
        lo = hi = p = np.nan
        if not note:
            note = "not estimable"
        estimate = estimate if np.isfinite(estimate) and np.isfinite(std_error) else np.nan
    return dict(outcome=outcome, factor=factor, programme=programme, estimator=estimator,
                estimate=estimate, std_error=std_error if ok else np.nan, df=df if ok else np.nan,
                ci_low=lo, ci_high=hi, p_value=p, p_adjusted=np.nan, adjustment="none",
                n_treated=int(n_treated), n_control=int(n_control), hedges_g=g[0],
                g_ci_low=g[1], g_ci_high=g[2], note=note)


def rows_to_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """Effects rows (dicts from :func:`make_row`) as a DataFrame with the effects columns and integer counts.

    Parameters
    ----------
    rows : iterable of dict
        Rows from :func:`make_row`.
    """
    df = pd.DataFrame(list(rows), columns=list(EFFECT_COLUMNS))
    return df.astype({"n_treated": "int64", "n_control": "int64"})


# ---------------------------------------------------------------- data helpers
def analysis_sample(tidy: pd.DataFrame) -> pd.DataFrame:
    """Assigned, not withdrawn, in a programme with its own effects (intention to treat).

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (one row per participant, the contract's columns).
    """
    keep = (tidy["assigned"].fillna(False).astype(bool) & ~tidy["withdrawn"].fillna(False).astype(bool)
            & tidy["programme"].isin(EFFECT_PROGRAMMES))
    return tidy.loc[keep.to_numpy()]


def treatment(df: pd.DataFrame, factor: str) -> np.ndarray:
    """1 for the treated code of ``factor`` (trust; other), 0 for the control code.

    Parameters
    ----------
    df : DataFrame
        Tidy rows.
    """
    treated, _ = FACTORS[factor]
    return (df[factor] == treated).to_numpy(dtype=float)


def _arms(df: pd.DataFrame, outcome: str, factor: str):
    y = df[outcome].to_numpy(dtype=float)
    t = treatment(df, factor)
    ok = np.isfinite(y) & df[factor].notna().to_numpy()
    return y[ok & (t == 1)], y[ok & (t == 0)]


def _small_note(n1: int, n0: int) -> str:
    return f"not estimable: an arm has fewer than two people (treated {n1}, control {n0})"


def _programmes(df: pd.DataFrame, programmes: Sequence[str] | None) -> list[str]:
    return list(programmes) if programmes is not None else list(EFFECT_PROGRAMMES)


# ---------------------------------------------------------------- estimators
def difference_in_means(df: pd.DataFrame, outcome: str, factor: str,
                        programmes: Sequence[str] | None = None, alpha: float = ALPHA
                        ) -> pd.DataFrame:
    """Difference in means (treated - control) per programme, Neyman/HC2 SE, Welch df.

    Parameters
    ----------
    df : DataFrame
        Tidy rows (typically :func:`analysis_sample`).
    outcome : str
        A numeric column (a scale score, or a 0/1 manipulation-check outcome).
    factor : {'manager', 'partner'}
    programmes : sequence of str, optional
        Programmes to estimate; default every programme with its own effects
        (``EFFECT_PROGRAMMES``).
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).

    Returns
    -------
    DataFrame
        Effects-schema rows, estimator ``difference_in_means``, with Hedges' g.
    """
    rows = []
    for prog in _programmes(df, programmes):
        y1, y0 = _arms(df[df["programme"] == prog], outcome, factor)
        est, se, dof = welch(y1, y0)
        note = _small_note(len(y1), len(y0)) if not np.isfinite(se) else ""
        if np.isfinite(se) and se == 0:
            note = "not estimable: no variation in the outcome"
        rows.append(make_row(outcome, factor, prog, "difference_in_means", est, se, dof,
                             len(y1), len(y0), alpha, hedges_g(y1, y0, alpha), note))
    return rows_to_frame(rows)


def covariate_matrix(df: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str],
                     every_level: bool = False) -> np.ndarray:
    """Pre-treatment covariates as columns: numeric as is, categorical as indicators.

    Missing numeric values are filled with the column mean and flagged by an indicator
    column (pre-treatment, so this keeps people without changing the estimand); a column
    missing for everyone is left out. A missing category is a level of its own.

    By default the columns are a regression design (Lin's estimator, the balance table's
    HC2 Wald F): the first level of each categorical covariate (in sorted order) is the
    reference and gets no column, levels held by fewer than two people are merged into the
    reference (a level held by one person has leverage 1, HC2 undefined), and columns
    without variation are dropped.

    Parameters
    ----------
    df : DataFrame
        Tidy rows.
    numeric : sequence of str
        Numeric covariate columns.
    categorical : sequence of str
        Categorical covariate columns (values compared as strings).
    every_level : bool
        One indicator per level of each categorical covariate instead: no reference level,
        nothing merged, nothing dropped for lack of variation (the randomisation balance
        test, :func:`analysis.balance_ri.d2_test`, whose pseudo-inverse copes with the
        collinearity).
    """
    cols = []
    for c in numeric:
        x = df[c].to_numpy(dtype=float)
        miss = ~np.isfinite(x)
        if miss.all():
            continue
        cols.append(np.where(miss, np.nanmean(x), x))
        if miss.any():
            cols.append(miss.astype(float))
    for c in categorical:
        codes, _ = pd.factorize(df[c].astype("str").fillna("(missing)"), sort=True)
        indicators = np.eye(codes.max(initial=-1) + 1)[codes].T  # one row per level, sorted
        if every_level:
            cols.extend(indicators)
        else:
            cols.extend(ind for ind in indicators[1:] if ind.sum() >= 2)
    if not cols:
        return np.empty((len(df), 0))
    X = np.column_stack(cols)
    return X if every_level else X[:, X.std(axis=0) > 0]


def lin(df: pd.DataFrame, outcome: str, factor: str, numeric: Sequence[str],
        categorical: Sequence[str] = (), programmes: Sequence[str] | None = None,
        alpha: float = ALPHA) -> pd.DataFrame:
    """Lin's (2013) covariate-adjusted estimate per programme, HC2 SE, df n - k.

    Regresses the outcome on the treatment, the covariates centred at their programme
    mean, and their interactions; the treatment coefficient is the adjusted ATE.

    Parameters
    ----------
    factor : {'manager', 'partner'}
        The factor whose effect is estimated.
    numeric : sequence of str
        Numeric pre-treatment covariates.
    categorical : sequence of str
        Categorical pre-treatment covariates.
    programmes : sequence of str, optional
        Programmes to estimate; default every programme with its own effects
        (``EFFECT_PROGRAMMES``).
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
    rows = []
    for prog in _programmes(df, programmes):
        d = df[(df["programme"] == prog) & df[outcome].notna() & df[factor].notna()]
        t = treatment(d, factor)
        y = d[outcome].to_numpy(dtype=float)
        n1, n0 = int(t.sum()), int(len(t) - t.sum())
        if n1 < 2 or n0 < 2:
            rows.append(make_row(outcome, factor, prog, "lin", np.nan, np.nan, np.nan, n1, n0,
                                 alpha, note=_small_note(n1, n0)))
            continue
        Xc = covariate_matrix(d, numeric, categorical)
        Xc = Xc - Xc.mean(axis=0)
        X = np.column_stack([np.ones(len(d)), t, Xc, Xc * t[:, None]])
        keep = full_rank_columns(X) if X.shape[1] > 2 else [0, 1]
        note = ""
        if 1 not in keep:
            rows.append(make_row(outcome, factor, prog, "lin", np.nan, np.nan, np.nan, n1, n0,
                                 alpha, note="not estimable: treatment collinear with covariates"))
            continue
        if len(keep) < X.shape[1]:
            note = f"dropped {X.shape[1] - len(keep)} collinear covariate columns"
        X = X[:, keep]
        if len(d) - X.shape[1] < 1:
            rows.append(make_row(outcome, factor, prog, "lin", np.nan, np.nan, np.nan, n1, n0,
                                 alpha, note="not estimable: fewer people than covariate columns"))
            continue
        beta, cov, dfr = ols_hc2(X, y)
        if not np.isfinite(cov[1, 1]):
            note = "not estimable: too few people for the covariates (leverage 1, HC2 undefined)"
        rows.append(make_row(outcome, factor, prog, "lin", beta[1], np.sqrt(cov[1, 1]), dfr,
                             n1, n0, alpha, note=note))
    return rows_to_frame(rows)


def cell_masks(manager: np.ndarray, partner: np.ndarray) -> np.ndarray:
    """Membership of the four cells (:data:`CELL_ORDER`) as a boolean array (..., 4, n).

    Parameters
    ----------
    manager : array
        Each person's manager arm (``trust``/``control``).
    partner : array
        Each person's partner arm (``other``/``same``).
    """
    return np.stack([(manager == m) & (partner == q) for m, q in CELL_ORDER], axis=-2)


def _cells(d: pd.DataFrame, outcome: str):
    """Cell sizes, means and variances of ``outcome`` among people with it observed."""
    y = d[outcome].to_numpy(dtype=float)
    ok = np.isfinite(y) & d["manager"].notna().to_numpy() & d["partner"].notna().to_numpy()
    masks = cell_masks(d["manager"].to_numpy(), d["partner"].to_numpy()) & ok
    return arm_moments(y, masks)


def factorial(df: pd.DataFrame, outcome: str, programmes: Sequence[str] | None = None,
              alpha: float = ALPHA) -> pd.DataFrame:
    """2x2 factorial OLS with +-1/2 coding, HC2 SE, df n - 4, per programme.

    Rows for ``manager`` (trust - control averaged over partner), ``partner`` (other -
    same averaged over manager) and ``manager:partner``: the manager effect with an
    other-profession partner minus that with a same-profession partner. Computed as
    contrasts of cell means (:func:`cell_contrast`), which equal the OLS coefficients
    and their HC2 standard errors exactly.

    Parameters
    ----------
    outcome : str
        A numeric column (a scale score, or a 0/1 manipulation-check outcome).
    programmes : sequence of str, optional
        Programmes to estimate; default every programme with its own effects
        (``EFFECT_PROGRAMMES``).
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
    rows = []
    for prog in _programmes(df, programmes):
        ns, means, variances = _cells(df[df["programme"] == prog], outcome)
        cells = [int(x) for x in ns]  # (trust, other), (trust, same), (control, other), (control, same)
        nsum = {"manager": (cells[0] + cells[1], cells[2] + cells[3]),
                "partner": (cells[0] + cells[2], cells[1] + cells[3]),
                INTERACTION: (cells[0] + cells[3], cells[1] + cells[2])}
        for f in ("manager", "partner", INTERACTION):
            if min(cells) < 2:
                rows.append(make_row(outcome, f, prog, "factorial", np.nan, np.nan, np.nan,
                                     *nsum[f], alpha, note=f"not estimable: a cell has fewer than "
                                     f"two people (cells {cells})"))
                continue
            e, v = cell_contrast(ns, means, variances, f)
            rows.append(make_row(outcome, f, prog, "factorial", float(e), float(np.sqrt(v)),
                                 sum(cells) - 4, *nsum[f], alpha))
    return rows_to_frame(rows)


def _per_programme(df: pd.DataFrame, outcome: str, factor: str, programmes: Sequence[str]):
    """Per-programme estimate, Neyman variance and size; None where not estimable."""
    out = {}
    for prog in programmes:
        d = df[df["programme"] == prog]
        if factor == INTERACTION:
            ns, means, variances = _cells(d, outcome)
            if ns.min() < 2:
                out[prog] = None
                continue
            e, v = cell_contrast(ns, means, variances, INTERACTION)
            n1 = int(ns[0] + ns[3])
            out[prog] = (float(e), float(v), int(ns.sum()), n1, int(ns.sum()) - n1)
        else:
            y1, y0 = _arms(d, outcome, factor)
            est, se, _ = welch(y1, y0)
            out[prog] = None if not np.isfinite(se) else (est, se**2, len(y1) + len(y0), len(y1), len(y0))
    return out


def block_weighted(df: pd.DataFrame, outcome: str, factor: str,
                   programmes: Sequence[str] | None = None, alpha: float = ALPHA
                   ) -> pd.DataFrame:
    """Pooled ATE across programmes, each weighted by its share of the sample.

    estimate = sum_j (N_j / N) tau_j, SE = sqrt(sum_j (N_j / N)^2 V_j) with Neyman V_j;
    df = N - 2J (N - 4J for the interaction) (:func:`pooled`). Equals the treatment
    coefficient and HC2 SE of the regression on treatment, centred programme dummies
    and their interactions. Programmes that cannot be estimated are left out and named
    in ``note``.

    Parameters
    ----------
    outcome : str
        A numeric column (a scale score, or a 0/1 manipulation-check outcome).
    factor : {'manager', 'partner', 'manager:partner'}
        The factor (or the interaction) whose contrast is taken.
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
    progs = _programmes(df, programmes)
    per = _per_programme(df, outcome, factor, progs)
    used = {p: v for p, v in per.items() if v is not None}
    left = [p for p, v in per.items() if v is None]
    note = f"left out (an arm or cell with fewer than two people): {', '.join(left)}" if left else ""
    if not used:
        return rows_to_frame([make_row(outcome, factor, "pooled", "block_weighted", np.nan, np.nan,
                                       np.nan, 0, 0, alpha, note="not estimable: no programme with "
                                       "two or more people in each arm")])
    vals = np.array([v[:3] for v in used.values()], dtype=float)
    k = 4 if factor == INTERACTION else 2
    e, se, dof = pooled(vals[:, 0], vals[:, 1], vals[:, 2], k)
    return rows_to_frame([make_row(outcome, factor, "pooled", "block_weighted", float(e),
                                   float(se), float(dof), sum(v[3] for v in used.values()),
                                   sum(v[4] for v in used.values()), alpha, note=note)])


def fixed_effects(df: pd.DataFrame, outcome: str, factor: str,
                  programmes: Sequence[str] | None = None, alpha: float = ALPHA
                  ) -> pd.DataFrame:
    """Robustness only: OLS of the outcome on treatment and programme dummies, HC2, df n - k.

    Weights programmes by N_j p_j (1 - p_j), not by size, so it can differ from the
    block-weighted estimate when the treated share varies across programmes.

    Parameters
    ----------
    factor : {'manager', 'partner'}
        The factor whose effect is estimated.
    alpha : float
        Two-sided significance level; intervals are (1 - alpha).
    """
    progs = _programmes(df, programmes)
    d = df[df["programme"].isin(progs) & df[outcome].notna() & df[factor].notna()]
    t = treatment(d, factor)
    n1, n0 = int(t.sum()), int(len(t) - t.sum())
    present = [p for p in progs if (d["programme"] == p).any()]
    if n1 < 2 or n0 < 2 or not present:
        return rows_to_frame([make_row(outcome, factor, "pooled", "fixed_effects", np.nan,
                                       np.nan, np.nan, n1, n0, alpha, note=_small_note(n1, n0))])
    dummies = [(d["programme"] == p).to_numpy(dtype=float) for p in present[1:]]
    X = np.column_stack([np.ones(len(d)), t, *dummies])
    beta, cov, dfr = ols_hc2(X, d[outcome].to_numpy(dtype=float))
    return rows_to_frame([make_row(outcome, factor, "pooled", "fixed_effects", beta[1],
                                   np.sqrt(cov[1, 1]), dfr, n1, n0, alpha)])


def heterogeneity(df: pd.DataFrame, outcome: str, factor: str,
                  programmes: Sequence[str] | None = None) -> dict:
    """Wald test (HC2) that the effect is the same in every programme.

    With separate treatment effects per programme the HC2 covariance is diagonal with
    the Neyman variances V_j, so the Wald statistic is Cochran's Q =
    sum_j (tau_j - tau_bar)^2 / V_j (tau_bar inverse-variance weighted); F = Q / (J - 1)
    on (J - 1, N - 2J) df (N - 4J for the interaction).

    Returns
    -------
    dict
        outcome, factor, programmes, Q, F, df1, df2, p_value, note.
    """
    progs = _programmes(df, programmes)
    per = {p: v for p, v in _per_programme(df, outcome, factor, progs).items() if v is not None}
    res = dict(outcome=outcome, factor=factor, programmes=" ".join(per), Q=np.nan, F=np.nan,
               df1=np.nan, df2=np.nan, p_value=np.nan, note="")
    J = len(per)
    if J < 2:
        res["note"] = "not estimable: fewer than two programmes with both arms"
        return res
    tau = np.array([v[0] for v in per.values()])
    var = np.array([v[1] for v in per.values()])
    if (var <= 0).any():
        res["note"] = "not estimable: a programme has zero variance"
        return res
    wt = 1 / var
    tbar = (wt * tau).sum() / wt.sum()
    Q = float((wt * (tau - tbar) ** 2).sum())
    N = sum(v[2] for v in per.values())
    k = 4 if factor == INTERACTION else 2
    df1, df2 = J - 1, N - k * J
    F = Q / df1
    res.update(Q=Q, F=F, df1=df1, df2=df2, p_value=float(stats.f.sf(F, df1, df2)))
    return res
