"""The numeric core of the estimators: moments, the difference in means with its Neyman
(= HC2) standard error and Welch df, and t intervals.

Shared by :mod:`analysis.estimators` (the report, the design diagnosis) and the app's
class results page (``collab_experiment/class_results.py``), so a class sees the very
numbers ``python -m analysis report`` computes. Imports only NumPy and
``scipy.special`` (the t distribution's quantile and tail, which ``scipy.stats.t``
itself calls): no pandas, no ``scipy.stats``, so the oTree app stays light.

Functions take plain sequences or NumPy arrays; the ``*_arrays`` / vectorised ones work
along the last axis, so the design diagnosis estimates thousands of simulated studies
at once.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import special

ALPHA = 0.05


def arm_moments(y: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and unbiased variance of ``y`` where ``mask``, along the last axis.

    Parameters
    ----------
    y : array
        Outcomes; may be (simulations, people): the design diagnosis passes thousands
        of simulated studies at once, the report one study.
    mask : array of bool
        Who belongs to the group, broadcastable against ``y``.

    Returns
    -------
    n, mean, var : arrays
        Mean and variance are NaN below one and two observations.
    """
    y = np.asarray(y, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    n = mask.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, y, 0.0).sum(axis=-1) / n
        dev = np.where(mask, y - np.expand_dims(mean, -1), 0.0)
        var = (dev**2).sum(axis=-1) / (n - 1)
    mean = np.where(n >= 1, mean, np.nan)
    var = np.where(n >= 2, var, np.nan)
    return n, mean, var


def welch_arrays(n1, m1, v1, n0, m0, v0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference in means, Neyman (= HC2) SE and Welch df from arm moments (vectorised).

    Parameters
    ----------
    n1, m1, v1 : array-like
        Size, mean and unbiased variance of the treated arm.
    n0, m0, v0 : array-like
        The same for the control arm.

    Returns
    -------
    estimate, std_error, df : arrays
        NaN where either arm has fewer than two people; df NaN when both variances are 0.
    """
    n1, n0 = np.asarray(n1, dtype=float), np.asarray(n0, dtype=float)
    ok = (n1 >= 2) & (n0 >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        a, b = v1 / n1, v0 / n0
        se = np.sqrt(a + b)
        denom = a**2 / (n1 - 1) + b**2 / (n0 - 1)
        df = np.where(denom > 0, (a + b) ** 2 / denom, np.nan)
    est = np.where(ok, m1 - m0, np.nan)
    return est, np.where(ok, se, np.nan), np.where(ok, df, np.nan)


def t_critical(df, alpha: float = ALPHA):
    """The two-sided t critical value t_{1 - alpha/2, df} (``scipy.stats.t.ppf``'s own kernel).

    Parameters
    ----------
    df : float or array
        Degrees of freedom.
    alpha : float
        Two-sided level (0.05: a 95 % interval).
    """
    return special.stdtrit(df, 1 - alpha / 2)


def t_inference(est, se, df, alpha: float = ALPHA):
    """t interval and two-sided p-value from estimate, SE and df (vectorised).

    Parameters
    ----------
    est, se, df : float or array
        Estimate, standard error and degrees of freedom.
    alpha : float
        Two-sided level of the interval.

    Returns
    -------
    ci_low, ci_high, p_value : arrays
        NaN where the estimate, SE or df is not finite or the SE is 0.
    """
    est, se, df = (np.asarray(x, dtype=float) for x in (est, se, df))
    ok = np.isfinite(est) & np.isfinite(se) & np.isfinite(df) & (se > 0)
    df_ = np.where(ok, df, 1.0)
    se_ = np.where(ok, se, 1.0)
    crit = t_critical(df_, alpha)
    lo = np.where(ok, est - crit * se_, np.nan)
    hi = np.where(ok, est + crit * se_, np.nan)
    # the t upper tail at |t| (scipy.stats.t.sf's kernel)
    p = np.where(ok, 2 * special.stdtr(df_, -np.abs(np.where(ok, est, 0.0) / se_)), np.nan)
    return lo, hi, p


def welch(y1: Sequence[float], y0: Sequence[float]) -> tuple[float, float, float]:
    """Difference in means (y1 - y0) with Neyman (= HC2) standard error and Welch df.

    Parameters
    ----------
    y1, y0 : sequence of float
        Outcomes of the treated and the control group (no missing values).

    Returns
    -------
    estimate, std_error, df : float
        NaN when either group has fewer than two observations.
    """
    y1, y0 = np.asarray(y1, dtype=float), np.asarray(y0, dtype=float)
    m1 = arm_moments(y1, np.ones(len(y1), dtype=bool))
    m0 = arm_moments(y0, np.ones(len(y0), dtype=bool))
    est, se, df = welch_arrays(*m1, *m0)
    return float(est), float(se), float(df)


def difference_in_means(y1: Sequence[float], y0: Sequence[float], alpha: float = ALPHA) -> dict:
    """The difference in means of two groups with its t interval: the numbers of an
    effects row of ``analysis.estimators.difference_in_means`` for one programme.

    Parameters
    ----------
    y1, y0 : sequence of float
        Outcomes of the treated and the control group (no missing values).
    alpha : float
        Two-sided level of the interval.

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``df``, ``ci_low``, ``ci_high``, ``p_value``,
        ``n_treated``, ``n_control``; the interval (and SE, df) NaN when not estimable
        (an arm under two people, or no variation).
    """
    est, se, df = welch(y1, y0)
    lo, hi, p = (float(x) for x in t_inference(est, se, df, alpha))
    ok = np.isfinite(lo)
    return dict(estimate=est if np.isfinite(se) else float("nan"), std_error=se if ok else float("nan"),
                df=df if ok else float("nan"), ci_low=lo, ci_high=hi, p_value=p,
                n_treated=len(y1), n_control=len(y0))


def mean_interval(y: Sequence[float], alpha: float = ALPHA) -> dict:
    """The mean of one group with its t interval (mean +- t_{n-1} s / sqrt(n)).

    Parameters
    ----------
    y : sequence of float
        The group's outcomes (no missing values).
    alpha : float
        Two-sided level of the interval.

    Returns
    -------
    dict
        ``n``, ``mean``, ``std_error``, ``ci_low``, ``ci_high``; the interval NaN below
        two observations.
    """
    y = np.asarray(y, dtype=float)
    n, mean, var = (float(x) for x in arm_moments(y, np.ones(len(y), dtype=bool)))
    se = float(np.sqrt(var / n)) if n >= 2 else float("nan")
    if n >= 2:
        crit = float(t_critical(n - 1, alpha))
        lo, hi = mean - crit * se, mean + crit * se
    else:
        lo = hi = float("nan")
    return dict(n=int(n), mean=mean, std_error=se, ci_low=lo, ci_high=hi)
