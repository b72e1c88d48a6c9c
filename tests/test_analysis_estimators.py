"""Estimators against independent references: the published sleep example, textbook
formulas by hand, statsmodels (HC2 with use_t=True) and pingouin (unrounded)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from hypothesis import given, settings, strategies as st
from scipy import stats

from analysis import estimators as est
from analysis.contract import EFFECT_COLUMNS
from analysis_fixtures import SLEEP_GROUP1, SLEEP_GROUP2, design_frame


def test_lm_robust_hc2_reproduces_estimatr_sleep_example():
    # estimatr: lm_robust(extra ~ group, data = sleep): 1.58, SE 0.8490910, df 18, p 0.07918671
    y = np.r_[SLEEP_GROUP1, SLEEP_GROUP2]
    X = np.column_stack([np.ones(20), np.r_[np.zeros(10), np.ones(10)]])
    beta, cov, df = est.ols_hc2(X, y)
    se = np.sqrt(cov[1, 1])
    assert beta[1] == pytest.approx(1.58, abs=1e-12)
    assert se == pytest.approx(0.8490910, abs=5e-8)
    assert df == 18
    assert 2 * stats.t.sf(beta[1] / se, df) == pytest.approx(0.07918671, abs=5e-9)


def test_difference_in_means_on_sleep_uses_welch_df():
    est_, se, df = est.welch(SLEEP_GROUP2, SLEEP_GROUP1)
    ref = stats.ttest_ind(SLEEP_GROUP2, SLEEP_GROUP1, equal_var=False)
    assert est_ == pytest.approx(1.58)
    assert se == pytest.approx(0.8490910, abs=5e-8)  # Neyman SE = HC2 SE
    assert df == pytest.approx(ref.df, rel=1e-12)  # 17.776 (R's t.test), not 18
    assert df == pytest.approx(17.77647, abs=1e-5)
    frame = design_frame(np.r_[SLEEP_GROUP2, SLEEP_GROUP1], "nursing",
                         np.r_[["trust"] * 10, ["control"] * 10])
    row = est.difference_in_means(frame, "attractiveness", "manager", ["nursing"]).iloc[0]
    assert row.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert list(row.index) == list(EFFECT_COLUMNS)


def _sm_hc2(y, X):
    return sm.OLS(y, X).fit(cov_type="HC2", use_t=True)


def _study(seed, n=240, progs=("nursing", "teacher", "management")):
    rng = np.random.default_rng(seed)
    prog = rng.choice(progs, size=n)
    m = rng.choice(["trust", "control"], size=n)
    p = rng.choice(["same", "other"], size=n)
    y = 4 + 0.5 * (m == "trust") - 0.3 * (p == "other") + rng.normal(0, 1 + (prog == "teacher"), n)
    d = design_frame(np.round(y * 4) / 4, prog, m, p)
    d["psm"] = rng.normal(5, 1, n)
    d["year_of_study"] = rng.integers(1, 5, n)
    d["age_band"] = rng.choice(["le21", "22_24", "25_29"], size=n)
    return d


def test_lin_matches_statsmodels_interacted_regression_with_hc2():
    d = _study(1)
    rows = est.lin(d, "attractiveness", "manager", ["psm", "year_of_study"], ["age_band"],
                   programmes=["nursing"])
    s = d[d.programme == "nursing"]
    t = (s.manager == "trust").to_numpy(float)
    Xc = np.column_stack([s.psm, s.year_of_study, s.age_band == "25_29", s.age_band == "le21"]).astype(float)
    Xc -= Xc.mean(axis=0)
    X = np.column_stack([np.ones(len(s)), t, Xc, Xc * t[:, None]])
    ref = _sm_hc2(s.attractiveness.to_numpy(), X)
    r = rows.iloc[0]
    assert r.estimate == pytest.approx(ref.params[1], rel=1e-10)
    assert r.std_error == pytest.approx(ref.bse[1], rel=1e-10)
    assert r.df == ref.df_resid
    assert r.p_value == pytest.approx(ref.pvalues[1], rel=1e-8)


def test_factorial_matches_statsmodels_and_interaction_is_difference_of_conditional_effects():
    d = _study(2)
    rows = est.factorial(d, "attractiveness", programmes=["teacher"]).set_index("factor")
    s = d[d.programme == "teacher"]
    m = (s.manager == "trust").to_numpy(float) - 0.5
    p = (s.partner == "other").to_numpy(float) - 0.5
    ref = _sm_hc2(s.attractiveness.to_numpy(), np.column_stack([np.ones(len(s)), m, p, m * p]))
    for j, f in enumerate(["manager", "partner", "manager:partner"], start=1):
        assert rows.loc[f, "estimate"] == pytest.approx(ref.params[j], rel=1e-10)
        assert rows.loc[f, "std_error"] == pytest.approx(ref.bse[j], rel=1e-10)
        assert rows.loc[f, "p_value"] == pytest.approx(ref.pvalues[j], rel=1e-8)
        assert rows.loc[f, "df"] == ref.df_resid
    cm = s.groupby(["manager", "partner"]).attractiveness.mean()
    by_hand = (cm["trust", "other"] - cm["control", "other"]) - (cm["trust", "same"] - cm["control", "same"])
    assert rows.loc["manager:partner", "estimate"] == pytest.approx(by_hand, rel=1e-10)


def test_fixed_effects_matches_statsmodels_with_programme_dummies():
    d = _study(3)
    r = est.fixed_effects(d, "attractiveness", "manager", ["nursing", "teacher", "management"]).iloc[0]
    t = (d.manager == "trust").to_numpy(float)
    X = np.column_stack([np.ones(len(d)), t, d.programme == "teacher", d.programme == "management"]).astype(float)
    ref = _sm_hc2(d.attractiveness.to_numpy(), X)
    assert (r.estimate, r.std_error, r.df) == pytest.approx((ref.params[1], ref.bse[1], ref.df_resid), rel=1e-10)


def test_hedges_g_matches_hand_formula_and_unrounded_pingouin():
    x, y = SLEEP_GROUP2, SLEEP_GROUP1
    g, lo, hi = est.hedges_g(x, y)
    n1, n0 = len(x), len(y)
    sp = np.sqrt(((n1 - 1) * x.var(ddof=1) + (n0 - 1) * y.var(ddof=1)) / (n1 + n0 - 2))
    by_hand = (1 - 3 / (4 * (n1 + n0) - 9)) * (x.mean() - y.mean()) / sp
    assert g == pytest.approx(by_hand, rel=1e-12)
    assert g == pytest.approx(pg.compute_effsize(x, y, eftype="hedges"), rel=1e-12)
    ci = pg.compute_esci(g, nx=n1, ny=n0, eftype="hedges", decimals=12)
    assert (lo, hi) == pytest.approx(tuple(ci), abs=1e-11)
    # the sign is kept (pg.ttest would report |d|): control minus treated flips it
    assert est.hedges_g(y, x)[0] == pytest.approx(-g)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=25),
       st.lists(st.integers(1, 7), min_size=2, max_size=25))
def test_hc2_se_of_difference_in_means_equals_neyman(a, b):
    y1, y0 = np.array(a, float), np.array(b, float)
    if y1.var() + y0.var() == 0:
        return
    _, se, _ = est.welch(y1, y0)
    X = np.column_stack([np.ones(len(a) + len(b)), np.r_[np.ones(len(a)), np.zeros(len(b))]])
    _, cov, _ = est.ols_hc2(X, np.r_[y1, y0])
    neyman = np.sqrt(y1.var(ddof=1) / len(a) + y0.var(ddof=1) / len(b))
    assert se == pytest.approx(neyman, rel=1e-10)
    assert np.sqrt(cov[1, 1]) == pytest.approx(neyman, rel=1e-8)


def _random_blocked(data):
    J = data.draw(st.integers(2, 4))
    progs = ["nursing", "teacher", "management", "public_admin"][:J]
    rows = []
    for p in progs:
        n1 = data.draw(st.integers(2, 7))
        n0 = data.draw(st.integers(2, 7))
        ys = data.draw(st.lists(st.integers(1, 7), min_size=n1 + n0, max_size=n1 + n0))
        if len(set(ys[:n1])) < 2 or len(set(ys[n1:])) < 2:
            ys = ys[:n1 - 1] + [1 if ys[n1 - 1] != 1 else 7] + ys[n1:-1] + [1 if ys[-1] != 1 else 7]
        for k, yv in enumerate(ys):
            rows.append((p, "trust" if k < n1 else "control", float(yv)))
    d = pd.DataFrame(rows, columns=["programme", "manager", "attractiveness"])
    d["partner"] = "same"
    return d, progs


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_block_weighted_equals_saturated_regression_with_centred_dummies(data):
    d, progs = _random_blocked(data)
    r = est.block_weighted(d, "attractiveness", "manager", progs).iloc[0]
    t = (d.manager == "trust").to_numpy(float)
    D = np.column_stack([(d.programme == p).to_numpy(float) for p in progs[1:]])
    Dc = D - D.mean(axis=0)
    X = np.column_stack([np.ones(len(d)), t, Dc, Dc * t[:, None]])
    ref = _sm_hc2(d.attractiveness.to_numpy(), X)
    assert r.estimate == pytest.approx(ref.params[1], rel=1e-9, abs=1e-12)
    assert r.std_error == pytest.approx(ref.bse[1], rel=1e-8)
    assert r.df == len(d) - 2 * len(progs)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_heterogeneity_wald_f_equals_cochran_q_over_j_minus_1(data):
    d, progs = _random_blocked(data)
    res = est.heterogeneity(d, "attractiveness", "manager", progs)
    t = (d.manager == "trust").to_numpy(float)
    D = np.column_stack([(d.programme == p).to_numpy(float) for p in progs])
    X = np.column_stack([D, D * t[:, None]])  # a mean and an effect per programme
    ref = _sm_hc2(d.attractiveness.to_numpy(), X)
    J = len(progs)
    R = np.zeros((J - 1, 2 * J))
    for k in range(J - 1):
        R[k, J + k], R[k, J + k + 1] = 1, -1
    wald = ref.f_test(R)
    assert res["F"] == pytest.approx(float(np.squeeze(wald.fvalue)), rel=1e-8)
    assert res["F"] == pytest.approx(res["Q"] / (J - 1), rel=1e-12)
    assert res["df1"] == J - 1


def test_arm_with_one_person_is_flagged_not_estimable_not_dropped():
    d = design_frame([3, 4, 5, 6, 2], "nursing", ["trust", "trust", "trust", "trust", "control"])
    r = est.difference_in_means(d, "attractiveness", "manager", ["nursing", "teacher"])
    assert len(r) == 2
    assert np.isnan(r.estimate).all() and np.isnan(r.std_error).all()
    assert r.note.str.contains("not estimable").all()
    assert r.iloc[0].n_treated == 4 and r.iloc[0].n_control == 1
    pooled = est.block_weighted(d, "attractiveness", "manager", ["nursing", "teacher"]).iloc[0]
    assert np.isnan(pooled.estimate) and "not estimable" in pooled.note


def test_pooled_leaves_out_inestimable_programme_and_says_so():
    d = pd.concat([design_frame([3, 4, 5, 6, 2, 3], "nursing", ["trust"] * 3 + ["control"] * 3),
                   design_frame([3, 4, 5], "teacher", ["trust"] * 3)])
    r = est.block_weighted(d, "attractiveness", "manager", ["nursing", "teacher"]).iloc[0]
    nursing = est.difference_in_means(d, "attractiveness", "manager", ["nursing"]).iloc[0]
    assert r.estimate == pytest.approx(nursing.estimate)
    assert "teacher" in r.note


def test_docstring_examples_run():
    import doctest

    from analysis import inference
    for module in (est, inference):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
