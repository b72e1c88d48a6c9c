"""Lee (2009) bounds and Imbens-Manski intervals against a worked example computed by hand
from the paper's formulas, brute-force trimming of ties, and the trivial case of no
differential attrition (bounds = the block-weighted estimate)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import bounds as B
from analysis import estimators as est
from analysis.plan import load_plan

# Worked example: 10 assigned per arm; treated 8 observed (q1 = 0.8), control 6 (q0 = 0.6).
Y1 = np.array([9.0, 2, 11, 5, 4, 8, 7, 6])
Y0 = np.array([3.0, 8, 1, 6, 4, 5])


def test_worked_example_by_hand():
    b = B.lee_bounds_arm(Y1, 10, Y0, 10)
    # p = (0.8 - 0.6) / 0.8 = 1/4: trim 2 of the 8 treated outcomes.
    assert b["trim_share"] == pytest.approx(0.25)
    assert b["trimmed_arm"] == "treated"
    # lower: keep 2,4,5,6,7,8 (mean 32/6); upper: keep 5,6,7,8,9,11 (46/6); control mean 27/6.
    assert b["lower"] == pytest.approx(32 / 6 - 27 / 6)
    assert b["upper"] == pytest.approx(46 / 6 - 27 / 6)
    assert b["estimate"] == pytest.approx(52 / 8 - 27 / 6)
    # Lee (2009) Proposition 3, written out number by number:
    # lower bound: kept {2,4,5,6,7,8}, mean 16/3, population variance 70/18, quantile y_{0.75} = 8
    mu, s2, yq, p, k = 16 / 3, 70 / 18, 8.0, 0.25, 6.0
    var_p = 0.75**2 * (0.4 / (0.6 * 10) + 0.2 / (0.8 * 10))
    v_control = 29.5 / 5 / 6  # s^2 / m of the control arm
    v_lower = (s2 + p * (yq - mu) ** 2) / k + ((yq - mu) / (1 - p)) ** 2 * var_p + v_control
    assert b["var_lower"] == pytest.approx(v_lower, rel=1e-12)
    assert v_lower == pytest.approx(2.5796296, abs=1e-6)  # the same number, by calculator
    # upper bound: kept {5,6,7,8,9,11}, mean 23/3, quantile y_{0.25} = 5
    kept = np.array([5.0, 6, 7, 8, 9, 11])
    mu, s2, yq = 23 / 3, ((kept - 23 / 3) ** 2).mean(), 5.0
    v_upper = (s2 + p * (yq - mu) ** 2) / k + ((yq - mu) / (1 - p)) ** 2 * var_p + v_control
    assert b["var_upper"] == pytest.approx(v_upper, rel=1e-12)


def test_var_p_is_the_delta_method_variance_of_the_trimming_share():
    # p = 1 - q0 / q1; gradient (-1/q1, q0/q1^2); Var(q_d) = q_d (1 - q_d) / n_d.
    q1, q0, n1, n0 = 0.8, 0.6, 10, 10
    grad = np.array([q0 / q1**2, -1 / q1])
    V = np.diag([q1 * (1 - q1) / n1, q0 * (1 - q0) / n0])
    var_p = grad @ V @ grad
    p = 1 - q0 / q1
    assert var_p == pytest.approx((1 - p) ** 2 * ((1 - q0) / (q0 * n0) + (1 - q1) / (q1 * n1)))


def test_control_arm_trimmed_when_it_answers_more():
    # Swap arms: the treated arm now answers less; bounds are minus the swapped ones.
    b = B.lee_bounds_arm(Y0, 10, Y1, 10)
    a = B.lee_bounds_arm(Y1, 10, Y0, 10)
    assert b["trimmed_arm"] == "control"
    assert b["lower"] == pytest.approx(-a["upper"])
    assert b["upper"] == pytest.approx(-a["lower"])
    assert b["var_lower"] == pytest.approx(a["var_upper"])


def test_fractional_trimming_of_ties_equals_brute_force_on_replicated_data():
    rng = np.random.default_rng(3)
    y = rng.integers(1, 8, size=8).astype(float)  # discrete 1-7: ties
    p = 0.3  # keeps 5.6 of 8: not a whole number
    for keep in ("lower", "upper"):
        mu, var, _ = B.trimmed_mean(y, p, keep)
        big = np.sort(np.repeat(y, 5))  # 40 copies; 0.7 * 40 = 28 whole observations kept
        kept = big[:28] if keep == "lower" else big[-28:]
        assert mu == pytest.approx(kept.mean(), rel=1e-12)
        assert var == pytest.approx(kept.var(), rel=1e-12)


def test_imbens_manski_critical_value():
    lo, hi, c = B.imbens_manski(1.0, 1.0, 0.5, 0.5, 0.05)
    assert c == pytest.approx(stats.norm.ppf(0.975))  # point identified: the usual interval
    assert (lo, hi) == pytest.approx((1 - c * 0.5, 1 + c * 0.5))
    lo, hi, c = B.imbens_manski(0.0, 100.0, 0.5, 0.4, 0.05)
    assert c == pytest.approx(stats.norm.ppf(0.95), abs=1e-9)  # wide set: one-sided
    _, _, c = B.imbens_manski(0.0, 0.5, 0.5, 0.4, 0.05)
    # c solves Phi(c + Delta / max sigma) - Phi(-c) = 0.95: check on a fine grid
    grid = np.linspace(1.6, 2.0, 400001)
    g = grid[np.argmin(np.abs(stats.norm.cdf(grid + 1.0) - stats.norm.cdf(-grid) - 0.95))]
    assert c == pytest.approx(g, abs=2e-6)


def _frame(rng, missing_t, missing_c, n_arm=40):
    rows = []
    for prog, shift in zip(("nursing", "teacher", "management", "public_admin"), (0, 1, 2, 3)):
        for arm, miss in (("trust", missing_t), ("control", missing_c)):
            y = rng.normal(4 + shift + (0.5 if arm == "trust" else 0), 1, n_arm)
            y[:miss[prog]] = np.nan
            for k in range(n_arm):
                rows.append(dict(programme=prog, manager=arm, partner="same" if k % 2 else "other",
                                 assigned=True, withdrawn=False, attractiveness=y[k],
                                 session_code="s1"))
    return pd.DataFrame(rows)


def test_no_differential_attrition_bounds_collapse_to_the_block_weighted_estimate():
    rng = np.random.default_rng(8)
    miss = {"nursing": 4, "teacher": 0, "management": 7, "public_admin": 2}
    d = _frame(rng, miss, miss)  # same response share in both arms of every programme
    rows = B.lee_bounds(d, "attractiveness", "manager")
    pooled = rows[-1]
    ref = est.block_weighted(d[d.attractiveness.notna()], "attractiveness", "manager").iloc[0]
    assert pooled["lower"] == pytest.approx(ref.estimate, abs=1e-12)
    assert pooled["upper"] == pytest.approx(ref.estimate, abs=1e-12)
    assert pooled["estimate"] == pytest.approx(ref.estimate, abs=1e-12)
    assert all(r["trim_share"] == 0 for r in rows[:-1])
    assert pooled["attrition_p"] == pytest.approx(1.0)  # identical rates: chi-square 0


def test_differential_attrition_widens_the_bounds_and_is_detected():
    rng = np.random.default_rng(9)
    d = _frame(rng, {p: 0 for p in ("nursing", "teacher", "management", "public_admin")},
               {p: 12 for p in ("nursing", "teacher", "management", "public_admin")})
    pooled = B.lee_bounds(d, "attractiveness", "manager")[-1]
    assert pooled["lower"] < pooled["estimate"] < pooled["upper"]
    assert pooled["ci_low"] < pooled["lower"] and pooled["ci_high"] > pooled["upper"]
    # 4 programmes x 2x2 table, 0/40 vs 12/40 missing: chi-square by formula, summed
    one = stats.chi2_contingency(np.array([[40, 0], [28, 12]]), correction=False)[0]
    assert pooled["attrition_chi2"] == pytest.approx(4 * one)
    assert pooled["attrition_df"] == 4


def test_bounds_table_follows_the_plan():
    rng = np.random.default_rng(1)
    d = _frame(rng, {p: 3 for p in ("nursing", "teacher", "management", "public_admin")},
               {p: 5 for p in ("nursing", "teacher", "management", "public_admin")})
    d["trust_manager"] = d["attractiveness"]
    d["collaboration"] = d["attractiveness"]
    d["autonomy"] = d["attractiveness"]
    plan = load_plan()
    t = B.bounds_table(d, plan)
    pairs = [(o, f) for _, o, f in plan.confirmatory if f != "manager:partner"]
    assert list(t[t.programme == "pooled"][["outcome", "factor"]].itertuples(index=False, name=None)) == pairs
    assert "<h2>" in B.bounds_section(t, lambda df: df.to_html(), plan)


def test_preregistration_describes_the_bounds():
    from analysis.prereg import render_markdown
    plan = load_plan()
    assert B.prereg_lines(plan)[0] in render_markdown(plan)
