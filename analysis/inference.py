"""Inference on top of the estimators: multiplicity, equivalence (TOST), randomisation.

References
----------
Holm, S. (1979). A simple sequentially rejective multiple test procedure.
  Scandinavian Journal of Statistics 6, 65-70.
Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. JRSS B 57, 289-300.
Schuirmann, D. J. (1987). A comparison of the two one-sided tests procedure and the power
  approach for assessing the equivalence of average bioavailability. J. Pharmacokinet.
  Biopharm. 15, 657-680.
Gerber, A. S. & Green, D. P. (2012). Field Experiments, ch. 3 (randomisation inference).
"""
from __future__ import annotations

import itertools
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats


# ---------------------------------------------------------------- multiplicity
def holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (NaN stays NaN, result at most 1).

    Examples
    --------
    >>> holm(np.array([0.01, 0.04, 0.03])).tolist()
    [0.03, 0.06, 0.06]
    """
    return _adjust_finite(p, lambda q: np.maximum.accumulate((len(q) - np.arange(len(q))) * q))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN, result at most 1).

    Examples
    --------
    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).tolist()
    [0.03, 0.04, 0.04]
    """
    return _adjust_finite(p, lambda q: np.minimum.accumulate((q * len(q) / np.arange(1, len(q) + 1))[::-1])[::-1])


