"""A balance test that does not cry wolf: the omnibus statistic's distribution under
re-randomisation within the real blocks (Hansen & Bowers 2008).

The HC2 Wald F of the balance table relies on a large-sample approximation that sparse
categories break (an age band held by nobody in one arm): in simulated studies with
covariates drawn independently of assignment it rejected far more often than 5%. Here:

* d = Σ_i t_i x̃_i, the covariates x centred within randomisation block (session ×
  stratum × block), summed over the treated: the within-block covariate imbalance;
* S = Σ_b m_b (B_b − m_b) / (B_b (B_b − 1)) Σ_{i∈b} x̃_i x̃_i', its exact covariance when
  the factor's labels are re-randomised within each block (B_b people, m_b treated);
* T = d' S⁺ d (Moore–Penrose inverse: dummies of a categorical covariate are collinear,
  sparse levels may vanish), Hansen & Bowers' d² statistic;
* p = (1 + #{T* ≥ T}) / (1 + draws), T* recomputed on re-randomisations that choose which
  m_b of each block's B_b members are treated, uniformly (what the permuted blocks do
  for one factor: every ordering of the block's four cells is equally likely, so every
  choice of the two treated members is). Small designs are enumerated exactly.

Covariates are the balance table's (numeric as they are, missing values mean-filled with
an indicator) but with one indicator for every level of a categorical covariate:
:func:`analysis.estimators.covariate_matrix` with ``every_level=True``.

References
----------
Hansen, B. B. & Bowers, J. (2008). Covariate balance in simple, stratified and clustered
  comparative studies. Statistical Science 23, 219-236.
"""
from __future__ import annotations

import itertools
from functools import lru_cache

import numpy as np
import pandas as pd

from .contract import EFFECT_PROGRAMMES, FACTORS
from .effects import block_ids
from .estimators import covariate_matrix, treatment
from .plan import Plan

DEFAULT_DRAWS = 1000
#: Draws x people x dimensions per test in the report: 1,000 draws up to ~4,500 people
#: with 13 covariate dimensions; fewer above (at least 200: Monte Carlo SE of a p-value
#: near 0.05 is 0.015), so the report at 100,000 students stays within its time budget.
WORK_LIMIT = 60_000_000
LEVEL = "randomisation d² (Hansen-Bowers)"


@lru_cache(maxsize=256)
def _patterns(size: int, treated: int) -> np.ndarray:
    """Every choice of ``treated`` of ``size`` members, as 0/1 rows."""
    rows = []
    for comb in itertools.combinations(range(size), treated):
        r = np.zeros(size)
        r[list(comb)] = 1
        rows.append(r)
    return np.array(rows, dtype=float)


