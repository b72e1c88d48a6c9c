"""The seed project's questions: Wilson intervals against statsmodels' proportion_confint,
chi-square tests against scipy, the future-managers contrast against statsmodels OLS with
HC2, BH against statsmodels' multipletests, realism means against a t interval by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from analysis import questions as Q
from analysis.plan import load_plan
from analysis_fixtures import tidy_study

PLAN = load_plan()


@pytest.fixture(scope="module")
def tidy(tmp_path_factory):
    return tidy_study(n=1500, seed=12, tmp_path=tmp_path_factory.mktemp("q"))


@pytest.mark.parametrize("count,n", [(0, 10), (3, 10), (10, 10), (17, 123), (1, 1)])
def test_wilson_matches_statsmodels(count, n):
    lo, hi = Q.wilson_interval(count, n)
    ref = proportion_confint(count, n, alpha=0.05, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)


def test_taught_table_shares_and_intervals(tidy):
    t = Q.taught_table(tidy)
    base = tidy[tidy.assigned.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)
                & tidy.taught_tbm.notna()]
    assert set(t.site) == {"all", *base.site.dropna().unique()}  # the study has two sites
    for prog in ("nursing", "management"):
        d = base[base.programme == prog]
        for level in Q.TAUGHT_LEVELS:
            r = t[(t.programme == prog) & (t.site == "all") & (t.answer == level)].iloc[0]
            c = int((d.taught_tbm == level).sum())
            assert (r["count"], r.n) == (c, len(d))
            assert (r.ci_low, r.ci_high) == pytest.approx(proportion_confint(c, len(d), method="wilson"))
    s = t[(t.programme == "all") & (t.site == "all")]
    assert s.share.sum() == pytest.approx(1.0)


def test_taught_by_arm_is_pearson_chi_square(tidy):
    t = Q.taught_by_arm(tidy)
    base = tidy[tidy.assigned.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)
                & tidy.taught_tbm.notna()]
    total = 0.0
    for prog in ("nursing", "teacher", "management", "public_admin"):
        d = base[base.programme == prog]
        chi2, p, dof, _ = stats.chi2_contingency(pd.crosstab(d.taught_tbm, d.manager), correction=False)
        r = t[(t.programme == prog) & (t.factor == "manager")].iloc[0]
        assert (r.chi2, r.p_value, r.df) == pytest.approx((chi2, p, dof))
        total += chi2
    pooled = t[(t.programme == "pooled") & (t.factor == "manager")].iloc[0]
    assert pooled.chi2 == pytest.approx(total)
    assert pooled.p_value == pytest.approx(stats.chi2.sf(total, pooled.df))


def test_future_managers_contrast_matches_statsmodels_hc2(tidy):
    fm = Q.future_managers(tidy, PLAN)
    d = tidy[tidy.assigned.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)
             & tidy.programme.isin(["nursing", "teacher", "management", "public_admin"])]
    for outcome, factor, treated in (("attractiveness", "manager", "trust"),
                                     ("collaboration", "partner", "other")):
        m = d[d[outcome].notna()].assign(t=lambda x: (x[factor] == treated).astype(float))
        fit = smf.ols(f"{outcome} ~ 0 + C(programme) + C(programme):t", data=m).fit(cov_type="HC2",
                                                                                    use_t=True)
        n = m.programme.value_counts()
        c = np.zeros(len(fit.params))
        for progs, sign in ((("management", "public_admin"), 1), (("nursing", "teacher"), -1)):
            tot = sum(n[p] for p in progs)
            for p in progs:
                c[list(fit.params.index).index(f"C(programme)[{p}]:t")] = sign * n[p] / tot
        tt = fit.t_test(c)
        r = fm[(fm.outcome == outcome) & (fm.factor == factor)].iloc[0]
        assert r.estimate == pytest.approx(float(tt.effect[0]), rel=1e-10)
        assert r.std_error == pytest.approx(float(tt.sd[0, 0]), rel=1e-10)
        assert r.df == fit.df_resid
        assert r.p_value == pytest.approx(float(tt.pvalue), rel=1e-8)
    assert fm.p_adjusted.to_numpy() == pytest.approx(
        multipletests(fm.p_value.to_numpy(), method="fdr_bh")[1])


def test_effects_by_taught_use_the_block_weighted_estimator(tidy):
    from analysis import estimators as est
    by = Q.by_taught(tidy, PLAN)
    s = est.analysis_sample(tidy)
    ref = est.block_weighted(s[s.taught_tbm == "much"], "trust_manager", "manager").iloc[0]
    r = by[(by.taught_tbm == "much") & (by.outcome == "trust_manager") & (by.factor == "manager")].iloc[0]
    assert r.estimate == pytest.approx(ref.estimate) and r.std_error == pytest.approx(ref.std_error)
    ok = by.p_value.notna().to_numpy()
    assert by.p_adjusted.to_numpy()[ok] == pytest.approx(
        multipletests(by.p_value.to_numpy()[ok], method="fdr_bh")[1])


def test_realism_means_by_arm(tidy):
    r = Q.realism_table(tidy, PLAN)
    s = tidy[tidy.assigned.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)
             & tidy.programme.isin(["nursing", "teacher", "management", "public_admin"])]
    y = s.loc[(s.manager == "trust") & (s.partner == "other"), "realism"].dropna().to_numpy(float)
    row = r[(r.kind == "mean") & (r.manager == "trust") & (r.partner == "other")].iloc[0]
    lo, hi = stats.t.interval(0.95, len(y) - 1, loc=y.mean(), scale=stats.sem(y))
    assert (row.estimate, row.ci_low, row.ci_high, row.n) == pytest.approx((y.mean(), lo, hi, len(y)))
    assert r.kind.str.startswith("effect").sum() == 2


def test_section_renders(tidy):
    t = Q.questions_tables(tidy, PLAN)
    h = Q.questions_section(t, lambda df: df.to_html(), lambda fig: "<img>")
    for title in ("Teaching on trust-based management", "future managers", "Realism"):
        assert title in h


def test_taught_by_arm_randomisation_p_is_the_d2_test_on_the_answer_indicators(tidy):
    from analysis.balance_ri import d2_test
    from analysis.effects import block_ids
    t = Q.taught_by_arm(tidy, draws=500, seed=3)
    base = tidy[tidy.assigned.fillna(False).astype(bool) & ~tidy.withdrawn.fillna(False).astype(bool)
                & tidy.taught_tbm.notna()]
    d = base[base.programme == "teacher"]
    X = np.column_stack([(d.taught_tbm == lev).to_numpy(float) for lev in Q.TAUGHT_LEVELS])
    r = t[(t.programme == "teacher") & (t.factor == "manager")].iloc[0]
    k = t.index[(t.programme == "teacher") & (t.factor == "manager")][0]
    ref = d2_test(X, (d.manager == "trust").to_numpy(float), block_ids(d), draws=500, seed=3 + k)
    assert r.p_value_ri == pytest.approx(ref["p_value"])
    assert (t.p_value_ri.between(0, 1)).all()


def test_plot_copes_with_answers_nobody_gave():
    t = pd.DataFrame([dict(programme="all", site="all", answer=a, count=c, n=7, share=c / 7,
                           ci_low=Q.wilson_interval(c, 7)[0], ci_high=Q.wilson_interval(c, 7)[1])
                      for a, c in zip(Q.TAUGHT_LEVELS, (0, 7, 0, 0, 0))])
    Q.taught_plot(t)  # shares of exactly 0 and 1: no negative error bars
    assert Q.wilson_interval(0, 7)[0] == 0.0 and Q.wilson_interval(7, 7)[1] == 1.0
