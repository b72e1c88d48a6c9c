"""Lin's estimator under the plan's covariate rule: the estimate is statsmodels' OLS with
HC2 on the treatment, the centred chosen covariates and their interactions; sparse levels
are merged as the rule says; the cap holds; at the dry run's size it is estimable."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import estimators as est
from analysis import lin_rule as LR
from analysis.plan import load_plan
from analysis_fixtures import tidy_study


def _frame(rng, n=80):
    return pd.DataFrame(dict(
        programme="nursing", manager=np.where(np.arange(n) % 2, "trust", "control"),
        partner="same", psm=rng.normal(4, 1, n),
        gender=rng.choice(["woman", "man", "other"], size=n, p=[0.6, 0.37, 0.03]),
        age_band=rng.choice(["le21", "22_24", "25_29", "30_39"], size=n, p=[0.4, 0.35, 0.2, 0.05]),
        attractiveness=rng.normal(4, 1, n)))


def test_rule_merges_sparse_levels_and_respects_the_cap():
    rng = np.random.default_rng(1)
    d = _frame(rng)
    d.loc[:2, "gender"] = "other"
    d.loc[3:, "gender"] = d.loc[3:, "gender"].replace("other", "man")  # exactly 3 'other'
    t = (d.manager == "trust").to_numpy(float)
    X, entered, left = LR.rule_columns(d, t, ["psm"], ["gender", "age_band"], cap=3, min_level=5)
    # gender: 'other' (3 people) merged, then still < 5, so it joins the most common level
    # (woman): one column (man vs woman). psm 1 + gender 1 = 2 <= 3; age_band (3 columns)
    # would make 5 > 3: left out.
    assert entered == ["psm", "gender"]
    assert left[0].startswith("age_band")
    assert X.shape[1] == 2
    man = (d.gender == "man").to_numpy(float)
    assert np.array_equal(X[:, 1], man)


def test_lin_equals_statsmodels_hc2_with_the_chosen_columns():
    rng = np.random.default_rng(2)
    d = _frame(rng, n=200)
    row = LR.lin(d, "attractiveness", "manager", ["psm"], ["gender", "age_band"],
                 programmes=["nursing"], rule=dict(min_level=5, max_terms_share=0.1)).iloc[0]
    # cap = floor(0.1 * 100) = 10: psm, gender (levels by the rule), age_band all enter
    t = (d.manager == "trust").to_numpy(float)
    X, entered, _ = LR.rule_columns(d, t, ["psm"], ["gender", "age_band"], 10, 5)
    assert len(entered) == 3
    Xc = X - X.mean(axis=0)
    fit = sm.OLS(d.attractiveness.to_numpy(), np.column_stack(
        [np.ones(len(t)), t, Xc, Xc * t[:, None]])).fit(cov_type="HC2", use_t=True)
    assert row.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert row.std_error == pytest.approx(fit.bse[1], rel=1e-10)
    assert row.df == fit.df_resid


def test_a_level_small_in_one_arm_is_merged():
    rng = np.random.default_rng(3)
    d = _frame(rng, n=200)
    t = (d.manager == "trust").to_numpy(float)
    d["gender"] = np.where(np.arange(200) < 10, "other", "woman")
    d.loc[10:100, "gender"] = "man"
    d.loc[np.arange(200) < 10, "manager"] = ["trust"] * 9 + ["control"]  # 'other': 9 vs 1
    t = (d.manager == "trust").to_numpy(float)
    X, entered, _ = LR.rule_columns(d, t, [], ["gender"], 10, 5)
    assert X.shape[1] == 1  # 'other' joined the most common level: man vs the rest


def test_estimable_at_the_dry_run_size(tmp_path):
    tidy = tidy_study(n=200, seed=1, tmp_path=tmp_path)
    plan = load_plan()
    s = est.analysis_sample(tidy)
    new = LR.lin(s, "attractiveness", "manager", plan.numeric_covariates,
                 plan.categorical_covariates, rule=LR.rule_of(plan))
    assert np.isfinite(new.std_error).all(), new.note.tolist()
    cov = LR.lin_covariates(tidy, plan)
    assert (cov["columns"] <= cov["cap"]).all()
    assert "<h2>" in LR.lin_section(cov, lambda df: df.to_html())


def test_planned_terms_by_hand():
    plan = load_plan()
    pt = LR.planned_terms(plan).set_index("programme")
    n = plan.raw["design"]["n"]["management"]
    small = int(n * (1 - plan.raw["design"]["attrition"]) / 2)
    assert pt.loc["management", "smaller_arm"] == small
    assert pt.loc["management", "cap"] == int(0.1 * small)
    assert pt.loc["management", "columns"] <= pt.loc["management", "cap"]
    from analysis.prereg import render_markdown
    md = render_markdown(plan)
    assert LR.prereg_lines(plan)[0] in md


def test_design_diagnosis_applies_the_same_rule(tmp_path):
    from analysis.design import design_from_plan, diagnose, write_diagnosis
    plan = load_plan()
    design = design_from_plan(plan, n_per_programme=60, sims=20)
    diag, raw = diagnose(design)
    paths = write_diagnosis(diag, raw, design, tmp_path, plan)
    pt = pd.read_csv(paths["lin_terms"]).set_index("programme")
    small = int(60 * (1 - design.attrition) / 2)
    assert pt.loc["nursing", "smaller_arm"] == small and pt.loc["nursing", "cap"] == int(0.1 * small)
    assert "Lin's estimator at these sizes" in paths["html"].read_text()