def d2_test(X: np.ndarray, t: np.ndarray, blocks: np.ndarray, draws: int = DEFAULT_DRAWS,
            seed: int = 1, exact_limit: int = 20_000, work_limit: int | None = None) -> dict:
    """Hansen–Bowers d² with its randomisation distribution within blocks.

    Parameters
    ----------
    X : array (n, k)
        Covariates.
    t : array (n,)
        1 for the factor's treated label, 0 for control.
    blocks : array (n,)
        Randomisation block of each person.
    draws : int
        Monte Carlo re-randomisations (when the design has more than ``exact_limit``
        assignments).
    seed : int
        Seed of the re-randomisations.
    exact_limit : int
        Enumerate every assignment when there are at most this many.
    work_limit : int, optional
        Cap on draws × people × covariate dimensions (large studies: fewer draws, at
        least 200; any number of draws gives a valid p-value). The draws used are returned.

    Returns
    -------
    dict
        statistic (d²), rank (of S, the df of the chi-square approximation), p_value,
        method ('exact', 'monte carlo' or ''), draws, note.
    """
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    order = np.argsort(blocks, kind="stable")
    X, t, blocks = X[order], t[order], np.asarray(blocks)[order]
    codes, starts = np.unique(blocks, return_index=True)
    sizes = np.diff(np.r_[starts, len(blocks)])
    bid = np.repeat(np.arange(len(codes)), sizes)
    means = np.add.reduceat(X, starts, axis=0) / sizes[:, None] if len(X) else X
    Xc = X - means[bid]
    m = np.add.reduceat(t, starts) if len(t) else t
    f = np.where(sizes > 1, m * (sizes - m) / (sizes * np.maximum(sizes - 1, 1)), 0.0)
    S = (Xc * f[bid][:, None]).T @ Xc
    out = dict(statistic=np.nan, rank=0, p_value=np.nan, method="", draws=0, note="")
    if X.shape[1] == 0 or not np.any(f > 0):
        out["note"] = "not testable: no covariates or no block with both arms"
        return out
    Sinv = np.linalg.pinv(S, rcond=1e-10, hermitian=True)
    rank = int(np.linalg.matrix_rank(S, tol=1e-10 * max(1.0, np.abs(S).max()), hermitian=True))
    d = Xc.T @ t
    T = float(d @ Sinv @ d)
    # Blocks where the labels can move, grouped by (size, treated): their pattern tables.
    var = (f > 0)
    movable = np.flatnonzero(var)
    key = sizes[movable].astype(np.int64) * 100_000 + m[movable].astype(np.int64)
    groups: dict[tuple[int, int], np.ndarray] = {
        (int(k // 100_000), int(k % 100_000)): movable[key == k] for k in np.unique(key)}
    log_assign = sum(len(bs) * np.log(len(_patterns(B, mb))) for (B, mb), bs in groups.items())
    contrib = []  # per group: (n_blocks, n_patterns, k) block sums of Xc over each pattern
    for (B, mb), bs in groups.items():
        P = _patterns(B, mb)
        idx = starts[bs][:, None] + np.arange(B)[None, :]
        contrib.append(np.einsum("pj,bjk->bpk", P, Xc[idx]))
    if exact_limit > 0 and log_assign <= np.log(exact_limit):
        grids = [np.array(list(itertools.product(range(c.shape[1]), repeat=c.shape[0])), dtype=np.int64)
                 .reshape(-1, c.shape[0]) for c in contrib]
        # Cartesian product over groups of the per-group choices
        D = None
        for c, g in zip(contrib, grids):
            Dg = c[np.arange(c.shape[0])[None, :], g].sum(axis=1)  # (n_choices, k)
            D = Dg if D is None else (D[:, None, :] + Dg[None, :, :]).reshape(-1, Dg.shape[1])
        Ts = np.einsum("ak,kl,al->a", D, Sinv, D)
        p = float(np.mean(Ts >= T - 1e-9 * max(1.0, abs(T))))
        out.update(statistic=T, rank=rank, p_value=p, method="exact", draws=len(Ts))
        return out
    # Monte Carlo in the whitened space: z_i = L' x~_i with L L' = S+, so T = |sum t_i z_i|^2;
    # per group of blocks alike, the drawn labels (draws x members) times z by BLAS.
    w, V = np.linalg.eigh(S)
    keep = w > 1e-10 * max(1.0, w.max())
    L = V[:, keep] / np.sqrt(w[keep])
    n_members = sum(len(bs) * B for (B, _), bs in groups.items())
    # Large studies multiply in single precision (twice as fast); ties are then counted
    # within a relative 1e-5 instead of 1e-9.
    dtype, rel = (np.float32, 1e-5) if n_members > 20_000 else (np.float64, 1e-9)
    Z = (Xc @ L).astype(dtype)
    parts = []
    for (B, mb), bs in groups.items():
        idx = (starts[bs][:, None] + np.arange(B)[None, :]).ravel()
        parts.append((_patterns(B, mb).astype(dtype), len(bs), B, Z[idx]))
    if work_limit:
        draws = int(min(draws, max(200, work_limit // max(1, n_members * L.shape[1]))))
    rng = np.random.default_rng(seed)
    hits, done = 0, 0
    chunk = int(max(1, min(draws, 8_000_000 // max(1, n_members))))
    tol = T - rel * max(1.0, abs(T))  # ties within rounding count as hits
    while done < draws:
        r = min(chunk, draws - done)
        D = np.zeros((r, L.shape[1]), dtype=np.float64)
        for P, nb, B, Zg in parts:
            choice = rng.integers(0, P.shape[0], size=(r, nb))
            D += P[choice].reshape(r, nb * B) @ Zg
        hits += int(((D**2).sum(axis=1) >= tol).sum())
        done += r
    out.update(statistic=T, rank=rank, p_value=(hits + 1) / (draws + 1), method="monte carlo",
               draws=draws)
    return out


def randomisation_omnibus(tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """One randomisation omnibus row per programme (and pooled) × factor.

    Parameters
    ----------
    tidy : DataFrame
        The tidy table (everyone assigned who did not withdraw, as the balance table).
    plan : Plan
        Covariates, the seed (``[randomisation_inference] seed``) and the draws
        (``[balance] draws``, default 1000).

    Returns
    -------
    DataFrame
        Rows in the balance table's columns: covariate ``omnibus``, level naming the test,
        statistic = d², df1 = rank of S, p_value, note (method and draws).
    """
    draws = int(plan.raw.get("balance", {}).get("draws", DEFAULT_DRAWS))
    base = tidy[tidy["assigned"].fillna(False).astype(bool)
                & ~tidy["withdrawn"].fillna(False).astype(bool)]
    rows = []
    k = 0
    for prog in ("pooled", *EFFECT_PROGRAMMES):
        d = base[base["programme"].isin(EFFECT_PROGRAMMES)] if prog == "pooled" else base[base["programme"] == prog]
        d = d[d[list(FACTORS)].notna().all(axis=1)]
        X = covariate_matrix(d, plan.numeric_covariates, plan.categorical_covariates, every_level=True)
        blocks = block_ids(d)
        for factor in FACTORS:
            k += 1
            t = treatment(d, factor)
            res = d2_test(X, t, blocks, draws=draws, seed=plan.ri_seed + 1000 + k,
                          work_limit=WORK_LIMIT)
            note = res["note"] or f"{res['method']}, {res['draws']} re-randomisations within blocks"
            rows.append(dict(programme=prog, factor=factor, covariate="omnibus", level=LEVEL,
                             mean_treated=np.nan, mean_control=np.nan, std_diff=np.nan,
                             n_treated=int(t.sum()), n_control=int(len(t) - t.sum()),
                             statistic=res["statistic"], df1=res["rank"], df2=np.nan,
                             p_value=res["p_value"], note=note))
    return pd.DataFrame(rows)


def add_randomisation_omnibus(balance: pd.DataFrame, tidy: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """The balance table with the randomisation omnibus rows after each programme's rows.

    Parameters
    ----------
    balance : DataFrame
        :func:`analysis.measurement.balance`'s output.
    tidy : DataFrame
        The tidy table.
    plan : Plan
        The analysis plan.
    """
    new = randomisation_omnibus(tidy, plan)
    return pd.concat([balance, new], ignore_index=True)


def balance_section(balance: pd.DataFrame, table) -> str:
    """The report section (HTML): the randomisation omnibus tests.

    Parameters
    ----------
    balance : DataFrame
        The balance table with the randomisation rows.
    table : callable
        The report's DataFrame-to-HTML function.
    """
    r = balance[(balance.covariate == "omnibus") & (balance.level == LEVEL)]
    return "\n".join([
        "<h2>Balance: randomisation omnibus test (read this one)</h2>",
        "<p>Hansen &amp; Bowers' d²: the within-block covariate differences between arms, "
        "standardised by their exact covariance under re-randomisation, and its p-value from "
        "re-randomising each factor's labels within the real blocks (the assignment's own "
        "scheme). Unlike the HC2 Wald F below, its level does not depend on large-sample "
        "approximations that sparse categories break. <code>df1</code> is the rank of the "
        "covariance (the df of the chi-square approximation, not used).</p>",
        table(r[["programme", "factor", "statistic", "df1", "p_value", "n_treated", "n_control",
                 "note"]]),
    ])
