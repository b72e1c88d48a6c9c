"""Reliability, balance and flow against hand formulas, pingouin and statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from scipy import stats
from statsmodels.multivariate.factor import Factor

from analysis.measurement import balance, cronbach_alpha, flow, mcdonald_omega, reliability
from analysis_fixtures import tidy_study


def _items(n=400, k=4, seed=1):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n)
    lam = np.linspace(0.5, 0.85, k)
    return np.clip(np.rint(4 + 1.2 * (f[:, None] * lam + rng.normal(size=(n, k)) * np.sqrt(1 - lam**2))), 1, 7)


def test_cronbach_alpha_matches_hand_formula_and_pingouin():
    X = _items()
    a, lo, hi = cronbach_alpha(X)
    k = X.shape[1]
    by_hand = k / (k - 1) * (1 - X.var(axis=0, ddof=1).sum() / X.sum(axis=1).var(ddof=1))
    ref_a, ref_ci = pg.cronbach_alpha(pd.DataFrame(X))
    assert a == pytest.approx(by_hand, rel=1e-12)
    assert a == pytest.approx(ref_a, rel=1e-12)
    assert (lo, hi) == pytest.approx(tuple(ref_ci), abs=5e-4)  # pingouin rounds to 3 decimals
    assert lo < a < hi


def test_omega_from_ml_loadings_equals_statsmodels_factor_fit():
    X = _items(n=800, k=5, seed=2)
    lam = np.abs(Factor(X, n_factor=1, method="ml").fit().loadings.ravel())
    ref = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert mcdonald_omega(X) == pytest.approx(ref, abs=2e-4)


def test_omega_with_three_items_uses_the_exact_just_identified_loadings():
    X = _items(n=600, k=3, seed=3)
    r = np.corrcoef(X, rowvar=False)
    lam = np.sqrt([r[0, 1] * r[0, 2] / r[1, 2], r[0, 1] * r[1, 2] / r[0, 2], r[0, 2] * r[1, 2] / r[0, 1]])
    ref = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert mcdonald_omega(X) == pytest.approx(ref, abs=1e-4)


def test_reliability_reports_every_scale_and_programme(tmp_path):
    rel = reliability(tidy_study(800, tmp_path=tmp_path))
    assert set(rel.scale) == {"psm", "attractiveness", "trust_manager", "collaboration", "autonomy"}
    assert (rel.alpha_ci_low < rel.alpha).all() and (rel.alpha < rel.alpha_ci_high).all()
    assert rel.omega.between(0, 1).all()


def test_balance_standardised_difference_and_omnibus_match_hand_and_statsmodels(tmp_path):
    tidy = tidy_study(900, tmp_path=tmp_path)
    bal = balance(tidy, ("psm",), ("gender",))
    d = tidy[tidy.assigned.astype(bool) & (tidy.programme == "nursing")]
    t = (d.manager == "trust").to_numpy()
    x = d.psm.to_numpy(float)
    x1, x0 = x[t & np.isfinite(x)], x[~t & np.isfinite(x)]
    by_hand = (x1.mean() - x0.mean()) / np.sqrt((x1.var(ddof=1) + x0.var(ddof=1)) / 2)
    row = bal[(bal.programme == "nursing") & (bal.factor == "manager") & (bal.covariate == "psm")].iloc[0]
    assert row.std_diff == pytest.approx(by_hand, rel=1e-12)
    g = d.gender.astype("str").fillna("(missing)")
    levels = sorted(g.unique())[1:]
    xs = np.where(np.isfinite(x), x, np.nanmean(x))
    cols = [xs] + ([(~np.isfinite(x)).astype(float)] if (~np.isfinite(x)).any() else [])
    cols += [(g == lev).to_numpy(float) for lev in levels]
    X = sm.add_constant(np.column_stack(cols))
    ref = sm.OLS(t.astype(float), X).fit(cov_type="HC2", use_t=True)
    R = np.eye(X.shape[1])[1:]
    omni = bal[(bal.programme == "nursing") & (bal.factor == "manager") & (bal.covariate == "omnibus")].iloc[0]
    assert omni.statistic == pytest.approx(float(np.squeeze(ref.f_test(R).fvalue)), rel=1e-8)
    assert omni.p_value == pytest.approx(float(ref.f_test(R).pvalue), rel=1e-6)


def test_flow_counts_stages_and_tests_differential_attrition():
    rows = []
    for k in range(40):  # nursing: trust/same loses 6 of 10, the others lose 1 of 10
        m, p = [("trust", "same"), ("trust", "other"), ("control", "same"), ("control", "other")][k % 4]
        done = not (k // 4 < (6 if (m, p) == ("trust", "same") else 1))
        rows.append(dict(consented=True, assigned=True, completed=done, withdrawn=False,
                         programme="nursing", manager=m, partner=p,
                         last_page="Debrief" if done else "Outcomes"))
    rows += [dict(consented=False, assigned=False, completed=False, withdrawn=False,
                  programme=None, manager=None, partner=None, last_page="Consent")] * 5
    rows += [dict(consented=None, assigned=None, completed=None, withdrawn=True,
                  programme=None, manager=None, partner=None, last_page=None)] * 2
    fl = flow(pd.DataFrame(rows))
    top = fl.iloc[0]
    assert (top.opened, top.consented, top.assigned, top.completed, top.withdrawn) == (47, 40, 40, 31, 2)
    cell = fl[(fl.programme == "nursing") & (fl.manager == "trust") & (fl.partner == "same")].iloc[0]
    assert (cell.assigned, cell.completed, cell.left_at) == (10, 4, "Outcomes: 6")
    allarms = fl[(fl.programme == "nursing") & (fl.manager == "all arms")].iloc[0]
    chi2, p, dof, _ = stats.chi2_contingency([[4, 6], [9, 1], [9, 1], [9, 1]], correction=False)
    assert allarms.attrition_chi2 == pytest.approx(chi2) and allarms.attrition_p == pytest.approx(p)
    assert allarms.attrition_df == dof == 3
