"""Session x programme fixed effects and the across-sessions heterogeneity test, against
statsmodels OLS with HC2 (use_t) and its Wald test."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from analysis import sessions as S
from analysis.plan import load_plan


def _study(seed=4, session_effects=(0.0, 0.0, 0.0)):
    rng = np.random.default_rng(seed)
    rows = []
    for si, extra in enumerate(session_effects):
        for prog, base in (("nursing", 4.0), ("teacher", 4.5), ("management", 5.0)):
            n = int(rng.integers(18, 30))
            t = rng.permutation(np.arange(n) % 2)
            y = base + si * 0.3 + t * (0.4 + extra) + rng.normal(0, 1, n)
            y[rng.random(n) < 0.1] = np.nan
            for k in range(n):
                rows.append(dict(session_code=f"s{si}", programme=prog, assigned=True,
                                 withdrawn=False, manager="trust" if t[k] else "control",
                                 partner="same" if k % 3 else "other", attractiveness=y[k]))
    return pd.DataFrame(rows)


def test_session_fixed_effects_match_statsmodels_hc2():
    d = _study()
    row = S.session_fixed_effects(d, "attractiveness", "manager").iloc[0]
    m = d.dropna(subset=["attractiveness"]).assign(t=lambda x: (x.manager == "trust").astype(float),
                                                   cell=lambda x: x.session_code + x.programme)
    fit = smf.ols("attractiveness ~ t + C(cell)", data=m).fit(cov_type="HC2", use_t=True)
    assert row.estimate == pytest.approx(fit.params["t"], rel=1e-10)
    assert row.std_error == pytest.approx(fit.bse["t"], rel=1e-10)
    assert row.df == fit.df_resid
    assert row.p_value == pytest.approx(fit.pvalues["t"], rel=1e-8)
    lo, hi = fit.conf_int().loc["t"]
    assert (row.ci_low, row.ci_high) == pytest.approx((lo, hi), rel=1e-10)
    assert row.adjustment == "robustness"


@pytest.mark.parametrize("effects", [(0.0, 0.0, 0.0), (0.0, 1.0, -1.0)])
def test_session_heterogeneity_is_the_nested_f_test_of_statsmodels(effects):
    d = _study(seed=7, session_effects=effects)
    res = S.session_heterogeneity(d, "attractiveness", "manager")
    m = d.dropna(subset=["attractiveness"]).assign(t=lambda x: (x.manager == "trust").astype(float),
                                                   cell=lambda x: x.session_code + "_" + x.programme)
    full = smf.ols("attractiveness ~ 0 + C(cell) + C(cell):t", data=m).fit()
    restricted = smf.ols("attractiveness ~ 0 + C(cell) + C(programme):t", data=m).fit()
    F, p, df1 = full.compare_f_test(restricted)
    assert res["df1"] == df1 == 6
    assert res["df2"] == full.df_resid
    assert res["F"] == pytest.approx(F, rel=1e-9)
    assert res["p_value"] == pytest.approx(p, rel=1e-7)
    assert res["test"].startswith("classical F")
    if effects[1]:
        assert res["p_value"] < 0.01


def test_session_heterogeneity_keeps_its_size_with_small_session_cells():
    # 12 sessions x 2 programmes, 3 people per arm and cell, no heterogeneity by construction:
    # the rejection rate at 5% is within Monte Carlo error (3 SE) of 5%.
    rng = np.random.default_rng(11)
    sims, hits = 600, 0
    sess = np.repeat(np.arange(12), 12)
    prog = np.tile(np.repeat(["nursing", "teacher"], 6), 12)
    t = np.tile(np.r_[np.ones(3), np.zeros(3)], 24)
    base = pd.DataFrame(dict(session_code=sess.astype(str), programme=prog, assigned=True,
                             withdrawn=False, manager=np.where(t == 1, "trust", "control")))
    for _ in range(sims):
        y = 4 + 0.5 * t + rng.normal(0, 0.7, 12)[sess] + rng.normal(0, 1, len(t))
        hits += S.session_heterogeneity(base.assign(attractiveness=y), "attractiveness",
                                        "manager")["p_value"] < 0.05
    rate = hits / sims
    assert abs(rate - 0.05) < 3 * np.sqrt(0.05 * 0.95 / sims), rate


def test_rows_are_added_for_each_confirmatory_pair():
    d = _study()
    for c in ("trust_manager", "collaboration", "autonomy"):
        d[c] = d["attractiveness"]
    plan = load_plan()
    pairs = [(o, f) for _, o, f in plan.confirmatory if f != "manager:partner"]
    eff = S.add_session_rows(pd.DataFrame(columns=["outcome"]), d, plan)
    assert list(zip(eff.outcome, eff.factor)) == pairs
    het = S.add_session_heterogeneity(pd.DataFrame([dict(outcome="x", factor="manager")]), d, plan)
    assert list(het.across) == ["programmes"] + ["sessions"] * len(pairs)
    assert "<h2>" in S.sessions_section(eff, het, lambda df: df.to_html())


def test_one_session_is_not_estimable():
    d = _study(session_effects=(0.0,))
    res = S.session_heterogeneity(d, "attractiveness", "manager")
    assert np.isnan(res["p_value"]) and res["note"].startswith("not estimable")


def test_a_cell_of_one_person_is_left_out_and_named():
    d = _study()
    lone = d.iloc[[0]].assign(session_code="s9", attractiveness=9.0)
    row = S.session_fixed_effects(pd.concat([d, lone]), "attractiveness", "manager").iloc[0]
    ref = S.session_fixed_effects(d, "attractiveness", "manager").iloc[0]
    assert (row.estimate, row.std_error, row.df) == pytest.approx((ref.estimate, ref.std_error, ref.df))
    assert "one person" in row.note


def test_preregistration_describes_the_session_analyses():
    from analysis.prereg import render_markdown
    md = render_markdown(load_plan())
    assert S.prereg_lines()[0] in md