def _adjust_finite(p, step) -> np.ndarray:
    """Apply an adjustment `step` (on the finite p-values sorted ascending) in place of
    the original order; NaN stays NaN, results capped at 1."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    if len(q) == 0:
        return out
    order = np.argsort(q, kind="stable")
    res = np.empty(len(q))
    res[order] = np.minimum(step(q[order]), 1.0)
    out[ok] = res
    return out


# ---------------------------------------------------------------- equivalence
def tost(estimate: float, std_error: float, df: float, sesoi: float, alpha: float = 0.05
         ) -> dict:
    """Two one-sided t tests of |effect| < sesoi (equivalence).

    Parameters
    ----------
    estimate : float
        The effect estimate.
    std_error : float
        Its standard error.
    df : float
        Degrees of freedom of the t reference distribution.
    sesoi : float
        The smallest effect size of interest (same units), > 0.
    alpha : float
        Level of each one-sided test.

    Returns
    -------
    dict
        ``p_lower`` (H0: effect <= -sesoi), ``p_upper`` (H0: effect >= sesoi),
        ``p_tost`` = max of the two, ``equivalent`` (p_tost < alpha) and the
        (1 - 2 alpha) interval ``ci90_low``, ``ci90_high``.
    """
    if (not (np.isfinite(estimate) and np.isfinite(std_error) and np.isfinite(df)
             and np.isfinite(sesoi)) or std_error <= 0):
        return dict(p_lower=np.nan, p_upper=np.nan, p_tost=np.nan, equivalent=pd.NA,
                    ci90_low=np.nan, ci90_high=np.nan)
    p_lower = float(stats.t.sf((estimate + sesoi) / std_error, df))
    p_upper = float(stats.t.cdf((estimate - sesoi) / std_error, df))
    crit = stats.t.ppf(1 - alpha, df)
    p = max(p_lower, p_upper)
    return dict(p_lower=p_lower, p_upper=p_upper, p_tost=p, equivalent=bool(p < alpha),
                ci90_low=estimate - crit * std_error, ci90_high=estimate + crit * std_error)


# ---------------------------------------------------------------- randomisation inference
@lru_cache(maxsize=4096)
def _arrangements(coefs: tuple[float, ...]) -> np.ndarray:
    """Distinct orderings of a multiset of coefficients (equally likely under a shuffle)."""
    if len(coefs) > 8:
        raise ValueError("blocks larger than 8 are not supported by randomisation inference")
    return np.array(sorted(set(itertools.permutations(coefs))), dtype=float).reshape(-1, len(coefs))


def _block_tables(y: np.ndarray, c: np.ndarray, blocks: np.ndarray):
    """Group blocks by their coefficient multiset; per group the table of block sums.

    For block b and arrangement a, table[b, a] = sum_i y_bi * A[a, i]: the block's
    contribution to the statistic if its labels were arranged as a.
    """
    order = np.lexsort((c, blocks))
    y, c, blocks = y[order], c[order], blocks[order]
    starts = np.flatnonzero(np.r_[True, blocks[1:] != blocks[:-1]])
    sizes = np.diff(np.r_[starts, len(blocks)])
    groups: dict[tuple, list[int]] = {}
    for s, m in zip(starts.tolist(), sizes.tolist()):
        key = tuple(np.round(c[s:s + m], 15).tolist())  # sorted within block by lexsort
        groups.setdefault(key, []).append(s)
    tables = []
    for key, ss in groups.items():
        A = _arrangements(key)
        m = len(key)
        idx = np.asarray(ss)[:, None] + np.arange(m)[None, :]
        tables.append(y[idx] @ A.T)  # (n_blocks_in_group, n_arrangements)
    return tables


def randomisation_test(y: np.ndarray, c: np.ndarray, blocks: np.ndarray, draws: int = 10_000,
                       seed: int = 1, exact_limit: int = 200_000,
                       progress: Callable[[float], None] | None = None) -> dict:
    """Randomisation inference for a linear statistic T = sum_i y_i c_i.

    The coefficients ``c`` belong to the assigned labels (e.g. 1/n1 for treated and
    -1/n0 for control gives the difference in means); re-randomising permutes them within
    each block, which re-runs the permuted-block assignment (every arrangement of a
    block's labels is equally likely; an incomplete block permutes among those present).

    Callers pass only people with the outcome observed, so the test is conditional on
    who answered; blocks left unbalanced by drop-out make the null mean E0[T] differ
    from 0, hence the two-sided p is taken about E0[T], not about 0.

    Each block's contribution depends only on which arrangement it draws, so the
    statistic is a sum of independent per-block draws from small tables (one row per
    block, one column per distinct arrangement). Blocks sharing a coefficient multiset
    share the arrangement matrix; one matrix product builds all their tables. Blocks
    with two arrangements (the pairs of the conditional 2x2 scheme) draw one random bit
    each, and their sum is one matrix-vector product.

    Parameters
    ----------
    y : array
        Outcomes (people with a missing outcome are left out before calling).
    c : array
        Each person's coefficient under the actual assignment.
    blocks : array of int
        Randomisation block of each person (session x stratum x block).
    draws : int
        Monte Carlo draws when exact enumeration is too large.
    seed : int
        Seed of NumPy's generator (same seed, same p-value).
    exact_limit : int
        Enumerate every assignment when there are at most this many.
    progress : callable, optional
        Called with the share done (0-1) during Monte Carlo draws.

    Returns
    -------
    dict
        ``statistic``, ``p_value`` (two-sided: |T - E0[T]| >= |T_obs - E0[T]|, with
        E0[T] the exact mean over re-randomisations), ``method`` ('exact' or
        'monte_carlo'), ``draws`` (assignments considered).
    """
    y = np.asarray(y, dtype=float)
    c = np.asarray(c, dtype=float)
    blocks = np.asarray(blocks)
    observed = float(y @ c)
    tables = _block_tables(y, c, blocks)
    centre = float(sum(t.mean(axis=1).sum() for t in tables))
    tol = 1e-9 * max(1.0, abs(observed - centre))
    obs_dev = abs(observed - centre) - tol
    log_count = sum(np.log(t.shape[1]) * t.shape[0] for t in tables)
    if exact_limit > 0 and log_count <= np.log(exact_limit):
        dist = np.zeros(1)
        for t in tables:
            for row in t:
                dist = (dist[:, None] + row[None, :]).ravel()
        p = float(np.mean(np.abs(dist - centre) >= obs_dev))
        return dict(statistic=observed, p_value=p, method="exact", draws=int(dist.size))
    rng = np.random.default_rng(seed)
    total_blocks = sum(t.shape[0] for t in tables)
    chunk = max(1, min(draws, int(4_000_000 // max(1, total_blocks))))
    hits = 0
    done = 0
    while done < draws:
        k = min(chunk, draws - done)
        sims = np.zeros(k)
        for t in tables:
            nb, K = t.shape
            if K == 1:
                sims += t[:, 0].sum()
                continue
            if K == 2:  # pairs (the 2x2's conditional scheme): one random bit per block
                bits = np.unpackbits(rng.integers(0, 256, size=(k, (nb + 7) // 8), dtype=np.uint8),
                                     axis=1, count=nb)
                sims += t[:, 0].sum() + bits @ (t[:, 1] - t[:, 0])
                continue
            flat = t.ravel()
            pick = rng.integers(0, K, size=(k, nb), dtype=np.int32)
            pick += (np.arange(nb, dtype=np.int32) * K)[None, :]
            sims += np.take(flat, pick).sum(axis=1)
        hits += int(np.count_nonzero(np.abs(sims - centre) >= obs_dev))
        done += k
        if progress is not None:
            progress(done / draws)
    return dict(statistic=observed, p_value=(hits + 1) / (draws + 1), method="monte_carlo",
                draws=int(draws))


def difference_coefficients(treated: np.ndarray, groups: np.ndarray | None = None,
                            weights: dict | None = None) -> np.ndarray:
    """Coefficients that make sum(y * c) a (block-weighted) difference in means.

    With ``groups`` (programmes) and ``weights`` (programme -> N_j / N) the statistic is
    sum_j w_j (mean_treated_j - mean_control_j), the block-weighted estimate.

    Parameters
    ----------
    treated : array of bool
        Each person's arm (True = treated).
    groups : array, optional
        Each person's programme, for the block-weighted statistic.
    weights : dict, optional
        Programme -> N_j / N (with ``groups``).
    """
    treated = np.asarray(treated, dtype=bool)
    if groups is None:
        groups = np.zeros(len(treated), dtype=int)
        weights = {0: 1.0}
    c = np.zeros(len(treated))
    for g, w in weights.items():
        sel = groups == g
        n1 = int((sel & treated).sum())
        n0 = int((sel & ~treated).sum())
        if n1 == 0 or n0 == 0:
            continue
        c[sel & treated] = w / n1
        c[sel & ~treated] = -w / n0
    return c


def loop_randomisation_baseline(y: np.ndarray, c: np.ndarray, blocks: np.ndarray, draws: int,
                                seed: int = 1) -> np.ndarray:
    """The plain-Python reference: shuffle each block's coefficients, draw by draw.

    Used by the benchmark and tests only (slow by design).

    Parameters
    ----------
    y : array
        Outcomes.
    c : array
        Each person's coefficient under the actual assignment.
    blocks : array
        Randomisation block of each person.
    draws : int
        Number of re-randomisations.
    seed : int
        Seed of Python's generator.
    """
    import random

    rnd = random.Random(seed)
    members: dict = {}
    for i, b in enumerate(np.asarray(blocks).tolist()):
        members.setdefault(b, []).append(i)
    ylist = np.asarray(y, dtype=float).tolist()
    clist = np.asarray(c, dtype=float).tolist()
    groups = [([ylist[i] for i in idx], [clist[i] for i in idx]) for idx in members.values()]
    out = np.empty(draws)
    for d in range(draws):
        total = 0.0
        for ys, cs in groups:
            perm = cs[:]
            rnd.shuffle(perm)
            total += sum(a * b for a, b in zip(ys, perm))
        out[d] = total
    return out
